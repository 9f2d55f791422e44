"""`gnas features build`: embed a data set's item text once and cache it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from gnas.cli.common import DataDir, console, err_console, user_errors

app = typer.Typer(no_args_is_help=True, help="Language-model item features (embedded once, cached).")


@contextmanager
def text_progress() -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar on stderr for item-text encoding; yields the ``on_batch`` callback."""
    progress = Progress(
        TextColumn("[bold]embedding item text"),
        MofNCompleteColumn(),
        BarColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    task = progress.add_task("text", total=None)

    def on_batch(done: int, total: int) -> None:
        if not progress.live.is_started:
            progress.start()
        progress.update(task, completed=done, total=total)

    try:
        yield on_batch
    finally:
        progress.stop()


@app.command("build")
@user_errors
def build(
    dataset: Annotated[
        str, typer.Argument(help="A registered data set, or a train/search YAML whose dataset: to use.")
    ],
    model: Annotated[
        str | None, typer.Option(help="Model directory or cached hub name (default: the YAML's, or MiniLM).")
    ] = None,
    max_length: Annotated[int | None, typer.Option(help="Tokens per text (default 128).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Texts per batch (default 64).")] = None,
    rebuild: Annotated[bool, typer.Option(help="Encode again even if the cache has the features.")] = False,
    data_dir: DataDir = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
) -> None:
    """Embed the item text of DATASET once (progress bar) and cache it for every run and trial.

    With ``dataset.text.tags: train`` the YAML's split decides which tags are read, as in its runs.
    """
    from gnas.data.registry import load_dataset
    from gnas.data.split import split_interactions
    from gnas.spec import DatasetSpec, SplitSpec, load_yaml, parse_train_spec
    from gnas.text.build import item_features

    path = Path(dataset)
    split_spec = SplitSpec()
    if path.suffix in (".yaml", ".yml"):
        raw = load_yaml(path)
        parsed = parse_train_spec({k: raw[k] for k in ("dataset", "split") if raw.get(k)}, str(path))
        spec, split_spec = parsed.dataset, parsed.split
    else:
        spec = DatasetSpec(name=dataset)
    overrides = {"model": model, "max_length": max_length, "batch_size": batch_size}
    text = spec.text.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    data = load_dataset(spec, data_dir)
    source = split_interactions(data, split_spec) if text.tags == "train" else data
    with text_progress() as on_batch:
        built = item_features(source, text, device=device, rebuild=rebuild, on_batch=on_batch)
    rows, dim = built.features.matrix.shape
    origin = "from the cache" if built.cached else f"{built.texts} texts embedded"
    console.print(f"{built.path}")
    console.print(f"shape {rows} x {dim} ({origin}) in {built.seconds:.1f} s")

"""The ``gnas`` command line: a thin typer layer over the Python API."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gnas.errors import GnasError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Graph neural architecture search for recommender systems.",
)
datasets_app = typer.Typer(no_args_is_help=True, help="List, describe and split data sets.")
app.add_typer(datasets_app, name="datasets")
space_app = typer.Typer(no_args_is_help=True, help="Validate, show and sample search spaces.")
app.add_typer(space_app, name="space")
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Folder holding <dataset>/ (default: $GNAS_DATA_DIR).")
]


def user_errors(command: F) -> F:
    """Print a GnasError as one line on stderr and exit 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GnasError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@user_errors
def train(
    config: Annotated[Path, typer.Argument(help="YAML with dataset, split, training and architecture.")],
    data_dir: DataDir = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[int | None, typer.Option(help="Overrides the YAML's seed.")] = None,
    out: Annotated[Path, typer.Option(help="Folder that receives the run folder.")] = Path("runs"),
    name: Annotated[str | None, typer.Option(help="Run name (default: the YAML's name).")] = None,
) -> None:
    """Train one architecture, early-stop on validation, score test once and save the run."""
    from gnas.runs import check_run_name
    from gnas.spec import load_train_spec
    from gnas.train import train as run_training

    spec = load_train_spec(config)
    if seed is not None:
        spec = spec.model_copy(update={"seed": seed})
    if name is not None:
        spec = spec.model_copy(update={"name": check_run_name(name)})
    metric = spec.training.metric
    progress = Progress(
        TextColumn("[bold]epoch"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err_console,
    )
    task = progress.add_task("train", total=spec.training.max_epochs, status="", start=False)
    best = float("-inf")

    def on_epoch(log: Any) -> None:
        nonlocal best
        if not progress.live.is_started:  # only once data and model are ready: errors stay one line
            progress.start()
            progress.start_task(task)
        if log.valid is not None:
            best = max(best, log.valid[metric])
        shown = f"valid {metric} {best:.4f}" if best > float("-inf") else ""
        progress.update(task, completed=log.epoch, status=f"loss {log.loss:.4f}  {shown}")

    try:
        outcome = run_training(spec, data_dir=data_dir, device=device, out=out, on_epoch=on_epoch)
    finally:
        progress.stop()
    table = Table(title=f"{spec.name}: best epoch {outcome.fit.best_epoch} ({outcome.fit.stop_reason})")
    table.add_column("metric")
    table.add_column("valid", justify="right")
    table.add_column("test", justify="right")
    for key in outcome.test:
        if "@" in key:
            table.add_row(key, f"{outcome.valid[key]:.4f}", f"{outcome.test[key]:.4f}")
    console.print(table)
    console.print(f"saved to {outcome.run_dir}")


@datasets_app.command("list")
def datasets_list() -> None:
    """The registered data sets."""
    from gnas.data.registry import DATASETS

    table = Table("name", "format", "description")
    for name, info in DATASETS.items():
        table.add_row(name, info.format, info.description)
    console.print(table)


@datasets_app.command("info")
@user_errors
def datasets_info(
    name: Annotated[str, typer.Argument(help="A registered data set.")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Size, density and interactions per user of a data set."""
    from gnas.data.registry import dataset_summary, load_dataset
    from gnas.spec import DatasetSpec

    summary = dataset_summary(load_dataset(DatasetSpec(name=name), data_dir))
    if as_json:
        console.print_json(json.dumps(summary, default=str))
        return
    table = Table("property", "value", title=name)
    for key, value in summary.items():
        table.add_row(key, _format_value(value))
    console.print(table)


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


@datasets_app.command("split")
@user_errors
def datasets_split(
    name: Annotated[str, typer.Argument(help="A registered data set.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for train/valid/test CSVs.")],
    seed: Annotated[int, typer.Option(help="Split seed.")] = 2020,
    method: Annotated[
        str,
        typer.Option(
            help="auto (fixed if the data set ships a split, else random), random, temporal, fixed, cold_item"
        ),
    ] = "auto",
    ratios: Annotated[str, typer.Option(help="train,valid,test shares.")] = "0.8,0.1,0.1",
    cold_fraction: Annotated[float, typer.Option(help="Share of items held out (cold_item).")] = 0.1,
    data_dir: DataDir = None,
) -> None:
    """Write the split gnas would use, with the original ids, so other tools can use the same data."""
    from gnas.data.registry import load_dataset
    from gnas.data.split import split_interactions, write_split_csv
    from gnas.spec import DatasetSpec, parse_train_spec

    try:
        shares = [float(part) for part in ratios.split(",")]
    except ValueError:
        raise GnasError(f"--ratios: {ratios!r} is not three comma-separated numbers") from None
    split_spec = parse_train_spec(
        {"split": {"method": method, "ratios": shares, "seed": seed, "cold_fraction": cold_fraction}},
        "command line",
    ).split
    split = split_interactions(load_dataset(DatasetSpec(name=name), data_dir), split_spec)
    for path in write_split_csv(split, output):
        console.print(f"wrote {path}")
    console.print(", ".join(f"{part}: {size:,}" for part, size in split.sizes().items()))


@space_app.command("validate")
@user_errors
def space_validate(
    file: Annotated[Path, typer.Argument(help="Search file: dataset, split, training and space.")],
) -> None:
    """Check a search file: one line per problem (naming its YAML path) and exit 2, or a short OK."""
    from gnas.space import SpaceError, count_architectures, format_count, load_search_file

    try:
        search = load_search_file(file)
    except SpaceError as exc:
        for line in exc.lines():
            err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    space = search.space
    varying = sum(
        space.is_varying(param) for param in space.globals + (space.layers[0] if space.layers else ())
    )
    console.print(
        f"OK {file}: {varying} varying dimensions, up to {space.max_layers} layers, "
        f"{format_count(count_architectures(space))} distinct architectures",
        highlight=False,
        soft_wrap=True,
    )


@space_app.command("show")
@user_errors
def space_show(
    file: Annotated[Path, typer.Argument(help="Search file.")],
    seed: Annotated[int | None, typer.Option(help="Seed of the samples (default: the file's seed).")] = None,
    samples: Annotated[
        int, typer.Option("-n", "--samples", help="How many sampled architectures to show.")
    ] = 3,
) -> None:
    """The dimensions with their conditions, the number of distinct architectures and a few samples."""
    from gnas.space import (
        count_architectures,
        decode,
        dimension_rows,
        format_count,
        load_search_file,
        sample_distinct,
        summarize,
    )

    search = load_search_file(file)
    table = Table("dimension", "values", "when", "size", title=f"{search.name}: {file}")
    for row in dimension_rows(search.space):
        table.add_row(*(escape(cell) for cell in (row.dimension, row.values, row.when, row.size)))
    console.print(table)
    count = format_count(count_architectures(search.space))
    console.print(f"distinct architectures: {count}", highlight=False)
    chosen = seed if seed is not None else search.seed
    console.print(f"samples (seed {chosen}):", highlight=False)
    for index, genotype in enumerate(sample_distinct(search.space, chosen, samples), start=1):
        console.print(
            f"  {index}. {summarize(decode(search.space, genotype))}", highlight=False, soft_wrap=True
        )


@space_app.command("sample")
@user_errors
def space_sample(
    file: Annotated[Path, typer.Argument(help="Search file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="New (or empty) folder for the YAML files.")],
    num: Annotated[int, typer.Option("-n", "--num", help="How many different architectures.")] = 5,
    seed: Annotated[int | None, typer.Option(help="Sampling seed (default: the file's seed).")] = None,
) -> None:
    """Write sampled architectures, one complete `gnas train` YAML each."""
    from gnas.space import load_search_file, write_samples

    search = load_search_file(file)
    written = write_samples(search, output, num, seed if seed is not None else search.seed)
    for path, _ in written:
        console.print(f"wrote {path}", highlight=False, soft_wrap=True)
    if len(written) < num:
        console.print(f"the space holds only {len(written)} different architectures", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""`gnas train`: one architecture, early-stopped on validation, test scored once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gnas.cli.common import DataDir, console, err_console, user_errors
from gnas.cli.features import text_progress


@user_errors
def train(
    config: Annotated[
        Path, typer.Argument(help="YAML with dataset, split, training and an architecture or a baseline.")
    ],
    data_dir: DataDir = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    seed: Annotated[int | None, typer.Option(help="Overrides the YAML's seed.")] = None,
    out: Annotated[Path, typer.Option(help="Folder that receives the run folder.")] = Path("runs"),
    name: Annotated[
        str | None, typer.Option(help="Run folder name under --out (default: the YAML's name + time).")
    ] = None,
) -> None:
    """Train one architecture (early-stopped on validation) or fit a baseline's grid (chosen on
    validation), score test once and save the run."""
    from gnas.runs import check_run_name
    from gnas.spec import load_train_spec
    from gnas.train import train as run_training

    spec = load_train_spec(config)
    seed_changed = seed is not None and seed != spec.seed
    if seed is not None:
        spec = spec.model_copy(update={"seed": seed})
    if name is not None:
        spec = spec.model_copy(update={"name": check_run_name(name)})
    if spec.baseline is not None:
        _train_baseline(spec, data_dir=data_dir, device=device, out=out, name=name)
        return
    metric = spec.training.metric
    progress = Progress(
        TextColumn("[bold]epoch"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,  # the summary table replaces the bar; an error stays a single line
    )
    task = progress.add_task("train", total=spec.training.max_epochs, status="", start=False)
    best = float("-inf")

    def on_start() -> None:  # only once data and model are ready: errors stay one line
        progress.start()
        progress.start_task(task)

    def on_epoch(log: Any) -> None:
        nonlocal best
        if log.valid is not None:
            best = max(best, log.valid[metric])
        shown = f"valid {metric} {best:.4f}" if best > float("-inf") else ""
        progress.update(task, completed=log.epoch, status=f"loss {log.loss:.4f}  {shown}")

    try:
        with text_progress() as on_text:
            outcome = run_training(
                spec,
                data_dir=data_dir,
                device=device,
                out=out,
                on_epoch=on_epoch,
                on_start=on_start,
                name=name,
                on_text=on_text,
            )
    finally:
        progress.stop()
    searched = (spec.search_result or {}).get("valid", {})
    table = Table(title=f"{spec.name}: best epoch {outcome.fit.best_epoch} ({outcome.fit.stop_reason})")
    table.add_column("metric")
    table.add_column("valid", justify="right")
    if searched:
        table.add_column("valid in the search", justify="right")
    table.add_column("test", justify="right")
    for key in outcome.test:
        if "@" in key:
            row = [key, f"{outcome.valid[key]:.4f}"]
            if searched:
                row.append(f"{searched[key]:.4f}" if key in searched else "")
            table.add_row(*row, f"{outcome.test[key]:.4f}")
    console.print(table)
    if spec.search_result is not None:
        for note in comparison_notes(spec.search_result, outcome.device, seed_changed):
            console.print(f"note: {note}")
    if outcome.cold_start is not None:
        console.print(_cold_start_table(outcome.cold_start, metric))
    console.print(f"saved to {outcome.run_dir}")


def _train_baseline(spec: Any, *, data_dir: Path | None, device: str, out: Path, name: str | None) -> None:
    """Fit a baseline's grid with one progress line per point, then its valid/test table."""
    from gnas.baselines.run import train_baseline

    metric = spec.training.metric

    def on_point(index: int, count: int, point: Any) -> None:
        shown = " ".join(f"{k}={v:g}" for k, v in point.params.items()) or "no hyperparameters"
        err_console.print(
            f"{spec.baseline.model} [{index + 1}/{count}] {shown}: valid {metric} "
            f"{point.valid[metric]:.4f} ({point.seconds:.1f} s)",
            highlight=False,
        )

    outcome = train_baseline(spec, data_dir=data_dir, device=device, out=out, name=name, on_point=on_point)
    result = outcome.result
    chosen = " ".join(f"{k}={v:g}" for k, v in result.params.items())
    among = f" among {len(result.grid)} points" if len(result.grid) > 1 else ""
    title = f"{spec.baseline.model}{' ' + chosen if chosen else ''}"
    caption = f"chosen on valid {metric}{among}" if chosen else "no hyperparameters"
    table = Table(title=title, caption=caption)
    for column in ("metric", "valid", "test"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key, value in (result.test or {}).items():
        if "@" in key:
            table.add_row(key, f"{result.valid[key]:.4f}", f"{value:.4f}")
    console.print(table)
    console.print(f"fit and scored in {result.seconds:.1f} s on {outcome.device}; saved to {outcome.run_dir}")


def comparison_notes(search_result: dict[str, Any], device: str, seed_changed: bool) -> list[str]:
    """Why this run's validation need not match the search's: another kind of device, another seed,
    or a search trial trained with a smaller budget than this run's."""
    notes = []
    searched_on = search_result.get("device")
    if searched_on is not None and searched_on != device:
        notes.append(
            f"the search trained this architecture on {searched_on}, this run on {device}; "
            "CPU and CUDA runs differ"
        )
    if seed_changed:
        notes.append("--seed differs from the search's seed")
    if "budget" in search_result:
        notes.append(f"the search trained this trial with a smaller budget ({search_result['budget']})")
    return notes


def _cold_start_table(report: dict[str, Any], metric: str) -> Table:
    """Warm, cold and all items, valid and test, for the model and the popularity baseline."""
    name, k = metric.split("@")
    shown = [metric] if name == "recall" else [metric, f"recall@{k}"]
    table = Table(title="cold start (warm: ranked among warm items; cold: among cold items)")
    table.add_column("part")
    table.add_column("items")
    for key in shown:
        table.add_column(key, justify="right")
        table.add_column(f"{key} popularity", justify="right")
    for part, result in report.items():
        for segment, metrics in result["model"].items():
            baseline = result["popularity"][segment]
            values = [f"{source[key]:.4f}" for key in shown for source in (metrics, baseline)]
            table.add_row(part, segment, *values)
    return table

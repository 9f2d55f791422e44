"""`gnas search`: evolve (or sample) architectures of a search file, with live progress and a leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from gnas.cli.common import DataDir, console, err_console, user_errors
from gnas.errors import GnasError


@user_errors
def search(
    file: Annotated[Path, typer.Argument(help="Search file: dataset, split, training, space and search.")],
    controller: Annotated[
        str | None, typer.Option(help="Overrides search.controller: evolution (default), optuna or random.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Run name (default: the file's name).")] = None,
    out: Annotated[Path, typer.Option(help="Folder that receives the run folder.")] = Path("runs"),
    seed: Annotated[int | None, typer.Option(help="Overrides the file's seed.")] = None,
    max_trials: Annotated[int | None, typer.Option(min=1, help="Overrides search.max_trials.")] = None,
    time_budget: Annotated[str | None, typer.Option(help="Overrides search.time_budget, e.g. 30m.")] = None,
    data_dir: DataDir = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
) -> None:
    """Search the space; every trial goes to runs/<name>-<time>/trials.jsonl, the winner to best.yaml."""
    from gnas.search.objectives import Objectives
    from gnas.search.run import SearchProgress
    from gnas.search.run import search as run_search
    from gnas.search.settings import SearchSettings
    from gnas.space import decode, load_search_file, summarize
    from gnas.spec import describe_validation_error

    file_spec = load_search_file(file)
    overrides: dict[str, object] = {}
    if controller is not None:
        overrides["controller"] = controller
    if max_trials is not None:
        overrides["max_trials"] = max_trials
    if time_budget is not None:
        overrides["time_budget"] = time_budget
    try:
        settings = SearchSettings.model_validate({**file_spec.search.model_dump(), **overrides})
    except ValidationError as exc:
        raise GnasError(describe_validation_error(exc, "search").replace("search: ", "search.", 1)) from None
    primary = settings.objectives[0].metric

    progress = Progress(
        TextColumn("[bold]{task.fields[stage]}"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,  # the summary table replaces the bar; an error stays a single line
    )
    task = progress.add_task("search", total=settings.max_trials, stage="trials", status="", start=False)

    def on_trial(event: SearchProgress) -> None:
        if not progress.live.is_started:
            progress.start()
            progress.start_task(task)
        stage = "trials" if event.generation is None else f"gen {event.generation} trials"
        status = f"{event.failed} failed" if event.failed else ""
        if event.best is not None:
            arch = summarize(decode(file_spec.space, event.best.candidate.genotype))
            status += f"  best {primary} {event.best.result.values[0]:.4f} ({escape(arch)})"
        progress.update(task, completed=event.done, stage=stage, status=status)

    try:
        outcome = run_search(
            file_spec,
            settings,
            data_dir=data_dir,
            device=device,
            out=out,
            name=name,
            seed=seed,
            on_trial=on_trial,
        )
    finally:
        progress.stop()

    objectives = Objectives.from_specs(settings.objectives)
    shown = [*objectives.names, *(name for name in ("params", "epochs") if name not in objectives.names)]
    table = Table(title=f"{outcome.run_dir.name}: stopped by {outcome.stop_reason}")
    for column in ("rank", "trial", *shown, "architecture"):
        table.add_column(column)
    for rank, record in enumerate(outcome.leaderboard(objectives, top=10), start=1):
        figures = {**record.result.metrics, "epochs": record.result.epochs}
        cells = [
            f"{figures[name]:.4f}" if abs(figures[name]) < 1e4 else f"{figures[name]:,.0f}" for name in shown
        ]
        arch = escape(summarize(decode(file_spec.space, record.candidate.genotype)))
        table.add_row(str(rank), str(record.candidate.trial), *cells, arch)
    console.print(table)
    console.print(f"trials: {outcome.run_dir / 'trials.jsonl'}", highlight=False, soft_wrap=True)
    if (outcome.run_dir / "best.yaml").exists():
        console.print(f"best: {outcome.run_dir / 'best.yaml'}  (retrain: gnas train FILE)", highlight=False)
    else:
        console.print("no trial finished: nothing to export", highlight=False)


def _cell(value: float) -> str:
    """Metrics with 4 decimals; counts (params, epochs) as whole numbers."""
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 1e4 else f"{value:.4f}"

"""`gnas search`: evolve (or sample) architectures of a search file, with live progress and a leaderboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from gnas.cli.common import (
    EXIT_WORKERS_LOST,
    DataDir,
    console,
    err_console,
    print_error,
    rich_table,
    user_errors,
)
from gnas.errors import GnasError
from gnas.execution.base import WorkersLost


@user_errors
def search(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Search file: dataset, split, training, space and search (with --resume: optional)."
        ),
    ] = None,
    resume: Annotated[
        Path | None, typer.Option(help="Continue the search in this run folder where it stopped.")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="With --resume: go on although FILE or the flags change the search.")
    ] = False,
    controller: Annotated[
        str | None,
        typer.Option(help="Overrides search.controller: evolution (default), regularized, optuna or random."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Run folder name under --out (default: the file's name + time).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder that receives the run folder (default: runs).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Overrides the file's seed.")] = None,
    max_trials: Annotated[int | None, typer.Option(min=1, help="Overrides search.max_trials.")] = None,
    time_budget: Annotated[str | None, typer.Option(help="Overrides search.time_budget, e.g. 30m.")] = None,
    data_dir: DataDir = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    tensorboard: Annotated[
        bool,
        typer.Option(help="Also write each trial's loss and validation curves to RUN/tensorboard."),
    ] = False,
    executor: Annotated[
        str | None,
        typer.Option(help="ray (default: trials on Ray workers, see workers:) or inline (in process)."),
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option(help="Join this Ray cluster (auto or host:port) instead of a local one.")
    ] = None,
) -> None:
    """Search the space; every trial goes to runs/<name>/trials.jsonl, the winner to best.yaml.

    A stopped or killed search goes on with --resume RUN (same trials as if it had never stopped).
    """
    from gnas.report.baselines import baseline_verdict, baselines_table
    from gnas.report.document import final_table, leaderboard_table
    from gnas.report.final_stage import final_rows, final_verdict
    from gnas.report.leaderboard import leaderboard_rows
    from gnas.search.objectives import Objectives
    from gnas.search.resume import resume as resume_search
    from gnas.search.run import SearchProgress
    from gnas.search.run import search as run_search
    from gnas.search.runfolder import spec_search_file
    from gnas.space import decode, load_search_file, summarize
    from gnas.spec import BaselineSpec

    if resume is not None and (name is not None or seed is not None or out is not None):
        raise GnasError("--resume continues RUN in place with its own seed: drop --name, --out and --seed")
    if force and resume is None:
        raise GnasError("--force only applies with --resume")
    if file is not None:
        file_spec = load_search_file(file)
    elif resume is not None:
        file_spec = spec_search_file(resume)
    else:
        raise GnasError("give a search file, or --resume RUN to continue a search")
    settings = file_spec.search.with_overrides(
        controller=controller, max_trials=max_trials, time_budget=time_budget
    )
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

    def start_progress() -> None:
        if not progress.live.is_started:
            progress.start()
            progress.start_task(task)

    def on_baseline(spec: BaselineSpec) -> None:
        start_progress()
        progress.update(task, stage="baselines", status=f"fitting {spec.model} beside the search")

    def on_trial(event: SearchProgress) -> None:
        start_progress()
        if event.stage == "final":
            run = event.record.candidate
            status = f"full budget, seed {run.seed}: {escape(run.origin)}"
            progress.update(task, completed=event.done, total=event.total, stage="final stage", status=status)
            return
        stage = "trials" if event.generation is None else f"gen {event.generation} trials"
        status = f"{event.failed} failed" if event.failed else ""
        if event.best is not None:
            arch = summarize(decode(file_spec.space, event.best.candidate.genotype))
            status += f"  best {primary} {event.best.result.values[0]:.4f} ({escape(arch)})"
        progress.update(task, completed=event.done, stage=stage, status=status)

    try:
        if resume is not None:
            outcome = resume_search(
                resume,
                file=file_spec if file is not None else None,
                force=force,
                controller=controller,
                max_trials=max_trials,
                time_budget=time_budget,
                data_dir=data_dir,
                device=device,
                on_trial=on_trial,
                tensorboard=tensorboard,
                executor=executor,
                ray_address=ray_address,
                on_baseline=on_baseline,
            )
        else:
            outcome = run_search(
                file_spec,
                settings,
                data_dir=data_dir,
                device=device,
                out=out or Path("runs"),
                name=name,
                seed=seed,
                on_trial=on_trial,
                tensorboard=tensorboard,
                executor=executor,
                ray_address=ray_address,
                on_baseline=on_baseline,
            )
    except WorkersLost as exc:  # the run folder is kept and resumes: not a bad input (exit 2)
        progress.stop()
        print_error(str(exc))
        raise typer.Exit(EXIT_WORKERS_LOST) from None
    finally:
        progress.stop()

    objectives = Objectives.from_specs(settings.objectives)
    shown = leaderboard_table(
        leaderboard_rows(outcome.records, objectives, 10, space=file_spec.space, final=outcome.final),
        objectives,
    )
    console.print(rich_table(shown, f"{outcome.run_dir.name}: stopped by {outcome.stop_reason}"))
    if outcome.final:
        title = f"final stage: full budget, {settings.final.seeds} seed(s) each, validation {primary}"
        console.print(rich_table(final_table(final_rows(outcome.final), objectives), title))
    best = outcome.best.candidate.trial if outcome.best is not None else None
    for line in final_verdict(outcome.final, objectives, best):
        console.print(line, highlight=False, soft_wrap=True)
    if outcome.baselines:
        title = "baselines on the same split (fit on train, chosen on validation)"
        console.print(rich_table(baselines_table(outcome.baselines, primary), title))
    for line in [
        *baseline_verdict(outcome.baselines, outcome.final, outcome.best, objectives),
        *outcome.baselines_skipped,
    ]:
        console.print(line, highlight=False, soft_wrap=True)
    if settings.final.top_k and settings.trial_budget is None:
        console.print(
            "note: no search.trial_budget, so the trials and the final stage both trained the training: "
            "budget; set search.trial_budget (e.g. {max_epochs: 30, patience: 5}) and give training: the "
            "full budget",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"trials: {outcome.run_dir / 'trials.jsonl'}", highlight=False, soft_wrap=True)
    if (outcome.run_dir / "best.yaml").exists():
        console.print(f"best: {outcome.run_dir / 'best.yaml'}  (retrain: gnas train FILE)", highlight=False)
    else:
        console.print("no trial finished: nothing to export", highlight=False)

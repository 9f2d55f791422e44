"""``gnas search``: load the data once, let a controller propose architectures, train each on train
at the screening budget, score it on validation, log every trial, retrain the best at the full budget
with several seeds (the final stage, ``gnas.search.final``), and write the leaderboard and the winner.

Test data is never loaded into a search: choosing is done on validation only; ``gnas train`` on the
exported ``best.yaml`` scores test once.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from gnas import threads
from gnas.data.graph import TrainGraph
from gnas.data.interactions import TRAIN, VALID
from gnas.data.split import Split
from gnas.device import resolve_device
from gnas.errors import GnasError
from gnas.execution.base import WorkersLost
from gnas.report.final_stage import final_rows
from gnas.report.leaderboard import leaderboard_rows
from gnas.runs import new_run_path, run_lock, write_text
from gnas.search.baselines import (
    BaselinePlan,
    BaselineScore,
    baselines_frame,
    baselines_of_run,
    plan_baselines,
)
from gnas.search.budgets import screening_training
from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.checkpoint import Checkpoint
from gnas.search.controllers.base import Controller
from gnas.search.controllers.registry import build_controller
from gnas.search.driver import DriveState, drive
from gnas.search.executors import build_executor, executor_name
from gnas.search.export import Choice, final_choice, trial_yaml
from gnas.search.final import FinalRun, Standing, plan, run_final_stage, standings, winner
from gnas.search.objectives import Objectives
from gnas.search.observers import require_tensorboard, trial_observers
from gnas.search.ranking import leaderboard
from gnas.search.runfolder import SPEC
from gnas.search.runlog import TRIALS, RunLog, TrialRecord
from gnas.search.settings import COST_METRICS, SearchSettings
from gnas.search.trial import TrialContext
from gnas.space import SearchFile, architecture_mapping, decode
from gnas.spec import BaselineSpec
from gnas.text.build import item_features
from gnas.text.features import ItemFeatures
from gnas.train import prepare_graph, versions
from gnas.training.evaluators import ranking_evaluator
from gnas.training.metrics import RankingEvaluator, parse_metric

OnTrial = Callable[["SearchProgress"], None]
OnBaseline = Callable[[BaselineSpec], None]


@dataclass
class SearchProgress:
    """What a progress display needs after each trial."""

    record: TrialRecord
    done: int
    failed: int
    best: TrialRecord | None
    elapsed: float
    generation: int | None = None
    stage: str = "search"  # "final": ``record`` is a final-stage run, ``done`` of ``total`` runs
    total: int | None = None


@dataclass
class SearchOutcome:
    """A finished (or stopped) search: its folder, every trial so far, the best screening trial, why
    the loop stopped, and the final stage's standings (best mean first; empty when it did not run)."""

    run_dir: Path
    records: list[TrialRecord] = field(default_factory=list)
    best: TrialRecord | None = None
    stop_reason: str = ""
    final: list[Standing] = field(default_factory=list)
    baselines: list[BaselineScore] = field(default_factory=list)
    baselines_skipped: list[str] = field(default_factory=list)

    @property
    def winner(self) -> Standing | None:
        """The final stage's winner (None: the stage is off, unfinished or had no complete entry)."""
        return winner(self.final)

    def leaderboard(self, objectives: Objectives, top: int | None = None) -> list[TrialRecord]:
        """Finished full-budget trials, best primary objective first (lower-budget ones if none ran)."""
        ranked = leaderboard(self.records, objectives)
        return ranked[:top] if top else ranked


def for_objectives(file: SearchFile, objectives: Objectives, seed: int) -> SearchFile:
    """Evaluate every objective's K, early-stop trials on the primary objective when it is a ranking
    metric, and record the search's seed (``best.yaml`` retrains with it)."""
    ks = set(file.training.ks)
    for name in objectives.names:
        if name not in COST_METRICS:
            ks.add(parse_metric(name)[1])
    update: dict[str, object] = {"ks": sorted(ks)}
    if objectives.primary.metric not in COST_METRICS:
        update["metric"] = objectives.primary.metric
    return dataclasses.replace(file, seed=seed, training=file.training.model_copy(update=update))


def _write_summary(outcome: SearchOutcome, file: SearchFile, objectives: Objectives) -> None:
    rows = leaderboard_rows(outcome.records, objectives, space=file.space, final=outcome.final)
    frame = pd.DataFrame([row.as_dict(objectives) for row in rows])
    write_text(outcome.run_dir / "leaderboard.csv", frame.to_csv(index=False))
    if outcome.final:
        table = pd.DataFrame([row.as_dict(objectives) for row in final_rows(outcome.final)])
        write_text(outcome.run_dir / "final.csv", table.to_csv(index=False))
    if outcome.baselines:
        frame = pd.DataFrame(baselines_frame(outcome.baselines))
        write_text(outcome.run_dir / "baselines.csv", frame.to_csv(index=False))
    ranked = outcome.leaderboard(objectives, top=1)
    won = outcome.winner
    if won is not None:
        choice = final_choice(file, won)
    elif ranked:
        choice = Choice(ranked[0], f"{file.name}-best", f"best by validation {objectives.primary.metric}")
    else:
        return
    write_text(outcome.run_dir / "best.yaml", trial_yaml(file, outcome.run_dir.name, choice, objectives))


def resolved_spec(file: SearchFile, settings: SearchSettings) -> dict[str, Any]:
    """What ``spec.yaml`` records: the whole search as it runs, with the versions that ran it."""
    return {
        "name": file.name,
        "seed": file.seed,
        "source": file.source,
        "dataset": file.dataset.model_dump(mode="json"),
        "split": file.split.model_dump(mode="json"),
        "training": file.training.model_dump(mode="json"),
        "space": file.space_data,
        "search": {**settings.model_dump(mode="json"), "optuna": settings.optuna.shown()},
        "workers": file.workers.model_dump(mode="json"),
        "versions": versions(),
        "threads": threads.current().record(),
    }


def search(
    file: SearchFile,
    settings: SearchSettings,
    *,
    data_dir: Path | None = None,
    device: str = "auto",
    out: Path = Path("runs"),
    name: str | None = None,
    seed: int | None = None,
    on_trial: OnTrial | None = None,
    tensorboard: bool = False,
    executor: str | None = None,
    ray_address: str | None = None,
    on_baseline: OnBaseline | None = None,
) -> SearchOutcome:
    """Run a whole search in a new run folder (``out/<name>``, or ``out/<file name>-<time>``) and
    return its trials, best trial and why it stopped (``tensorboard``: curves in ``RUN/tensorboard``;
    ``on_baseline`` is told each baseline as its fit starts)."""
    if tensorboard:
        require_tensorboard()
    objectives = Objectives.from_specs(settings.objectives, settings.constraints)
    file = for_objectives(file, objectives, file.seed if seed is None else seed)
    run_path = new_run_path(out, name or file.name, exact=name is not None)
    data = SearchData.load(file, data_dir, device, executor)
    baselines = plan_baselines(settings.baselines, data.split, file.training)
    try:
        run_path.mkdir(parents=True)
    except FileExistsError:
        raise GnasError(f"--name: {run_path} already exists; choose another name") from None
    with run_lock(run_path):
        try:
            controller = build_controller(settings, file.space, objectives, file.seed, Budget(), run_path)
            write_text(run_path / SPEC, yaml.safe_dump(resolved_spec(file, settings), sort_keys=False))
            RunLog(run_path).close()  # an empty trials.jsonl marks a search run folder from the start
            Checkpoint.now(controller.state_dict(), 0.0).write(run_path)
        except BaseException:
            shutil.rmtree(run_path, ignore_errors=True)
            raise
        session = Session(
            file, settings, objectives, controller, run_path, tensorboard=tensorboard, baselines=baselines
        )
        try:
            return run_session(
                session,
                data,
                on_trial,
                executor=executor,
                device=device,
                ray_address=ray_address,
                on_baseline=on_baseline,
            )
        except BaseException as exc:
            empty = not (run_path / TRIALS).stat().st_size
            if empty and not isinstance(exc, WorkersLost):  # e.g. workers that could not start: no run
                shutil.rmtree(run_path, ignore_errors=True)
            raise


@dataclass(frozen=True)
class SearchData:
    """The training graph and the validation evaluator, on the search's device (no test data), and the
    item text features when the space can fuse text (computed or read from the cache once, here)."""

    graph: TrainGraph
    valid: RankingEvaluator
    split: Split
    text: ItemFeatures | None = None

    @classmethod
    def load(
        cls, file: SearchFile, data_dir: Path | None, device: str, executor: str | None = None
    ) -> SearchData:
        """Load, split and check the data (before anything is written); kept on the CPU for Ray, whose
        workers place it on their own devices. Item text is encoded on ``device`` either way."""
        torch_device = resolve_device("cpu" if executor_name(executor) == "ray" else device)
        split, graph = prepare_graph(file.dataset, file.split, data_dir)
        threads.configure(work=len(graph.train_user))  # this process's (the inline executor's) threads
        valid = ranking_evaluator(split, VALID, (TRAIN,), file.training, torch_device)
        text = None
        if file.space.may_fuse_text():
            text = item_features(split, file.dataset.text, device=device).features
        return cls(graph.to(torch_device), valid, split, text)


@dataclass
class Session:
    """A search ready to run: new, or restored from its run folder (``records`` and ``elapsed`` so far)."""

    file: SearchFile
    settings: SearchSettings
    objectives: Objectives
    controller: Controller
    run_path: Path
    records: list[TrialRecord] = field(default_factory=list)
    elapsed: float = 0.0
    tensorboard: bool = False
    stopped: str = ""  # why the search loop ended before a resume (then only the final stage is left)
    baselines: BaselinePlan = field(default_factory=lambda: BaselinePlan(()))


def _resumable(exc: WorkersLost, run_path: Path, records: list[TrialRecord]) -> WorkersLost:
    """The loss, with what was kept and how to go on."""
    kept = sum(record.cached_from is None for record in records)
    return WorkersLost(
        f"{exc}; the {kept} finished trial(s) are kept in {run_path / TRIALS}; once Ray is back, "
        f"go on with: gnas search --resume {run_path}"
    )


def run_session(
    session: Session,
    data: SearchData,
    on_trial: OnTrial | None,
    *,
    executor: str | None = None,
    device: str = "auto",
    ray_address: str | None = None,
    on_baseline: OnBaseline | None = None,
) -> SearchOutcome:
    """Drive the session's controller to a stop, logging every trial and checkpointing every change,
    then run the final stage on the same executor; ``executor`` (ray or inline), ``device`` and
    ``ray_address`` say where trials run."""
    file, settings, objectives = session.file, session.settings, session.objectives
    controller = session.controller
    screening = screening_training(file.training, settings.trial_budget)
    context = TrialContext(
        file.space,
        objectives,
        data.graph,
        data.valid,
        screening,
        file.seed,
        text=data.text,
        final_training=file.training,
    )
    outcome = SearchOutcome(session.run_path, list(session.records))
    outcome.baselines, outcome.baselines_skipped = baselines_of_run(
        session.run_path, session.baselines, data.split, file.training, seed=file.seed, on_fit=on_baseline
    )
    outcome.best = next(iter(outcome.leaderboard(objectives, top=1)), None)
    state = DriveState(stop_reason=session.stopped)
    for record in outcome.records:
        if record.cached_from is None:
            key = (record.candidate.genotype, record.candidate.budget)
            state.cache.setdefault(key, (record.candidate.trial, record.result))
            state.trained += 1
    logged = {r.candidate.trial: (r.candidate, r.result) for r in outcome.records}
    try:
        runner = build_executor(
            executor_name(executor),
            context,
            controller,
            settings,
            file.workers,
            device=device,
            ray_address=ray_address,
            run_path=session.run_path,
        )
    except WorkersLost as exc:  # the cluster died while the workers started
        raise _resumable(exc, session.run_path, outcome.records) from None
    log = RunLog(session.run_path)
    observers = trial_observers(  # study.db for optuna-dashboard; TensorBoard curves
        session.run_path, controller, objectives, file, session.tensorboard, past=session.records
    )
    started = time.monotonic() - session.elapsed

    def on_result(candidate: Candidate, result: TrialResult, cached_from: int | None) -> None:
        arch = architecture_mapping(decode(file.space, candidate.genotype))
        record = TrialRecord(candidate, result, arch, cached_from, round(time.monotonic() - started, 3))
        log.append(record)
        for observe in observers:
            observe(record)
        outcome.records.append(record)
        if result.status == "ok" and cached_from is None:
            outcome.best = next(iter(outcome.leaderboard(objectives, top=1)), None)
        if on_trial is not None:
            fresh = [r for r in outcome.records if r.cached_from is None]
            on_trial(
                SearchProgress(
                    record,
                    done=len(fresh),
                    failed=sum(r.result.status == "failed" for r in fresh),
                    best=outcome.best,
                    elapsed=time.monotonic() - started,
                    generation=getattr(controller, "generation", None),
                )
            )

    def checkpoint() -> None:
        Checkpoint.now(controller.state_dict(), time.monotonic() - started).write(session.run_path)

    deadline = None if settings.time_budget is None else started + settings.time_budget
    try:
        state = drive(
            controller,
            runner,
            max_trials=settings.max_trials,
            deadline=deadline,
            state=state,
            logged=logged,
            on_result=on_result,
            on_change=checkpoint,
        )
        outcome.stop_reason = state.stop_reason
        elapsed = time.monotonic() - started
        Checkpoint.now(controller.state_dict(), elapsed, stopped=state.stop_reason).write(session.run_path)
        entries = plan(outcome.records, file, settings, objectives)

        def on_run(run: FinalRun, done: int, total: int) -> None:
            if on_trial is not None:
                best = outcome.best
                elapsed = time.monotonic() - started
                on_trial(SearchProgress(run.record, done, 0, best, elapsed, stage="final", total=total))

        if entries:
            where = session.run_path
            runs = run_final_stage(entries, runner, file, settings, where, started=started, on_run=on_run)
            outcome.final = standings(entries, runs, file, settings, objectives)
    except KeyboardInterrupt:
        outcome.stop_reason = "interrupted"
    except WorkersLost as exc:  # every finished trial is logged and the checkpoint is current
        raise _resumable(exc, session.run_path, outcome.records) from None
    finally:
        runner.shutdown()
        log.close()
    _write_summary(outcome, file, objectives)  # after an unexpected error, `--resume` writes it
    return outcome

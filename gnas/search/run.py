"""``gnas search``: load the data once, let a controller propose architectures, train each on train,
score it on validation, log every trial, and write the leaderboard and the best architecture.

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

import pandas as pd
import yaml

from gnas.data.interactions import TRAIN, VALID
from gnas.device import resolve_device
from gnas.execution.inline import InlineExecutor
from gnas.runs import new_run_path
from gnas.search.base import Budget, Candidate, TrialResult
from gnas.search.driver import drive
from gnas.search.export import Choice, trial_yaml
from gnas.search.objectives import Objectives
from gnas.search.ranking import leaderboard
from gnas.search.registry import build_controller
from gnas.search.runlog import RunLog, TrialRecord
from gnas.search.settings import COST_METRICS, SearchSettings
from gnas.search.trial import TrialContext, run_trial
from gnas.space import SearchFile, architecture_mapping, decode, summarize
from gnas.train import prepare_graph, ranking_evaluator, versions
from gnas.training.metrics import parse_metric

OnTrial = Callable[["SearchProgress"], None]


@dataclass
class SearchProgress:
    """What a progress display needs after each trial."""

    record: TrialRecord
    done: int
    failed: int
    best: TrialRecord | None
    elapsed: float
    generation: int | None = None


@dataclass
class SearchOutcome:
    run_dir: Path
    records: list[TrialRecord] = field(default_factory=list)
    best: TrialRecord | None = None
    stop_reason: str = ""

    def leaderboard(self, objectives: Objectives, top: int | None = None) -> list[TrialRecord]:
        """Finished full-budget trials, best primary objective first (lower-budget ones if none ran)."""
        ranked = leaderboard(self.records, objectives)
        return ranked[:top] if top else ranked


def _for_objectives(file: SearchFile, objectives: Objectives, seed: int) -> SearchFile:
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
    ranked = outcome.leaderboard(objectives)
    rows = [
        {
            "rank": rank,
            "trial": r.candidate.trial,
            **{name: value for name, value in zip(objectives.names, r.result.values, strict=True)},
            "params": r.result.metrics.get("params"),
            "epochs": r.result.epochs,
            "seconds": round(r.result.seconds, 2),
            "architecture": summarize(decode(file.space, r.candidate.genotype)),
        }
        for rank, r in enumerate(ranked, start=1)
    ]
    pd.DataFrame(rows).to_csv(outcome.run_dir / "leaderboard.csv", index=False)
    if ranked:
        choice = Choice(ranked[0], f"{file.name}-best", f"best by validation {objectives.primary.metric}")
        text = trial_yaml(file, outcome.run_dir.name, choice, objectives)
        (outcome.run_dir / "best.yaml").write_text(text)


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
) -> SearchOutcome:
    """Run a whole search and return its trials, best trial and why it stopped."""
    objectives = Objectives.from_specs(settings.objectives, settings.constraints)
    file = _for_objectives(file, objectives, file.seed if seed is None else seed)
    seed = file.seed
    torch_device = resolve_device(device)
    run_path = new_run_path(out, name or file.name, exact=name is not None)
    split, graph = prepare_graph(file.dataset, file.split, data_dir)
    valid = ranking_evaluator(split, VALID, (TRAIN,), file.training, torch_device)

    run_path.mkdir(parents=True)
    try:
        controller = build_controller(settings, file.space, objectives, seed, Budget(), run_path)
    except BaseException:
        shutil.rmtree(run_path, ignore_errors=True)
        raise
    resolved = {
        "name": file.name,
        "seed": seed,
        "source": file.source,
        "dataset": file.dataset.model_dump(mode="json"),
        "split": file.split.model_dump(mode="json"),
        "training": file.training.model_dump(mode="json"),
        "space": file.space_data,
        "search": {**settings.model_dump(mode="json"), "optuna": settings.optuna.shown()},
        "versions": versions(),
    }
    (run_path / "spec.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))

    context = TrialContext(file.space, objectives, graph.to(torch_device), valid, file.training, seed)
    log = RunLog(run_path)
    outcome = SearchOutcome(run_path)
    started = time.monotonic()

    executor = InlineExecutor(lambda candidate: run_trial(context, candidate, controller.should_prune))

    def on_result(candidate: Candidate, result: TrialResult, cached_from: int | None) -> None:
        arch = architecture_mapping(decode(file.space, candidate.genotype))
        record = TrialRecord(candidate, result, arch, cached_from)
        log.append(record)
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

    deadline = None if settings.time_budget is None else started + settings.time_budget
    try:
        state = drive(
            controller,
            executor,
            max_trials=settings.max_trials,
            deadline=deadline,
            on_result=on_result,
            on_change=lambda: log.checkpoint(controller.state_dict()),
        )
        outcome.stop_reason = state.stop_reason
    except KeyboardInterrupt:
        outcome.stop_reason = "interrupted"
    finally:
        executor.shutdown()
        log.close()
        _write_summary(outcome, file, objectives)
    return outcome

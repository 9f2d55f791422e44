"""Every search's trials in an Optuna storage, so ``optuna-dashboard`` and ``optuna.visualization`` work on
any run, evolution and random runs included.

The study is ``study.db`` (SQLite) in the run folder, named after the folder, with the objectives'
directions. Each line of ``trials.jsonl`` becomes one Optuna trial, in order: params are the genes
that matter, named and distributed exactly as the Optuna controller suggests them (``layers[1].heads``);
values for finished trials; the validation curve as intermediate values (step = epoch); state
COMPLETE, PRUNED (pruned, or trained at a lower fidelity budget only) or FAIL; the gnas trial number,
status, metrics, epochs, error and architecture as user attributes; the objectives as metric names.
An Optuna-controller run already keeps its study: it is not recorded twice.
"""

from __future__ import annotations

import dataclasses
import datetime
import warnings
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.exceptions import ExperimentalWarning
from optuna.trial import FrozenTrial, TrialState

from gnas.search.candidate import Budget
from gnas.search.controllers.base import Controller
from gnas.search.controllers.optuna import OptunaController, study_url
from gnas.search.controllers.optuna_space import suggest_genotype, suggest_value
from gnas.search.objectives import Objectives
from gnas.search.runlog import TrialRecord
from gnas.space import Genotype, SearchSpace

_STATES = {"ok": TrialState.COMPLETE, "pruned": TrialState.PRUNED}


def trial_params(
    space: SearchSpace, genotype: Genotype
) -> tuple[dict[str, Any], dict[str, BaseDistribution]]:
    """The genes that matter and their Optuna distributions, as the Optuna controller would suggest them."""
    fixed = optuna.trial.FixedTrial(dict(zip(space.keys(), genotype, strict=True)))
    suggest_genotype(space, partial(suggest_value, fixed))
    return fixed.params, fixed.distributions


def frozen_trial(record: TrialRecord, space: SearchSpace) -> FrozenTrial:
    """One trial record as an Optuna trial (not yet in any study)."""
    result = record.result
    state = _STATES.get(result.status, TrialState.FAIL)
    lower_budget = record.candidate.budget != Budget()
    if state == TrialState.COMPLETE and lower_budget:
        state = TrialState.PRUNED  # stopped at a lower fidelity rung: not a finished architecture
    params, distributions = trial_params(space, record.candidate.genotype)
    user_attrs: dict[str, Any] = {
        "gnas_trial": record.candidate.trial,
        "status": result.status,
        "origin": record.candidate.origin,
        "metrics": {name: float(value) for name, value in result.metrics.items()},
        "epochs": result.epochs,
        "seconds": result.seconds,
        "architecture": record.architecture,
    }
    if lower_budget:
        user_attrs["budget"] = dataclasses.asdict(record.candidate.budget)
        user_attrs["values"] = list(result.values)
    if result.error:
        user_attrs["error"] = result.error
    if record.cached_from is not None:
        user_attrs["cached_from"] = record.cached_from
    trial = optuna.trial.create_trial(
        state=state,
        values=list(result.values) if state == TrialState.COMPLETE else None,
        params=params,
        distributions=distributions,
        user_attrs=user_attrs,
        intermediate_values={int(epoch): float(value) for epoch, value in result.curve},
    )
    if trial.datetime_complete is not None:
        trial.datetime_start = trial.datetime_complete - datetime.timedelta(seconds=result.seconds)
    return trial


class StudyMirror:
    """Adds each trial record to the run's study once (records already there, by gnas trial, are skipped)."""

    def __init__(self, run_dir: Path, space: SearchSpace, objectives: Objectives) -> None:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.space = space
        self.study = optuna.create_study(
            storage=study_url(run_dir),
            study_name=run_dir.name,
            directions=[spec.direction for spec in objectives.specs],
            load_if_exists=True,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            self.study.set_metric_names(list(objectives.names))  # shown by optuna-dashboard
        self._seen = {t.user_attrs.get("gnas_trial") for t in self.study.get_trials(deepcopy=False)}

    def add(self, record: TrialRecord) -> None:
        if record.candidate.trial in self._seen:
            return
        self.study.add_trial(frozen_trial(record, self.space))
        self._seen.add(record.candidate.trial)

    def sync(self, records: Iterable[TrialRecord]) -> None:
        """Add the records the study lacks (after a resume, or for a run made before mirroring)."""
        for record in records:
            self.add(record)


def open_mirror(
    run_dir: Path, controller: Controller, space: SearchSpace, objectives: Objectives
) -> StudyMirror | None:
    """The run's mirror, or None for an Optuna controller (its own study already holds every trial)."""
    if isinstance(controller, OptunaController):
        return None
    return StudyMirror(run_dir, space, objectives)

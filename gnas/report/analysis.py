"""What a report shows, as plain data: leaderboard rows, convergence, Pareto front, the choices of the
best trials against all trials, learning curves and failures. No plotting and no files here."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gnas.architecture import Architecture
from gnas.report.leaderboard import logged_architecture
from gnas.report.load import ReportRun
from gnas.search.ranking import contenders, leaderboard, pareto_front
from gnas.search.runlog import TrialRecord
from gnas.space import decode
from gnas.space.fields import NUM_LAYERS, global_fields, is_ignored, layer_fields

TOP_SHARE = 0.1  # the top decile
MAX_CATEGORIES = 8  # a numeric field with more distinct values is shown in bins
BINS = 5


@dataclass(frozen=True)
class RunSummary:
    """Counts and the best value of one run."""

    label: str
    trained: int
    cached: int
    statuses: dict[str, int]
    best_trial: int
    best_value: float
    seconds: float


def summary(run: ReportRun) -> RunSummary:
    best = leaderboard(run.records, run.run.objectives)[0]
    return RunSummary(
        run.label,
        len(run.fresh),
        len(run.records) - len(run.fresh),
        dict(Counter(r.result.status for r in run.fresh)),
        best.candidate.trial,
        best.result.values[0],
        sum(r.result.seconds for r in run.fresh),
    )


def architecture_of(run: ReportRun, record: TrialRecord) -> Architecture:
    """The trial's architecture from its logged mapping (the genotype if the mapping does not parse)."""
    architecture = logged_architecture(record)
    return decode(run.run.file.space, record.candidate.genotype) if architecture is None else architecture


@dataclass(frozen=True)
class Convergence:
    """Per trained trial, in order: its count, the search's seconds when it was logged (wall clock;
    the sum of trial times for logs without it: ``wall_clock`` False), its primary value (NaN unless
    it competes) and the best value so far (NaN before the first)."""

    label: str
    metric: str
    count: list[int]
    seconds: list[float]
    value: list[float]
    best: list[float]
    wall_clock: bool = True


def convergence(run: ReportRun) -> Convergence:
    objectives = run.run.objectives
    maximize = objectives.weights[0] > 0
    competing = {r.candidate.trial for r in contenders(run.records)}
    count, seconds, value, best = [], [], [], []
    elapsed, best_so_far = 0.0, math.nan
    wall_clock = all(record.logged_at is not None for record in run.fresh)
    for n, record in enumerate(run.fresh, start=1):
        elapsed = (record.logged_at or 0.0) if wall_clock else elapsed + record.result.seconds
        v = record.result.values[0] if record.candidate.trial in competing else math.nan
        if not math.isnan(v) and (math.isnan(best_so_far) or (v > best_so_far) == maximize):
            best_so_far = v
        count.append(n)
        seconds.append(elapsed)
        value.append(v)
        best.append(best_so_far)
    return Convergence(run.label, objectives.primary.metric, count, seconds, value, best, wall_clock)


@dataclass(frozen=True)
class Pareto:
    """Every competing trial's objective values, and the trials on the Pareto front."""

    names: tuple[str, ...]
    directions: tuple[str, ...]
    points: list[tuple[int, tuple[float, ...]]]
    front: list[tuple[int, tuple[float, ...]]]


def pareto(run: ReportRun) -> Pareto | None:
    """None for a single-objective run."""
    objectives = run.run.objectives
    if len(objectives.specs) < 2:
        return None
    return Pareto(
        objectives.names,
        tuple(spec.direction for spec in objectives.specs),
        [(r.candidate.trial, r.result.values) for r in contenders(run.records)],
        [(r.candidate.trial, r.result.values) for r in pareto_front(run.records, objectives)],
    )


@lru_cache(maxsize=4096)
def choices(architecture: Architecture) -> dict[str, tuple[Any, ...]]:
    """Every field that matters in the architecture -> its values (one per layer for layer fields)."""
    arch = architecture.canonical()
    found: dict[str, list[Any]] = {}
    for field in global_fields():
        if field.name == NUM_LAYERS:
            found[NUM_LAYERS] = [arch.num_layers]
        elif not is_ignored(arch, field):
            found[field.name] = [getattr(arch, field.name)]
    for layer in arch.layers:
        for field in layer_fields():
            if not is_ignored(layer, field):
                found.setdefault(field.name, []).append(getattr(layer, field.name))
    return {name: tuple(values) for name, values in found.items()}


@dataclass(frozen=True)
class ChoiceShare:
    """One field: its values (labels) and the share of all trials and of the top trials choosing each
    (a trial's layers share its weight)."""

    field: str
    labels: list[str]
    all: list[float]
    top: list[float]


def _label(value: Any) -> str:
    if value is None:
        return "null"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _binner(values: Sequence[Any]) -> Any:
    """value -> label: itself for few distinct values, else one of ``BINS`` equal-width ranges."""
    distinct = set(values)
    numeric = all(_is_number(v) for v in distinct)
    if len(distinct) <= MAX_CATEGORIES or not numeric:
        return _label
    low, high = min(distinct), max(distinct)
    width = (high - low) / BINS

    def label(value: Any) -> str:
        k = min(int((value - low) / width), BINS - 1)
        return f"{low + k * width:.3g}-{low + (k + 1) * width:.3g}"

    return label


def _shares(per_trial: list[tuple[Any, ...]], label: Any, labels: list[str]) -> list[float]:
    weights: dict[str, float] = {}
    for values in per_trial:
        for value in values:
            weights[label(value)] = weights.get(label(value), 0.0) + 1 / len(values)
    return [weights.get(name, 0.0) / max(len(per_trial), 1) for name in labels]


def choice_shares(run: ReportRun) -> tuple[list[ChoiceShare], int, int]:
    """For each field that varies among the trials: how often all trained trials and the top decile
    (by the primary objective, at least one trial) chose each value; and both trial counts."""
    ranked = leaderboard(run.records, run.run.objectives)
    top = ranked[: max(1, math.ceil(TOP_SHARE * len(ranked)))]
    every = [choices(architecture_of(run, r)) for r in run.fresh]
    best = [choices(architecture_of(run, r)) for r in top]
    fields = list(dict.fromkeys(name for c in every for name in c))
    shares = []
    for name in fields:
        values = [v for c in every for v in c.get(name, ())]
        label = _binner(values)
        labels = sorted({label(v) for v in values}, key=lambda s: _order(s, values, label))
        if len(labels) < 2:
            continue  # nothing was chosen
        shares.append(
            ChoiceShare(
                name,
                labels,
                _shares([c[name] for c in every if name in c], label, labels),
                _shares([c[name] for c in best if name in c], label, labels),
            )
        )
    return shares, len(every), len(top)


def _order(name: str, values: Sequence[Any], label: Any) -> tuple[int, Any]:
    """Numbers (and their bins) ascending, then names alphabetically (null last)."""
    numbers = [v for v in values if _is_number(v) and label(v) == name]
    if numbers:
        return (0, min(numbers))
    return (2, name) if name == "null" else (1, name)


@dataclass(frozen=True)
class Curve:
    trial: int
    value: float
    points: tuple[tuple[int, float], ...]


def best_curves(run: ReportRun, count: int = 5) -> list[Curve]:
    """Validation curves of the ``count`` best trials (those that recorded one)."""
    ranked = leaderboard(run.records, run.run.objectives)
    return [Curve(r.candidate.trial, r.result.values[0], r.result.curve) for r in ranked if r.result.curve][
        :count
    ]


@dataclass(frozen=True)
class FailureRow:
    """Trials that did not finish ok for the same reason (numbers aside): one example reason."""

    status: str
    reason: str
    trials: list[int]


def failures(run: ReportRun) -> list[FailureRow]:
    """Failed, infeasible and pruned trials grouped by reason, most frequent first."""
    groups: dict[tuple[str, str], list[TrialRecord]] = {}
    for record in run.fresh:
        if record.result.status == "ok":
            continue
        reason = record.result.error or record.result.status
        key = (record.result.status, re.sub(r"\d[\d.,e+-]*", "#", reason))
        groups.setdefault(key, []).append(record)
    rows = [
        FailureRow(status, records[0].result.error or status, [r.candidate.trial for r in records])
        for (status, _), records in groups.items()
    ]
    return sorted(rows, key=lambda row: -len(row.trials))

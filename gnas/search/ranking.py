"""Which finished trials compete and in what order: the leaderboard and the Pareto front.

Only fresh ``ok`` trials count (a cached trial repeats another's result); full-budget ones when any
ran, else the lower-budget ones, so a search stopped inside its first rung still has a winner.
"""

from __future__ import annotations

from collections.abc import Sequence

from gnas.search.candidate import Budget
from gnas.search.controllers.pareto import dominates, weighted
from gnas.search.objectives import Objectives
from gnas.search.runlog import TrialRecord


def contenders(records: Sequence[TrialRecord]) -> list[TrialRecord]:
    """Fresh ok trials at the full budget (all fresh ok trials if none had it), in trial order."""
    ok = [r for r in records if r.result.status == "ok" and r.cached_from is None]
    return [r for r in ok if r.candidate.budget == Budget()] or ok


def leaderboard(records: Sequence[TrialRecord], objectives: Objectives) -> list[TrialRecord]:
    """The contenders, best primary objective first; ties keep trial order."""
    return sorted(contenders(records), key=lambda r: -objectives.weights[0] * r.result.values[0])


def pareto_front(records: Sequence[TrialRecord], objectives: Objectives) -> list[TrialRecord]:
    """The contenders no other contender dominates, ordered by the primary objective (best first), then
    by the following objectives, then by trial number."""
    pool = contenders(records)
    weights = objectives.weights
    front = [r for r in pool if not any(dominates(o.result.values, r.result.values, weights) for o in pool)]
    return sorted(
        front, key=lambda r: (tuple(-v for v in weighted(r.result.values, weights)), r.candidate.trial)
    )

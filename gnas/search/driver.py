"""The ask -> evaluate -> tell loop, independent of training, files and executors (so it is cheap to test)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gnas.search.base import Budget, Candidate, Controller, TrialResult
from gnas.space import Genotype

EvaluateBatch = Callable[[Sequence[Candidate]], Sequence[TrialResult]]
OnResult = Callable[[Candidate, TrialResult, "int | None"], None]

_MAX_IDLE_ROUNDS = 50


@dataclass
class DriveState:
    """Trials trained, and the results by (canonical genotype, budget) so duplicates are never retrained."""

    trained: int = 0
    cache: dict[tuple[Genotype, Budget], tuple[int, TrialResult]] = field(default_factory=dict)
    stop_reason: str = ""


def drive(
    controller: Controller,
    evaluate: EvaluateBatch,
    *,
    parallel: int = 1,
    max_trials: int | None = None,
    deadline: float | None = None,
    state: DriveState | None = None,
    on_result: OnResult | None = None,
    on_told: Callable[[], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DriveState:
    """Run the controller until it is finished, ``max_trials`` trials were trained, or ``deadline``
    (a ``time.monotonic()`` value) passes. A candidate already evaluated with the same budget is told
    its cached result (``on_result`` gets the trial it came from) and does not count as a trial.
    ``on_result`` runs before the controller is told (to log the result first), ``on_told`` after.
    """
    state = state or DriveState()
    idle = 0
    while True:
        if controller.finished:
            state.stop_reason = "controller finished"
        elif max_trials is not None and state.trained >= max_trials:
            state.stop_reason = "max_trials"
        elif deadline is not None and time.monotonic() >= deadline:
            state.stop_reason = "time_budget"
        elif should_stop():
            state.stop_reason = "interrupted"
        elif idle >= _MAX_IDLE_ROUNDS:
            state.stop_reason = "no new candidates"
        if state.stop_reason:
            return state
        room = parallel if max_trials is None else min(parallel, max_trials - state.trained)
        candidates = controller.ask(room)
        if not candidates:
            idle += 1
            continue
        first: dict[tuple[Genotype, Budget], Candidate] = {}
        for c in candidates:
            if (c.genotype, c.budget) not in state.cache:
                first.setdefault((c.genotype, c.budget), c)
        fresh = list(first.values())
        results = dict(zip((c.trial for c in fresh), evaluate(fresh), strict=True)) if fresh else {}
        idle = idle + 1 if not fresh else 0
        for candidate in candidates:
            key = (candidate.genotype, candidate.budget)
            if candidate.trial in results:
                result, source = results[candidate.trial], None
                state.cache.setdefault(key, (candidate.trial, result))
                state.trained += 1
            else:
                source, result = state.cache[key]
            if on_result is not None:
                on_result(candidate, result, source)
            controller.tell(candidate, result)
            if on_told is not None:
                on_told()

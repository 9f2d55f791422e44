"""The ask -> evaluate -> tell loop, independent of training and files (so it is cheap to test).

It keeps the executor's slots full: a candidate is submitted as soon as a slot frees up, and each
result is told the moment it arrives, so workers never wait for the slowest trial of a batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gnas.errors import GnasError
from gnas.execution.base import Executor
from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.base import Controller
from gnas.space import Genotype

OnResult = Callable[[Candidate, TrialResult, "int | None"], None]
Key = tuple[Genotype, Budget]

_MAX_IDLE_ROUNDS = 50


@dataclass
class DriveState:
    """Trials trained, the results by (canonical genotype, budget) so that duplicates are never
    retrained, the candidates in flight, and why the loop stopped."""

    trained: int = 0
    cache: dict[Key, tuple[int, TrialResult]] = field(default_factory=dict)
    in_flight: dict[int, Candidate] = field(default_factory=dict)
    stop_reason: str = ""


def drive(
    controller: Controller,
    executor: Executor,
    *,
    max_trials: int | None = None,
    deadline: float | None = None,
    state: DriveState | None = None,
    logged: Mapping[int, tuple[Candidate, TrialResult]] | None = None,
    on_result: OnResult | None = None,
    on_change: Callable[[], None] | None = None,
) -> DriveState:
    """Run the controller until it is finished, ``max_trials`` trials were trained or ``deadline`` (a
    ``time.monotonic()`` value) passes; trials in flight then finish first.

    A candidate already evaluated with the same budget is told the cached result (``on_result`` gets
    the trial it came from) and does not count as a trial. A candidate whose trial number is in
    ``logged`` (a resumed run's log) is told the logged result without ``on_result``. ``on_result``
    runs before the controller is told (to log the result first), ``on_change`` after every ask and
    tell (to checkpoint the controller).
    """
    state = state or DriveState()
    logged = logged or {}
    waiting: dict[Key, list[Candidate]] = {}  # duplicates of a candidate in flight

    def finish(candidate: Candidate, result: TrialResult, source: int | None) -> None:
        if on_result is not None:
            on_result(candidate, result, source)
        controller.tell(candidate, result)
        if on_change is not None:
            on_change()

    def dispatch(candidate: Candidate) -> bool:
        """Tell a known result or submit the candidate; True if it was submitted."""
        key = (candidate.genotype, candidate.budget)
        if candidate.trial in logged:
            before, result = logged[candidate.trial]
            if (before.genotype, before.budget) != key:
                raise GnasError(
                    f"trial {candidate.trial}: the run log holds another candidate than the controller "
                    "proposes now, so this run cannot be continued exactly"
                )
            controller.tell(candidate, result)
        elif key in state.cache:
            source, result = state.cache[key]
            finish(candidate, result, source)
        elif any((c.genotype, c.budget) == key for c in state.in_flight.values()):
            waiting.setdefault(key, []).append(candidate)
        else:
            executor.submit(candidate)
            state.in_flight[candidate.trial] = candidate
            return True
        return False

    idle = 0
    while True:
        if not state.stop_reason:
            state.stop_reason = _stop_reason(controller, state, max_trials, deadline, idle)
        if not state.stop_reason:
            room = executor.slots - len(state.in_flight)
            if max_trials is not None:
                room = min(room, max_trials - state.trained - len(state.in_flight))
            if room > 0:
                asked = controller.ask(room)
                if asked and on_change is not None:
                    on_change()
                submitted = [dispatch(candidate) for candidate in asked]
                if not state.in_flight:
                    idle = 0 if any(submitted) else idle + 1
                    continue
        if not state.in_flight:
            return state
        candidate, result = executor.next_result()
        del state.in_flight[candidate.trial]
        key = (candidate.genotype, candidate.budget)
        state.cache.setdefault(key, (candidate.trial, result))
        state.trained += 1
        idle = 0
        finish(candidate, result, None)
        for duplicate in waiting.pop(key, []):
            finish(duplicate, result, candidate.trial)


def _stop_reason(
    controller: Controller,
    state: DriveState,
    max_trials: int | None,
    deadline: float | None,
    idle: int,
) -> str:
    if controller.finished:
        return controller.finished_reason
    if max_trials is not None and state.trained >= max_trials:
        return "max_trials"
    if deadline is not None and time.monotonic() >= deadline:
        return "time_budget"
    if idle >= _MAX_IDLE_ROUNDS:
        return "no new candidates"
    return ""

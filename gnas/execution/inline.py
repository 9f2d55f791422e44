"""The in-process executor: trials run one after another in this process (debugging, tests, 1 core)."""

from __future__ import annotations

from collections import deque

from gnas.execution.base import TrialFunction
from gnas.search.candidate import Candidate, TrialResult


class InlineExecutor:
    """Runs each submitted candidate, in submission order, when its result is asked for.

    ``slots`` > 1 only lets the loop hand out several candidates at once (as a parallel executor
    would); they still run one at a time.
    """

    def __init__(self, trial: TrialFunction, slots: int = 1) -> None:
        self.trial = trial
        self.slots = slots
        self._queue: deque[Candidate] = deque()

    def submit(self, candidate: Candidate) -> None:
        self._queue.append(candidate)

    def next_result(self) -> tuple[Candidate, TrialResult]:
        candidate = self._queue.popleft()
        return candidate, self.trial(candidate)

    def shutdown(self) -> None:
        self._queue.clear()

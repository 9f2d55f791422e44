"""What Ray workers run in the Ray tests: synthetic trials that sleep, die, hang or raise on request,
and a controller that proposes a fixed list of candidates (so each trial number is known)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthetic_search import synthetic_metrics

from gnas.search.base import Candidate, Controller, TrialResult
from gnas.search.objectives import Objectives
from gnas.space import Genotype, SearchSpace, decode, sample


@dataclass(frozen=True)
class Shared:
    """The shared trial data of a test: the space, and what trial ``n`` should do (``behaviour``)."""

    space: SearchSpace
    objectives: Objectives
    markers: Path  # a folder for "died once already" marks
    behaviour: dict[int, str] = field(default_factory=dict)  # die_once | die | hang | raise
    seconds: float = 0.5


def place(shared: Shared, device: Any) -> Shared:
    """Decode once when the worker starts: the first decode in a process costs seconds (imports)."""
    decode(shared.space, sample(shared.space, 0))
    return shared


def synthetic_trial(shared: Shared, candidate: Candidate, prune: Any) -> TrialResult:
    what = shared.behaviour.get(candidate.trial)
    mark = shared.markers / f"died-{candidate.trial}"
    if what == "die" or (what == "die_once" and not mark.exists()):
        mark.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    if what == "hang":
        time.sleep(600)
    if what == "raise":
        raise RuntimeError("boom")
    time.sleep(shared.seconds)
    metrics = synthetic_metrics(shared.space, candidate)
    return TrialResult("ok", metrics, shared.objectives.values(metrics), epochs=1, seconds=shared.seconds)


class ListController(Controller):
    """Proposes ``genotypes`` in order (trial n is genotype n) and is finished when all were told."""

    name = "list"

    def __init__(self, space: SearchSpace, objectives: Objectives, genotypes: list[Genotype]) -> None:
        super().__init__(space, objectives, seed=0)
        self.genotypes = genotypes
        self.told: dict[int, TrialResult] = {}

    def ask(self, n: int) -> list[Candidate]:
        asked = []
        while len(asked) < n and self.next_trial < len(self.genotypes):
            trial = self._new_trial()
            asked.append(Candidate(trial, self.genotypes[trial], origin="list"))
        return asked

    def tell(self, candidate: Candidate, result: TrialResult) -> None:
        self.told[candidate.trial] = result

    @property
    def finished(self) -> bool:
        return len(self.told) == len(self.genotypes)

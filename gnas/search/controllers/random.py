"""Random search: independent uniform samples of the space, the honest baseline."""

from __future__ import annotations

import random
from typing import Any

from gnas.search.candidate import Candidate, TrialResult
from gnas.search.controllers.base import Controller, rng_from_json, rng_to_json
from gnas.search.objectives import Objectives
from gnas.space import SearchSpace, sample


class RandomController(Controller):
    """Each candidate is a fresh uniform sample; results teach it nothing."""

    name = "random"

    def __init__(self, space: SearchSpace, objectives: Objectives, seed: int) -> None:
        super().__init__(space, objectives, seed)
        self.rng = random.Random(seed)
        self.in_flight: dict[int, Candidate] = {}
        self.queue: list[Candidate] = []  # in flight when a state was saved: asked again first

    def ask(self, n: int) -> list[Candidate]:
        handed, self.queue = self.queue[:n], self.queue[n:]
        handed += [Candidate(self._new_trial(), sample(self.space, self.rng)) for _ in range(n - len(handed))]
        self.in_flight.update((candidate.trial, candidate) for candidate in handed)
        return handed

    def tell(self, candidate: Candidate, result: TrialResult) -> None:
        self.in_flight.pop(candidate.trial, None)

    def state_dict(self) -> dict[str, Any]:
        waiting = [*self.in_flight.values(), *self.queue]
        return {
            **super().state_dict(),
            "rng": rng_to_json(self.rng),
            "in_flight": [candidate.to_json() for candidate in sorted(waiting, key=lambda c: c.trial)],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        rng_from_json(self.rng, state["rng"])
        self.in_flight = {}
        self.queue = [Candidate.from_json(entry) for entry in state.get("in_flight", [])]

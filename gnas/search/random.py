"""Random search: independent uniform samples of the space, the honest baseline."""

from __future__ import annotations

import random
from typing import Any

from gnas.search.base import Candidate, Controller, TrialResult
from gnas.search.objectives import Objectives
from gnas.space import SearchSpace, sample


class RandomController(Controller):
    """Each candidate is a fresh uniform sample; results teach it nothing."""

    name = "random"

    def __init__(self, space: SearchSpace, objectives: Objectives, seed: int) -> None:
        super().__init__(space, objectives, seed)
        self.rng = random.Random(seed)

    def ask(self, n: int) -> list[Candidate]:
        return [Candidate(self._new_trial(), sample(self.space, self.rng)) for _ in range(n)]

    def tell(self, candidate: Candidate, result: TrialResult) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        version, internal, gauss = self.rng.getstate()
        return {**super().state_dict(), "rng": [version, list(internal), gauss]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        version, internal, gauss = state["rng"]
        self.rng.setstate((version, tuple(internal), gauss))

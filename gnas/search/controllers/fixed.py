"""A controller that proposes a given list of genotypes, in order: for benchmarks and tests that need
the same trials every run (trial ``n`` is genotype ``n``). Not a search strategy, so not in the
controller registry (a search file cannot name it)."""

from __future__ import annotations

from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.base import Controller
from gnas.search.objectives import Objectives
from gnas.space import Genotype, SearchSpace


class FixedListController(Controller):
    """Proposes ``genotypes`` in order with ``budget`` (origin ``list``), keeps every result in ``told``
    and is finished when all were told."""

    name = "list"

    def __init__(
        self,
        space: SearchSpace,
        objectives: Objectives,
        genotypes: list[Genotype],
        budget: Budget | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(space, objectives, seed)
        self.genotypes = genotypes
        self.budget = budget or Budget()
        self.told: dict[int, TrialResult] = {}

    def ask(self, n: int) -> list[Candidate]:
        asked: list[Candidate] = []
        while len(asked) < n and self.next_trial < len(self.genotypes):
            trial = self._new_trial()
            asked.append(Candidate(trial, self.genotypes[trial], self.budget, "list"))
        return asked

    def tell(self, candidate: Candidate, result: TrialResult) -> None:
        self.told[candidate.trial] = result

    @property
    def finished(self) -> bool:
        return len(self.told) == len(self.genotypes)

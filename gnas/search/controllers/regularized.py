"""Regularized (aging) evolution, steady state: every free worker gets a child at once.

Real et al., "Regularized Evolution for Image Classifier Architecture Search" (AAAI 2019): the
population is a queue of the ``population`` most recent members. Each child's parent is the winner
of a tournament among ``tournament_size`` members drawn from it (the best by DEAP's ``selBest``;
with several objectives ``selNSGA2`` picks the winner), the child is the parent mutated by the space's
mutation, and when its result comes in it joins the queue and the oldest member leaves. Old members
leave even when they are good, which keeps the search exploring, and no generation boundary makes
workers wait: ``ask(n)`` hands out ``n`` children whenever results exist to breed from.

The first ``population`` candidates are the seed points and distinct uniform samples. A child that
repeats a genotype already proposed is mutated again (a few times). Failed results join the queue
ranked below every usable one. The state (queue, RNG, in-flight candidates) is JSON, so a resumed
search continues exactly.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

from deap import tools

from gnas.errors import GnasError
from gnas.search.candidate import Candidate, TrialResult
from gnas.search.controllers.base import Controller, rng_from_json, rng_to_json
from gnas.search.controllers.evolution import RETRIES, Member, seed_genotypes, usable_values
from gnas.search.controllers.pareto import (
    Point,
    points_from_json,
    points_to_json,
    update_front,
    update_hall_of_fame,
)
from gnas.search.controllers.selection import fitness_class, individuals, private_random
from gnas.search.objectives import Objectives
from gnas.search.settings import EvolutionSpec
from gnas.space import Genotype, SearchSpace, operator, sample_distinct


class RegularizedEvolutionController(Controller):
    """Aging evolution over the ``evolution:`` settings (``population``, ``tournament_size``,
    ``mutation``, ``seed_points``, ``hall_of_fame``); ``crossover`` and ``offspring`` do not apply."""

    name = "regularized"

    def __init__(
        self, space: SearchSpace, objectives: Objectives, seed: int, settings: EvolutionSpec
    ) -> None:
        super().__init__(space, objectives, seed)
        if settings.tournament_size > settings.population:
            raise GnasError("search.evolution.tournament_size: larger than the population")
        self.settings = settings
        self.rng = random.Random(seed)
        self.fitness = fitness_class(objectives.weights)
        try:
            self.mutate = operator("mutation", settings.mutation)
        except GnasError as exc:
            raise GnasError(f"search.evolution.mutation: {exc}") from None
        self.population: deque[Member] = deque(maxlen=settings.population)
        self.in_flight: dict[int, Candidate] = {}
        self.hall_of_fame: list[Point] = []
        self.front: list[Point] = []
        initial = dict.fromkeys(seed_genotypes(space, settings.seed_points), "seed")
        for genotype in sample_distinct(space, self.rng, settings.population):
            initial.setdefault(genotype, "sample")
        count = max(settings.population, len(settings.seed_points))
        self.queue = [Candidate(self._new_trial(), g, origin=o) for g, o in list(initial.items())[:count]]
        self.seen: dict[Genotype, None] = dict.fromkeys(c.genotype for c in self.queue)

    def ask(self, n: int) -> list[Candidate]:
        handed, self.queue = self.queue[:n], self.queue[n:]
        if self.population:
            handed += [self._child() for _ in range(n - len(handed))]
        self.in_flight.update((candidate.trial, candidate) for candidate in handed)
        return handed

    def tell(self, candidate: Candidate, result: TrialResult) -> None:
        if self.in_flight.pop(candidate.trial, None) is None:
            raise ValueError(f"trial {candidate.trial} is not waiting for a result")
        values = usable_values(result, len(self.objectives.weights))
        self.population.append(Member(candidate.genotype, values, full=True))  # the oldest leaves
        if values is not None:
            weights = self.objectives.weights
            self.front = update_front(self.front, (candidate.genotype, values), weights)
            self.hall_of_fame = update_hall_of_fame(
                self.hall_of_fame, (candidate.genotype, values), weights, self.settings.hall_of_fame
            )

    def _child(self) -> Candidate:
        parent = self._parent()
        child = parent
        for _ in range(RETRIES):
            child = self.mutate(self.space, parent, rng=self.rng)
            if child not in self.seen:
                break
        self.seen[child] = None
        return Candidate(self._new_trial(), child, origin="offspring")

    def _parent(self) -> Genotype:
        members = list(self.population)
        size = min(self.settings.tournament_size, len(members))
        drawn = [members[i] for i in self.rng.sample(range(len(members)), size)]
        pool = individuals([(m.values, m.tier) for m in drawn], self.fitness)
        with private_random(self.rng):
            if len(self.objectives.weights) == 1:  # the best of the drawn sample, as in the paper
                winner = tools.selBest(pool, 1)[0]
            else:
                winner = tools.selNSGA2(pool, 1)[0]
        return drawn[winner.index].genotype

    def best(self) -> list[Point]:
        """The hall of fame: the best results seen (primary objective first), best first."""
        return list(self.hall_of_fame)

    def pareto_front(self) -> list[Point]:
        return list(self.front)

    def state_dict(self) -> dict[str, Any]:
        waiting = sorted([*self.in_flight.values(), *self.queue], key=lambda c: c.trial)
        return {
            **super().state_dict(),
            "rng": rng_to_json(self.rng),
            "population": [m.to_json() for m in self.population],
            "queue": [c.to_json() for c in waiting],
            "seen": [list(g) for g in self.seen],
            "hall_of_fame": points_to_json(self.hall_of_fame),
            "pareto_front": points_to_json(self.front),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state; candidates that were in flight are asked again first."""
        super().load_state_dict(state)
        rng_from_json(self.rng, state["rng"])
        self.population = deque((Member.from_json(m) for m in state["population"]), self.settings.population)
        self.queue = [Candidate.from_json(c) for c in state["queue"]]
        self.in_flight = {}
        self.seen = dict.fromkeys(tuple(g) for g in state["seen"])
        self.hall_of_fame = points_from_json(state["hall_of_fame"])
        self.front = points_from_json(state["pareto_front"])

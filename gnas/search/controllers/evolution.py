"""(mu + lambda) evolution with DEAP: tournament selection (one objective) or NSGA-II (several),
the space's crossover and mutation, elitism, a hall of fame and a Pareto front, optional successive
halving inside each generation.

Generation 0 is the named seed points then distinct uniform samples (``population`` in all). Each
later generation breeds ``offspring`` children (selection, crossover with ``crossover_prob``,
mutation with ``mutation_prob``, a few retries to avoid a genotype already proposed) and keeps the
``population`` best of parents + children (``selBest``: the best always survives; ``selNSGA2``).
``generations`` counts the generations after generation 0, as DEAP's ``ngen`` does.

Multi-fidelity: every new member of a generation first trains ``Budget(min_epochs, min_seconds)``;
when all are told, the best ``promote`` fraction (ceil, at least one) trains ``full_budget``. Members
not promoted stay in replacement with their low-fidelity values, ranked below every full-budget result
(see :func:`gnas.search.controllers.selection.individuals`), so the population keeps its size from
generation 0 on. Failed, infeasible or pruned results rank below everything. Only full-budget results
enter the hall of fame and the Pareto front.

Randomness: one ``random.Random(seed)``; DEAP's selections (which use the global ``random`` module)
run on it through :func:`gnas.search.controllers.selection.private_random`, so a restored state
continues exactly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Literal

from deap import base, tools

from gnas.architecture import Architecture
from gnas.errors import GnasError
from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.base import Controller, rng_from_json, rng_to_json
from gnas.search.controllers.pareto import (
    Point,
    Values,
    points_from_json,
    points_to_json,
    update_front,
    update_hall_of_fame,
)
from gnas.search.controllers.selection import (
    FAILED,
    FULL,
    LOW,
    fitness_class,
    individuals,
    private_random,
    promoted_count,
    sel_nsga2_tournament,
)
from gnas.search.objectives import Objectives
from gnas.search.settings import EvolutionSpec, FidelitySpec
from gnas.space import Genotype, NotInSpace, SearchSpace, encode, operator, sample_distinct

SEED_POINTS: dict[str, Architecture] = {"lightgcn": Architecture()}
RETRIES = 5  # attempts at breeding a child not proposed before
_TRAINING_SPEC = Budget()  # epochs and seconds of the training spec
Phase = Literal["low", "full"]


@dataclass
class Member:
    """A genotype of the population or of the generation being evaluated, with its latest usable
    objective values (None: not evaluated yet, or failed) and whether they come from the full budget."""

    genotype: Genotype
    values: Values | None = None
    full: bool = False

    @property
    def tier(self) -> int:
        return FAILED if self.values is None else FULL if self.full else LOW

    def to_json(self) -> dict[str, Any]:
        values = None if self.values is None else list(self.values)
        return {"genotype": list(self.genotype), "values": values, "full": self.full}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Member:
        values = None if data["values"] is None else tuple(data["values"])
        return cls(tuple(data["genotype"]), values, data["full"])


def usable_values(result: TrialResult, objectives: int) -> Values | None:
    """The result's objective values if it may compete (ok and finite), else None."""
    values = tuple(float(v) for v in result.values)
    ok = len(values) == objectives and all(math.isfinite(v) for v in values)
    return values if result.status == "ok" and ok else None


def seed_genotypes(space: SearchSpace, names: list[str]) -> list[Genotype]:
    """The genotypes of named seed points; GnasError naming ``search.evolution.seed_points`` otherwise."""
    found = []
    for name in names:
        if name not in SEED_POINTS:
            raise GnasError(
                f"search.evolution.seed_points: unknown point {name!r} (known: {', '.join(SEED_POINTS)})"
            )
        try:
            found.append(encode(space, SEED_POINTS[name]))
        except NotInSpace as exc:
            raise GnasError(f"search.evolution.seed_points: {name!r} is not in the space: {exc}") from None
    return found


class EvolutionController(Controller):
    """Asks for one generation at a time (one fidelity phase at a time), then evolves."""

    name = "evolution"
    finished_reason = "generations"

    def __init__(
        self,
        space: SearchSpace,
        objectives: Objectives,
        seed: int,
        settings: EvolutionSpec,
        fidelity: FidelitySpec,
        generations: int | None,
        full_budget: Budget = _TRAINING_SPEC,
    ) -> None:
        super().__init__(space, objectives, seed)
        self.settings, self.fidelity, self.generations = settings, fidelity, generations
        self.full_budget = full_budget
        self.low_budget = Budget(epochs=fidelity.min_epochs, seconds=fidelity.min_seconds)
        self.rng = random.Random(seed)
        self.fitness = fitness_class(objectives.weights)
        self.toolbox = self._toolbox()
        self.population: list[Member] = []
        self.batch: list[Member] = []  # the generation's new members
        self.queue: list[tuple[Candidate, int]] = []  # not handed out yet, with the batch index
        self.in_flight: dict[int, tuple[Candidate, int]] = {}
        self.seen: dict[Genotype, None] = {}  # every genotype proposed, in order
        self.hall_of_fame: list[Point] = []
        self.front: list[Point] = []
        self._generation, self._done, self._promoted = 0, False, False
        initial = dict.fromkeys(seed_genotypes(space, settings.seed_points), "seed")
        for genotype in sample_distinct(space, self.rng, settings.population):
            initial.setdefault(genotype, "sample")
        self._start(list(initial.items())[: max(settings.population, len(settings.seed_points))])

    def _toolbox(self) -> base.Toolbox:
        spec, toolbox = self.settings, base.Toolbox()
        for kind, name in (("crossover", spec.crossover), ("mutation", spec.mutation)):
            try:
                function = operator(kind, name)
            except GnasError as exc:
                raise GnasError(f"search.evolution.{kind}: {exc}") from None
            toolbox.register("mate" if kind == "crossover" else "mutate", function, self.space, rng=self.rng)
        if len(self.objectives.weights) == 1:
            toolbox.register("select", tools.selTournament, tournsize=spec.tournament_size)
            toolbox.register("replace", tools.selBest)
        else:
            toolbox.register("select", sel_nsga2_tournament)
            toolbox.register("replace", tools.selNSGA2)
        return toolbox

    # --- ask / tell -----------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """The generation being evaluated (0: the initial population); the last one once finished."""
        return self._generation

    @property
    def finished(self) -> bool:
        return self._done

    @property
    def phase(self) -> Phase:
        return "low" if self.fidelity.enabled and not self._promoted else "full"

    def ask(self, n: int) -> list[Candidate]:
        handed, self.queue = self.queue[:n], self.queue[n:]
        self.in_flight.update((candidate.trial, (candidate, index)) for candidate, index in handed)
        return [candidate for candidate, _ in handed]

    def tell(self, candidate: Candidate, result: TrialResult) -> None:
        if candidate.trial in self.in_flight:
            _, index = self.in_flight.pop(candidate.trial)
        else:  # a queued one told directly (e.g. replayed from a run log on resume)
            at = next((i for i, (c, _) in enumerate(self.queue) if c.trial == candidate.trial), None)
            if at is None:
                raise ValueError(f"trial {candidate.trial} is not waiting for a result")
            _, index = self.queue.pop(at)
        member = self.batch[index]
        member.values = usable_values(result, len(self.objectives.weights))
        member.full = self.phase == "full"
        if member.values is not None and member.full:
            point, weights = (member.genotype, member.values), self.objectives.weights
            self.front = update_front(self.front, point, weights)
            self.hall_of_fame = update_hall_of_fame(
                self.hall_of_fame, point, weights, self.settings.hall_of_fame
            )
        while not self.queue and not self.in_flight and not self._done:
            if self.phase == "low":
                self._promote()
            else:
                self._close_generation()

    # --- generations ----------------------------------------------------------------------------------

    def _start(self, genotypes: list[tuple[Genotype, str]]) -> None:
        """Make ``genotypes`` (with their origins) the generation to evaluate, at the low budget first
        when multi-fidelity."""
        self.batch = [Member(genotype) for genotype, _ in genotypes]
        self.seen.update(dict.fromkeys(genotype for genotype, _ in genotypes))
        self._promoted = False
        budget = self.low_budget if self.fidelity.enabled else self.full_budget
        self.queue = [
            (Candidate(self._new_trial(), genotype, budget, origin), i)
            for i, (genotype, origin) in enumerate(genotypes)
        ]

    def _select(self, function: str, members: list[Member], k: int) -> list[int]:
        """Indices of ``members`` chosen by the toolbox's ``select`` or ``replace``, on the private RNG."""
        pool = individuals([(m.values, m.tier) for m in members], self.fitness)
        with private_random(self.rng):
            return [ind.index for ind in getattr(self.toolbox, function)(pool, k)]

    def _promote(self) -> None:
        """Queue the best low-fidelity results for the full budget (none if every one failed)."""
        self._promoted = True
        usable = [i for i, m in enumerate(self.batch) if m.values is not None]
        k = min(len(usable), promoted_count(len(self.batch), self.fidelity.promote))
        chosen = sorted(usable[i] for i in self._select("replace", [self.batch[i] for i in usable], k))
        self.queue = [
            (Candidate(self._new_trial(), self.batch[i].genotype, self.full_budget, "promote"), i)
            for i in chosen
        ]

    def _close_generation(self) -> None:
        """(mu + lambda) replacement, then the next generation's children (or the end)."""
        pool: dict[Genotype, Member] = {}
        for member in self.population + self.batch:  # one per genotype: the best-informed, else the parent
            if member.genotype not in pool or member.tier < pool[member.genotype].tier:
                pool[member.genotype] = member
        members = list(pool.values())
        keep = self._select("replace", members, min(self.settings.population, len(members)))
        self.population = [members[i] for i in keep]
        if self.generations is not None and self._generation >= self.generations:
            self._done = True
            return
        self._generation += 1
        self._start([(child, "offspring") for child in self._children()])

    def _children(self) -> list[Genotype]:
        count = self.settings.offspring or self.settings.population
        parents = [self.population[i].genotype for i in self._select("select", self.population, 2 * count)]
        children: dict[Genotype, None] = {}
        for first, second in zip(parents[::2], parents[1::2], strict=True):
            child = self._breed(first, second, children)
            if child not in children:
                children[child] = None
        return list(children)

    def _breed(self, first: Genotype, second: Genotype, taken: dict[Genotype, None]) -> Genotype:
        """A child of two parents; retries (then forces a mutation) while it repeats a known genotype."""
        spec, child = self.settings, first
        for attempt in range(RETRIES):
            child = first
            if self.rng.random() < spec.crossover_prob:
                child = self.toolbox.mate(first, second)[self.rng.randrange(2)]
            if attempt > 0 or self.rng.random() < spec.mutation_prob:
                child = self.toolbox.mutate(child)
            if child not in self.seen and child not in taken:
                break
        return child

    # --- results and state ----------------------------------------------------------------------------

    def best(self) -> list[Point]:
        """The hall of fame: the best full-budget results (primary objective first), best first."""
        return list(self.hall_of_fame)

    def pareto_front(self) -> list[Point]:
        """The non-dominated full-budget results seen so far."""
        return list(self.front)

    def state_dict(self) -> dict[str, Any]:

        def waiting(items: list[tuple[Candidate, int]]) -> list[dict[str, Any]]:
            return [{"candidate": c.to_json(), "member": i} for c, i in items]

        return {
            **super().state_dict(),
            "rng": rng_to_json(self.rng),
            "generation": self._generation,
            "done": self._done,
            "phase": self.phase,
            "population": [m.to_json() for m in self.population],
            "batch": [m.to_json() for m in self.batch],
            "queue": waiting(self.queue),
            "in_flight": waiting(sorted(self.in_flight.values(), key=lambda item: item[0].trial)),
            "seen": [list(g) for g in self.seen],
            "hall_of_fame": points_to_json(self.hall_of_fame),
            "pareto_front": points_to_json(self.front),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state; candidates that were in flight go back to the front of the queue (to be asked
        again with the same trial numbers, or told directly)."""
        super().load_state_dict(state)
        rng_from_json(self.rng, state["rng"])
        self._generation, self._done = state["generation"], state["done"]
        self._promoted = state["phase"] == "full" and self.fidelity.enabled
        self.population = [Member.from_json(m) for m in state["population"]]
        self.batch = [Member.from_json(m) for m in state["batch"]]
        waiting = state["in_flight"] + state["queue"]
        self.queue = [(Candidate.from_json(w["candidate"]), w["member"]) for w in waiting]
        self.in_flight = {}
        self.seen = dict.fromkeys(tuple(g) for g in state["seen"])
        self.hall_of_fame = points_from_json(state["hall_of_fame"])
        self.front = points_from_json(state["pareto_front"])

"""DEAP glue for the evolution controller: fitness objects built on the fly from plain data, DEAP's
selections run on a private RNG, and a ``selTournamentDCD`` that takes any population size.

Individuals stay plain data (a genotype and its objective values) in the controller; DEAP only sees
short-lived :class:`Individual` views whose ``index`` points back to them. Fitness classes are made
per controller with ``type()`` (never ``creator``), so nothing global is registered or pickled.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from deap import base, tools

from gnas.search.controllers.pareto import Values, weighted

FULL, LOW, FAILED = 0, 1, 2  # tiers: full-budget result, low-fidelity result only, no usable result


def fitness_class(weights: Sequence[float]) -> type[base.Fitness]:
    """A DEAP ``Fitness`` subclass with these weights, local to the caller (no ``creator``)."""
    return type("Fitness", (base.Fitness,), {"weights": tuple(weights)})


class Individual:
    """What DEAP's selections see: the position of a plain record, and its fitness."""

    __slots__ = ("fitness", "index")

    def __init__(self, index: int, fitness: base.Fitness) -> None:
        self.index = index
        self.fitness = fitness


def individuals(scores: Sequence[tuple[Values | None, int]], fitness: type[base.Fitness]) -> list[Individual]:
    """DEAP individuals for records given as (objective values or None, tier).

    The fitness ranks tiers strictly: per objective, a record of tier ``t`` is shifted ``t`` times the
    spread of all values (+1) worse, so every full-budget result dominates every low-fidelity one, and
    a record without values (failed, infeasible, pruned) is worse than all of them. All finite, so
    NSGA-II's crowding distances stay well defined.
    """
    weights = fitness.weights
    known = [weighted(values, weights) for values, _ in scores if values is not None]
    width = len(weights)
    low = [min((w[i] for w in known), default=0.0) for i in range(width)]
    spread = [max((w[i] for w in known), default=0.0) - low[i] + 1.0 for i in range(width)]
    made = []
    for index, (values, tier) in enumerate(scores):
        base_w = weighted(values, weights) if values is not None else tuple(low)
        shift = tier if values is not None else FAILED
        fit = fitness()
        fit.values = tuple(
            (w - shift * s) / weight for w, s, weight in zip(base_w, spread, weights, strict=True)
        )
        made.append(Individual(index, fit))
    return made


@contextmanager
def private_random(rng: random.Random) -> Iterator[None]:
    """Run DEAP code, which draws from the global ``random`` module, on ``rng`` instead.

    The global state is swapped for ``rng``'s on entry; on exit ``rng`` takes the advanced state (as if
    it had made the draws) and the global state is put back, so neither leaks into the other.
    """
    saved = random.getstate()
    random.setstate(rng.getstate())
    try:
        yield
    finally:
        rng.setstate(random.getstate())
        random.setstate(saved)


def sel_tournament_dcd(pool: Sequence[Individual], k: int) -> list[Individual]:
    """``tools.selTournamentDCD`` for any ``len(pool) >= 1`` and ``k``.

    DEAP needs the pool size to be a multiple of 4 and returns that many; here the pool is padded with
    random repeats to a multiple of 4 and full rounds are drawn until ``k`` are chosen. Crowding
    distances must already be set (``tools.selNSGA2`` sets them).
    """
    chosen: list[Individual] = []
    while len(chosen) < k:
        padded = list(pool) + [random.choice(pool) for _ in range(-len(pool) % 4)]
        chosen += tools.selTournamentDCD(padded, len(padded))
    return chosen[:k]


def sel_nsga2_tournament(pool: Sequence[Individual], k: int) -> list[Individual]:
    """Parent selection of NSGA-II: crowding distances from a non-dominated sort, then DCD tournaments."""
    tools.selNSGA2(list(pool), len(pool))
    return sel_tournament_dcd(pool, k)


def promoted_count(children: int, fraction: float) -> int:
    """How many of ``children`` low-fidelity results go on to the full budget: ceil of the fraction, >= 1."""
    return max(1, math.ceil(fraction * children - 1e-9))

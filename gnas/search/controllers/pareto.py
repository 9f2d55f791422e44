"""Dominance, a Pareto front and a hall of fame on plain data (genotype, objective values), and a 2-D
hypervolume.

They follow DEAP's ``tools.ParetoFront`` / ``tools.HallOfFame`` semantics but hold JSON-safe tuples
instead of ``creator`` individuals, so a controller's state can be saved without pickles. ``weights``
are DEAP fitness weights: +1 to maximise an objective, -1 to minimise it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnas.space import Genotype

Values = tuple[float, ...]
Point = tuple[Genotype, Values]


def points_to_json(points: Sequence[Point]) -> list[dict[str, Any]]:
    return [{"genotype": list(genotype), "values": list(values)} for genotype, values in points]


def points_from_json(data: Sequence[dict[str, Any]]) -> list[Point]:
    return [(tuple(point["genotype"]), tuple(point["values"])) for point in data]


def weighted(values: Sequence[float], weights: Sequence[float]) -> Values:
    """The values as DEAP's ``wvalues``: larger is better for every objective."""
    return tuple(value * weight for value, weight in zip(values, weights, strict=True))


def dominates(a: Sequence[float], b: Sequence[float], weights: Sequence[float]) -> bool:
    """Whether ``a`` is at least as good as ``b`` on every objective and better on one."""
    wa, wb = weighted(a, weights), weighted(b, weights)
    return all(x >= y for x, y in zip(wa, wb, strict=True)) and wa != wb


def update_front(front: list[Point], point: Point, weights: Sequence[float]) -> list[Point]:
    """The front with ``point`` added, unless a member dominates it or has its genotype; members it
    dominates leave. Equal values with a different genotype both stay (as in ``tools.ParetoFront``).
    Kept sorted best first (lexicographic on the weighted values)."""
    genotype, values = point
    if any(g == genotype or dominates(v, values, weights) for g, v in front):
        return front
    kept = [(g, v) for g, v in front if not dominates(values, v, weights)]
    kept.append(point)
    return sorted(kept, key=lambda p: weighted(p[1], weights), reverse=True)


def update_hall_of_fame(fame: list[Point], point: Point, weights: Sequence[float], size: int) -> list[Point]:
    """The ``size`` best distinct genotypes seen, best first (lexicographic on the weighted values, the
    primary objective first; on ties the earlier one ranks higher)."""
    if any(g == point[0] for g, _ in fame):
        return fame
    ranked = sorted([*fame, point], key=lambda p: weighted(p[1], weights), reverse=True)
    return ranked[:size]


def hypervolume_2d(
    values: Sequence[Sequence[float]], weights: Sequence[float], reference: Sequence[float]
) -> float:
    """Area dominated by the points and bounded by ``reference`` (in the objectives' own units, worse
    than the points on both objectives); points not better than the reference on both add nothing."""
    rx, ry = (-r * w for r, w in zip(reference, weights, strict=True))
    points = sorted((-v[0] * weights[0], -v[1] * weights[1]) for v in values)  # minimisation
    front: list[tuple[float, float]] = []
    for x, y in points:
        if x < rx and y < ry and (not front or y < front[-1][1]):
            front.append((x, y))
    if not front:
        return 0.0
    edges = [x for x, _ in front[1:]] + [rx]
    return sum((edge - x) * (ry - y) for (x, y), edge in zip(front, edges, strict=True))

"""How many distinct architectures a search space holds, counted without enumerating them.

Distinct means distinct canonical architectures. The count is a sum over the values of the fields
that steer the rest: ``num_layers``, the fields that conditions read and the fields that decide what
the canonical form ignores (``conv``, ``heads``, ``score``, ...). For each distinct assignment of
those, every other field contributes its number of values, or 1 when inactive or ignored, and the
layers contribute the product of their own counts, each computed the same way once per layer kind and
per value of the globals its conditions read. Continuous dimensions that can matter make it infinite.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

from gnas.architecture import Architecture
from gnas.space.fields import GLOBAL, NUM_LAYERS, influencers, is_ignored
from gnas.space.genotype import _effective, _global_node, decode_globals, decode_layer, decode_training
from gnas.space.space import Param, SearchSpace


def _steering(params: Sequence[Param], scope: str, referenced: set[str]) -> list[int]:
    """Positions of the params that must be enumerated: read by conditions or by the canonical form."""
    influence = influencers(tuple(param.field for param in params))
    names = set(referenced) | set().union(*influence.values())
    if scope == GLOBAL:
        names.add(NUM_LAYERS)
    return [position for position, param in enumerate(params) if param.name in names]


def _domain(param: Param) -> tuple[Any, ...]:
    values = param.dimension.values()
    if values is not None:
        return values
    low, high = getattr(param.dimension, "low", None), getattr(param.dimension, "high", None)
    return (low, high)


def _count_block(
    params: Sequence[Param],
    steering: list[int],
    decode: Callable[[Callable[[int, Param], Any]], Any],
    node_of: Callable[[Any], Any],
    fields_of: Callable[[Any], Any],
    rest: Callable[[Any], int | float],
) -> int | float:
    """Sum over distinct steering assignments of (product of the other params' sizes) times ``rest``."""
    seen: set[tuple[Any, ...]] = set()
    total: int | float = 0
    steering_set = set(steering)
    for combo in itertools.product(*(_domain(params[position]) for position in steering)):
        chosen = dict(zip(steering, combo, strict=True))
        active: set[int] = set()

        def gene_at(
            position: int, param: Param, chosen: dict[int, Any] = chosen, active: set[int] = active
        ) -> Any:
            active.add(position)
            value = chosen[position] if position in chosen else _domain(param)[0]
            return param.field.default if value is None else value

        raw = decode(gene_at)
        node = node_of(raw)
        key = tuple(_effective(fields_of(node), params[position].name) for position in steering)
        if key in seen:
            continue
        seen.add(key)
        product: int | float = 1
        for position, param in enumerate(params):
            if position not in active or is_ignored(node, param.field) or param.name == NUM_LAYERS:
                continue
            if param.dimension.is_continuous:
                return math.inf
            if position not in steering_set:
                product *= param.dimension.size
        total += product * rest(node)
        if math.isinf(total):
            return math.inf
    return total


def count_architectures(space: SearchSpace) -> int | float:
    """Number of distinct canonical architectures, times the distinct training settings of the space's
    training genes (a BPR loss counts once whatever the softmax temperature); ``math.inf`` when a
    continuous dimension can matter."""
    global_refs = {c.field for param in space.params for c in param.when if c.scope == GLOBAL}
    cache: dict[tuple[Any, ...], int | float] = {}

    def layer_count(layer: int, outer: Architecture) -> int | float:
        block = space.layers[layer]
        read = tuple(c.field for param in block for c in param.when if c.scope == GLOBAL)
        signature = (
            tuple((p.dimension, p.when) for p in block),
            tuple(_effective(outer, name) for name in read),
        )
        if signature not in cache:
            local_refs = {c.field for param in block for c in param.when if c.scope != GLOBAL}
            cache[signature] = _count_block(
                block,
                _steering(block, "layer", local_refs),
                lambda gene_at: decode_layer(space, layer, gene_at, outer),
                lambda raw: raw.canonical(),
                lambda node: node,
                lambda node: 1,
            )
        return cache[signature]

    def training_count(outer: Architecture) -> int | float:
        if not space.training:
            return 1
        local_refs = {c.field for param in space.training for c in param.when if c.scope != GLOBAL}
        return _count_block(
            space.training,
            _steering(space.training, "training", local_refs),
            lambda gene_at: decode_training(space, gene_at, outer),
            lambda raw: raw.canonical(),
            lambda node: node,
            lambda node: 1,
        )

    def layers_count(node: Architecture) -> int | float:
        product: int | float = training_count(node)
        for layer in range(node.num_layers):
            product *= layer_count(layer, node)
        return product

    return _count_block(
        space.globals,
        _steering(space.globals, GLOBAL, global_refs),
        lambda gene_at: decode_globals(space, gene_at),
        _global_node,
        lambda node: node,
        layers_count,
    )


def format_count(count: int | float) -> str:
    """``1,234``, ``6,966,999,229,440,000,000 (~7.0e+18)`` or ``infinite (continuous dimensions)``."""
    if math.isinf(count):
        return "infinite (continuous dimensions)"
    exact = f"{int(count):,}"
    return exact if count < 10**6 else f"{exact} (~{count:.1e})"

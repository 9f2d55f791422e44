"""A search space read through Optuna's define-by-run interface: a ``trial.suggest_*`` per gene that matters.

Genes are read in the space's decoding order by the space's own decoders (``decode_globals`` and
``decode_layer``), so conditions are evaluated exactly as for every other genotype. A gene is
suggested only when it is active (its layer is below ``num_layers`` and its ``when`` holds), its
dimension has more than one value, and the canonical form does not ignore it (``heads`` of a GCN
layer, ``training.temperature`` under BPR). Inactive or ignored genes are never suggested, so Optuna
sees a conditional space. Names are the gene keys (``layers[1].heads``, ``training.lr``); a float
range is a ``FloatDistribution`` (log where the space says ``log: true``), so TPE models ``training.lr``
on its own scale.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import optuna

from gnas.architecture import LayerArch
from gnas.space import FILLER, FloatRange, Genotype, IntRange, Param, SearchSpace, canonical
from gnas.space.fields import NUM_LAYERS, FieldInfo, influencers, is_ignored, reachable
from gnas.space.genotype import GeneAt, _global_node, decode_globals, decode_layer, decode_training
from gnas.space.training import TrainingGenes

Suggest = Callable[[Param], Any]


def suggest_value(trial: optuna.trial.BaseTrial, param: Param) -> Any:
    """``suggest_int`` for an int range, ``suggest_float`` for a float range, categorical otherwise."""
    dimension = param.dimension
    if isinstance(dimension, IntRange):
        return trial.suggest_int(param.key, dimension.low, dimension.high, step=dimension.step)
    if isinstance(dimension, FloatRange):
        return trial.suggest_float(param.key, dimension.low, dimension.high, log=dimension.log)
    values = dimension.values()
    if values is None:
        raise TypeError(f"{param.key}: no Optuna distribution for {dimension.describe()}")
    return trial.suggest_categorical(param.key, list(values))


@functools.lru_cache(maxsize=64)
def _settled(fields: tuple[FieldInfo, ...], names: tuple[str, ...]) -> frozenset[str]:
    """Fields whose being ignored is known when read in order ``names``: all they depend on comes first."""
    influence = dict(influencers(fields))
    done: set[str] = set()
    settled = set()
    for name in names:
        if reachable(influence, name) <= done:
            settled.add(name)
        done.add(name)
    return frozenset(settled)


def _layer_node(values: dict[str, Any]) -> LayerArch:
    return LayerArch.model_validate(values, strict=True).canonical()


def _training_node(values: dict[str, Any]) -> TrainingGenes:
    return TrainingGenes.model_validate(values).canonical()


Node = Callable[[dict[str, Any]], Any]


def suggest_genotype(space: SearchSpace, suggest: Suggest) -> Genotype:
    """The canonical genotype whose genes that matter come from ``suggest(param)``, in decoding order."""
    genes: list[Any] = [FILLER] * space.length

    def reader(
        index_of: Callable[[int], int], params: Sequence[Param], order: Sequence[int], node: Node
    ) -> GeneAt:
        settled = _settled(tuple(p.field for p in params), tuple(params[i].name for i in order))
        seen: dict[str, Any] = {}  # the values read so far in this scope, as the decoder sees them

        def gene_at(position: int, param: Param) -> Any:
            if param.name in settled and is_ignored(node(seen), param.field):
                value = param.field.default  # the canonical form resets it: nothing to suggest
            else:
                fixed = param.dimension.values() if not space.is_varying(param) else None
                value = fixed[0] if fixed else suggest(param)
                genes[index_of(position)] = value
            seen[param.name] = param.field.default if value is None else value
            return seen[param.name]

        return gene_at

    def at(layer: int | None) -> Callable[[int], int]:
        return functools.partial(space.gene_index, layer)

    global_values = decode_globals(space, reader(at(None), space.globals, space.global_order, _global_node))
    outer = _global_node(global_values)
    for layer in range(global_values.get(NUM_LAYERS, space.num_layers.field.default)):
        gene_at = reader(at(layer), space.layers[layer], space.layer_orders[layer], _layer_node)
        decode_layer(space, layer, gene_at, outer)
    training = reader(space.training_index, space.training, space.training_order, _training_node)
    decode_training(space, training, outer)
    return canonical(space, genes)


def optuna_params(space: SearchSpace, genotype: Genotype) -> dict[str, Any]:
    """The Optuna params (gene key -> value) a trial suggests to arrive at the canonical ``genotype``."""
    index = {param.key: i for i, param in enumerate(space.params)}
    params: dict[str, Any] = {}

    def suggest(param: Param) -> Any:
        params[param.key] = genotype[index[param.key]]
        return params[param.key]

    suggest_genotype(space, suggest)
    return params

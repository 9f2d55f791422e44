"""A parsed search space: one ``Param`` per gene, in the genotype's order.

The genotype is a flat list: the global genes (``Architecture``'s fields in declaration order, with
``num_layers`` in place of ``layers``: ``embedding_dim, num_layers, combine, score, temperature``
and the text-fusion genes ``fusion, fusion_op, fusion_layers, fusion_dim, fusion_user_profile``),
then one block per layer up to the largest ``num_layers`` of the space, each block ``LayerArch``'s
fields in declaration order (``conv, hidden, heads, concat_heads, aggr, activation, dropout,
attention_dropout, residual, norm``). Every field has a gene, fixed or not, so the layout depends only
on the largest number of layers. Last come the training genes: one per key of the space's optional
``training:`` mapping (``lr``, ``weight_decay``, ``batch_size``, ``loss``, ``num_negatives``,
``temperature``, in that order); a space without one has none, so its genotypes are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from gnas.space.dimensions import Dimension
from gnas.space.fields import GLOBAL, NUM_LAYERS, FieldInfo, same
from gnas.space.problems import plain


@dataclass(frozen=True)
class Condition:
    """``field`` is one of ``values``: a global field, or one of the same layer when ``scope`` is "layer".

    It is tested on the *effective* value: the one in the canonical architecture, so ``heads`` of a
    LightGCN layer is 1 whatever its gene says.
    """

    field: str
    scope: str
    values: tuple[Any, ...]

    def holds(self, value: Any) -> bool:
        return any(same(value, accepted) for accepted in self.values)

    def describe(self) -> str:
        shown = [plain(v) for v in self.values]
        return f"{self.field} = {shown[0]}" if len(shown) == 1 else f"{self.field} in [{', '.join(shown)}]"


@dataclass(frozen=True)
class Param:
    """One gene: a field of the architecture (global, or of layer ``layer``), its dimension and conditions.

    ``key`` names it in genotypes and, later, in Optuna (``embedding_dim``, ``layers[1].heads``);
    ``path`` is where it is written in the YAML (``space.layers.heads`` for the shared layer mapping).
    ``explicit`` is false for a field the YAML leaves out (fixed at the Architecture default).
    """

    key: str
    path: str
    field: FieldInfo
    layer: int | None
    dimension: Dimension
    when: tuple[Condition, ...] = ()
    explicit: bool = True

    @property
    def name(self) -> str:
        return self.field.name

    def describe_when(self) -> str:
        return " and ".join(condition.describe() for condition in self.when)


@dataclass(frozen=True)
class SearchSpace:
    """Global params, one tuple of params per layer index (up to the largest ``num_layers``), training params.

    ``global_order`` and ``layer_orders`` are the decoding orders (indices into ``globals`` and into
    each layer block): a param comes after every field its conditions read, directly or through the
    canonical form (a condition on ``heads`` is read after ``conv``); ``training_order`` likewise for
    ``training``. ``shared_layers`` is true when ``layers:`` is one mapping for every layer.
    """

    globals: tuple[Param, ...]
    layers: tuple[tuple[Param, ...], ...]
    global_order: tuple[int, ...]
    layer_orders: tuple[tuple[int, ...], ...]
    shared_layers: bool = True
    layer_field_infos: tuple[FieldInfo, ...] = field(default=(), repr=False)
    training: tuple[Param, ...] = ()
    training_order: tuple[int, ...] = ()

    @property
    def max_layers(self) -> int:
        return len(self.layers)

    @property
    def num_layers(self) -> Param:
        return next(param for param in self.globals if param.name == NUM_LAYERS)

    @property
    def global_size(self) -> int:
        return len(self.globals)

    @property
    def block_size(self) -> int:
        return len(self.layer_field_infos)

    @property
    def length(self) -> int:
        """Number of genes."""
        return self.global_size + self.max_layers * self.block_size + len(self.training)

    @property
    def params(self) -> tuple[Param, ...]:
        """Every param in gene order."""
        return self.globals + tuple(param for block in self.layers for param in block) + self.training

    def keys(self) -> list[str]:
        return [param.key for param in self.params]

    def gene_index(self, layer: int | None, position: int) -> int:
        """Index in the genotype of the ``position``-th param of layer ``layer`` (``None``: global)."""
        if layer is None:
            return position
        return self.global_size + layer * self.block_size + position

    def training_index(self, position: int) -> int:
        """Index in the genotype of the ``position``-th training param."""
        return self.global_size + self.max_layers * self.block_size + position

    def decoding_order(self) -> Iterator[tuple[int | None, int]]:
        """``(layer, position)`` pairs: globals first, then each layer, each in its decoding order."""
        for position in self.global_order:
            yield None, position
        for layer, order in enumerate(self.layer_orders):
            for position in order:
                yield layer, position

    def param(self, layer: int | None, position: int) -> Param:
        return self.globals[position] if layer is None else self.layers[layer][position]

    def is_varying(self, param: Param) -> bool:
        return param.dimension.size != 1

    def may_fuse_text(self) -> bool:
        """Whether some architecture of the space fuses item text (its ``fusion`` can be other than none)."""
        fusion = next(param for param in self.globals if param.name == "fusion")
        return any(value != "none" for value in fusion.dimension.values() or ())


def is_global(param: Param) -> bool:
    return param.field.scope == GLOBAL

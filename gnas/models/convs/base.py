"""What every message-passing layer offers: built from a :class:`LayerArch` and an input width, it
reports its output width, its canonical form and its cost, and maps node features over the graph."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models.opcost import OpCost

# The LayerArch fields that belong to some convs only; the rest (activation, norm, ...) apply to all.
CONV_OPTIONS = ("hidden", "heads", "concat_heads", "aggr", "attention_dropout")


class ConvLayer(nn.Module):
    """A PyG conv on the homogeneous user+item graph (users attend/aggregate over items and back).

    Subclasses set ``uses`` (which of :data:`CONV_OPTIONS` they read), build their PyG layer in
    ``__init__`` and implement ``forward(x, graph)``; ``cost`` gives forward FLOPs and memory.
    """

    uses: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, layer: LayerArch, in_dim: int) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = self.output_dim(layer, in_dim)

    @classmethod
    def output_dim(cls, layer: LayerArch, in_dim: int) -> int:
        """Width of the layer's output: ``hidden``, or the input width when it is ``None``."""
        return layer.hidden or in_dim

    @classmethod
    def canonical(cls, layer: LayerArch) -> LayerArch:
        """``layer`` with every option this conv ignores set to its default."""
        defaults = LayerArch()
        changes: dict[str, Any] = {
            name: getattr(defaults, name) for name in CONV_OPTIONS if name not in cls.uses
        }
        return layer.model_copy(update=changes)

    @classmethod
    def cost(cls, layer: LayerArch, in_dim: int, nodes: int, edges: int) -> OpCost:
        """Forward FLOPs and intermediate floats over a graph of ``nodes`` and ``edges`` (directed).

        The layer's input and output are counted by the caller, not here.
        """
        raise NotImplementedError

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        raise NotImplementedError


class AttentionConvLayer(ConvLayer):
    """Multi-head attention convs: ``heads`` outputs of width ``hidden``, concatenated or averaged."""

    uses = frozenset({"hidden", "heads", "concat_heads", "attention_dropout"})

    @classmethod
    def output_dim(cls, layer: LayerArch, in_dim: int) -> int:
        per_head = layer.hidden or in_dim
        return per_head * layer.heads if layer.concat_heads else per_head

    @classmethod
    def canonical(cls, layer: LayerArch) -> LayerArch:
        layer = super().canonical(layer)
        # Concatenating or averaging a single head is the same layer.
        return layer.model_copy(update={"concat_heads": False}) if layer.heads == 1 else layer

    def attention(self, x: Tensor, graph: TrainGraph) -> Tensor:
        """Attention weights ``[edges, heads]`` over ``graph.edge_index`` (in its order) for input ``x``.

        Subclasses keep their PyG layer (which accepts ``return_attention_weights``) in ``self.conv``.
        """
        conv: Any = self.conv
        _, (edge_index, alpha) = conv(x, graph.edge_index, return_attention_weights=True)
        if not torch.equal(edge_index, graph.edge_index):
            raise RuntimeError("the attention layer reordered the edges")
        return alpha

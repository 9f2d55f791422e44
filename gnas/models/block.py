r"""One layer of a built architecture: a conv wrapped in the per-layer choices.

.. math::
    \mathbf{h}' = \sigma\big(\mathrm{norm}(\mathrm{conv}(\mathrm{dropout}(\mathbf{h})))\big)
    \;[+\; P\mathbf{h} \text{ if residual}]

``P`` is the identity, or a learned projection when the conv changes the width. Choices that are off
(no dropout, no norm, identity activation) add no module call at all, so a LightGCN layer costs one
sparse-dense product.
"""

from __future__ import annotations

from torch import Tensor, nn

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models import ops
from gnas.models.convs import CONVS
from gnas.models.opcost import OpCost


class Block(nn.Module):
    """``LayerArch`` -> dropout, conv, norm, activation and residual, in that order."""

    def __init__(self, layer: LayerArch, in_dim: int) -> None:
        super().__init__()
        self.conv = CONVS[layer.conv](layer, in_dim)
        self.out_dim = self.conv.out_dim
        self.dropout = ops.dropout(layer.dropout) if layer.dropout > 0 else None
        self.norm = ops.norm(layer.norm, self.out_dim) if layer.norm != "none" else None
        self.activation = ops.activation(layer.activation) if layer.activation != "identity" else None
        self.residual = ops.Residual(in_dim, self.out_dim) if layer.residual else None

    @staticmethod
    def cost(layer: LayerArch, in_dim: int, nodes: int, edges: int) -> OpCost:
        """Forward FLOPs and floats of the whole block, its output included."""
        conv = CONVS[layer.conv]
        out = conv.output_dim(layer, in_dim)
        total = conv.cost(layer, in_dim, nodes, edges) + OpCost(saved=float(nodes * out))
        if layer.dropout > 0:  # the dropped copy and its mask
            total += OpCost(flops=float(nodes * in_dim), saved=1.25 * nodes * in_dim)
        if layer.norm != "none":
            total += OpCost(flops=5.0 * nodes * out, saved=float(nodes * out))
        if layer.activation != "identity":
            total += OpCost(flops=4.0 * nodes * out, saved=float(nodes * out))
        if layer.residual:
            projected = 0 if in_dim == out else 1
            total += OpCost(flops=nodes * out * (1.0 + 2.0 * in_dim * projected), saved=nodes * out * 1.0)
        return total

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        h = x if self.dropout is None else self.dropout(x)
        h = self.conv(h, graph)
        if self.norm is not None:
            h = self.norm(h)
        if self.activation is not None:
            h = self.activation(h)
        if self.residual is not None:
            h = self.residual(h, x)
        return h

r"""LightGCN's propagation (He et al., SIGIR 2020): PyG's :class:`~torch_geometric.nn.conv.LGConv`, as
:class:`~gnas.models.propagation.SymmetricLGConv`.

.. math::
    \mathbf{X}' = \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}\mathbf{X}

No weights and no self-loops: one sparse-dense product with the graph's cached ``norm_adj`` (built once,
never re-normalised), forward and backward (the matrix is symmetric). The width never changes, so
``hidden`` is ignored. The same module as :class:`gnas.models.lightgcn.LightGCN`'s layers.
"""

from __future__ import annotations

from torch import Tensor

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models.convs.base import ConvLayer
from gnas.models.opcost import OpCost
from gnas.models.propagation import SymmetricLGConv


class LightGCNLayer(ConvLayer):
    """Parameter-free smoothing over the symmetric-normalised adjacency."""

    def __init__(self, layer: LayerArch, in_dim: int) -> None:
        super().__init__(layer, in_dim)
        self.conv = SymmetricLGConv()

    @classmethod
    def output_dim(cls, layer: LayerArch, in_dim: int) -> int:
        return in_dim

    @classmethod
    def cost(cls, layer: LayerArch, in_dim: int, nodes: int, edges: int) -> OpCost:
        return OpCost(flops=2.0 * edges * in_dim)

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        return self.conv(x, graph.norm_adj)

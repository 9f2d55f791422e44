r"""Graph convolution (Kipf & Welling, ICLR 2017) with PyG's :class:`~torch_geometric.nn.conv.GCNConv`.

.. math::
    \mathbf{X}' = \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}\mathbf{X}\mathbf{\Theta} + \mathbf{b}

on the graph's cached ``norm_adj`` (``normalize=False``: nothing is re-normalised per step), with
:func:`~gnas.models.propagation.symmetric_spmm` for the product, forward and backward. As in LightGCN
the bipartite graph has no self-loops: a user's new features come from its items only (set
``residual`` to keep its own).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.nn import GCNConv

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models.convs.base import ConvLayer
from gnas.models.opcost import OpCost
from gnas.models.propagation import symmetric_spmm


class SymmetricGCNConv(GCNConv):
    """:class:`GCNConv` whose product with a symmetric CSR adjacency skips the transpose in backward."""

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor) -> Tensor:
        if adj_t.layout == torch.sparse_csr:
            return symmetric_spmm(adj_t, x)
        return super().message_and_aggregate(adj_t, x)


class GCNLayer(ConvLayer):
    """A linear map, then one sparse-dense product with the normalised adjacency, plus a bias."""

    uses = frozenset({"hidden"})

    def __init__(self, layer: LayerArch, in_dim: int) -> None:
        super().__init__(layer, in_dim)
        self.conv = SymmetricGCNConv(in_dim, self.out_dim, normalize=False, add_self_loops=False)

    @classmethod
    def cost(cls, layer: LayerArch, in_dim: int, nodes: int, edges: int) -> OpCost:
        out = cls.output_dim(layer, in_dim)
        return OpCost(flops=2.0 * nodes * in_dim * out + 2.0 * edges * out, saved=float(nodes * out))

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        return self.conv(x, graph.norm_adj)

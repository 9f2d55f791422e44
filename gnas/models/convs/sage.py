r"""GraphSAGE (Hamilton et al., NeurIPS 2017) with PyG's :class:`~torch_geometric.nn.conv.SAGEConv`.

.. math::
    \mathbf{x}'_i = \mathbf{W}_1\mathbf{x}_i + \mathbf{W}_2\,\underset{j\in\mathcal{N}(i)}{\mathrm{aggr}}\;
    \mathbf{x}_j + \mathbf{b}, \qquad \mathrm{aggr}\in\{\mathrm{sum}, \mathrm{mean}, \mathrm{max}\}

Neighbours of a user are its items and vice versa. The aggregation is a sparse-dense product with the
unweighted adjacency (``norm_adj``'s pattern with unit values, sharing its index tensors), about 3x
faster than gathering over ``edge_index``: sum and mean through
:func:`~gnas.models.propagation.symmetric_spmm` (the matrix is symmetric), max through
``torch.sparse.mm(..., "amax")`` on CPU and over ``edge_index`` on CUDA, where that reduction is missing.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor
from torch_geometric.nn import SAGEConv

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models.convs.base import ConvLayer
from gnas.models.opcost import OpCost
from gnas.models.propagation import symmetric_spmm


def unit_adjacency(graph: TrainGraph) -> Tensor:
    """The adjacency with the sparsity of ``norm_adj`` and every value 1 (shares its index tensors)."""
    adj = graph.norm_adj
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
        return torch.sparse_csr_tensor(
            adj.crow_indices(), adj.col_indices(), torch.ones_like(adj.values()), adj.shape
        )


class SymmetricSAGEConv(SAGEConv):
    """:class:`SAGEConv` whose sum/mean over a symmetric CSR adjacency skips the transpose in backward."""

    def message_and_aggregate(self, adj_t: Tensor, x: tuple[Tensor, Tensor]) -> Tensor:
        if adj_t.layout != torch.sparse_csr or self.aggr not in ("sum", "mean"):
            return super().message_and_aggregate(adj_t, x)
        out = symmetric_spmm(adj_t, x[0])
        if self.aggr == "mean":
            ptr = adj_t.crow_indices()
            out = out / (ptr[1:] - ptr[:-1]).clamp(min=1).unsqueeze(-1).to(out.dtype)
        return out


class SAGELayer(ConvLayer):
    """Own features plus the sum, mean or max of the neighbours', each through its own linear map."""

    uses = frozenset({"hidden", "aggr"})

    def __init__(self, layer: LayerArch, in_dim: int) -> None:
        super().__init__(layer, in_dim)
        self.aggr = layer.aggr
        self.conv = SymmetricSAGEConv(in_dim, self.out_dim, aggr=layer.aggr)

    @classmethod
    def cost(cls, layer: LayerArch, in_dim: int, nodes: int, edges: int) -> OpCost:
        out = cls.output_dim(layer, in_dim)
        # the aggregate (and for max the int64 argmax of each of its floats), the two linear maps
        saved = nodes * in_dim * (3 if layer.aggr == "max" else 1) + 2 * nodes * out
        return OpCost(flops=1.0 * edges * in_dim + 4.0 * nodes * in_dim * out, saved=float(saved))

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        if self.aggr == "max" and x.is_cuda:
            return self.conv(x, graph.edge_index)
        return self.conv(x, unit_adjacency(graph))

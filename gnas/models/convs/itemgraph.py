r"""Item-item propagation over the training co-occurrence graph (a normalised two-hop item graph, as
UltraGCN's item constraints, Mao et al., CIKM 2021).

.. math::
    \mathbf{h}_u' = \mathbf{h}_u, \qquad
    \mathbf{h}_i' = \sum_j S_{ij}\,\mathbf{h}_j, \qquad
    S = D^{-1/2} C_k D^{-1/2}

``C_k`` is the item co-occurrence matrix :math:`R^\top R` of the TRAINING edges without its diagonal,
cut to each item's :data:`NEIGHBOURS` most co-occurring items (ties: the lower item index) and
symmetrised; ``D`` its row sums (:func:`gnas.data.graph.item_graph_matrix`). Users keep their rows: the
layer only smooths items over items, so user-item propagation stays with the other layers. No weights,
and the width never changes (``hidden`` is ignored, as in LightGCN). ``S`` has no self-loops: an item
that co-occurs with no other comes out as zeros (with ``combine: last`` after this layer it scores 0).
The graph is built on first use and cached on the :class:`~gnas.data.graph.TrainGraph`, so models
without this layer never build it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models.convs.base import ConvLayer
from gnas.models.opcost import OpCost
from gnas.models.propagation import symmetric_spmm

# Neighbours kept per item before symmetrising: each item row of S has at least min(k, its co-occurring
# items) and at most about 2k entries.
NEIGHBOURS = 20


def item_graph_nonzeros(num_items: int) -> int:
    """An upper bound on the non-zeros of ``S`` over ``num_items`` items: ``k`` per row, both ways."""
    return 2 * NEIGHBOURS * num_items


class ItemGraphLayer(ConvLayer):
    """Parameter-free smoothing of the item rows over the normalised item co-occurrence graph."""

    @classmethod
    def output_dim(cls, layer: LayerArch, in_dim: int) -> int:
        return in_dim

    @classmethod
    def cost(cls, layer: LayerArch, in_dim: int, nodes: int, edges: int) -> OpCost:
        # Items are fewer than the nodes, and than the interactions (edges / 2): a bound on I.
        items = min(nodes, edges // 2)
        return OpCost(flops=2.0 * item_graph_nonzeros(items) * in_dim, temp=float(items * in_dim))

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        users = graph.num_users
        items = symmetric_spmm(graph.item_graph(NEIGHBOURS), x[users:])
        return torch.cat([x[:users], items])

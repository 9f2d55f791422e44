r"""LightGCN (He et al., SIGIR 2020) on PyG's :class:`~torch_geometric.nn.conv.LGConv`.

The adjacency arrives normalised and symmetric (see :mod:`gnas.models.propagation`).

.. math::
    \mathbf{E}^{(k+1)} = \mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}\mathbf{E}^{(k)}, \qquad
    \mathbf{E} = \frac{1}{K+1}\sum_{k=0}^{K}\mathbf{E}^{(k)}

No feature transforms, no non-linearities: ID embeddings smoothed over the user-item graph.
"""

from __future__ import annotations

import torch

from gnas.data.graph import TrainGraph
from gnas.models.base import Recommender
from gnas.models.propagation import SymmetricLGConv


class LightGCN(Recommender):
    """K parameter-free propagation steps over the cached normalised adjacency, layers averaged."""

    def __init__(self, num_users: int, num_items: int, embedding_dim: int = 64, num_layers: int = 3) -> None:
        super().__init__(num_users, num_items, embedding_dim)
        self.convs = torch.nn.ModuleList(SymmetricLGConv() for _ in range(num_layers))

    def forward(self, graph: TrainGraph) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([self.user_embedding.weight, self.item_embedding.weight])
        total = x
        for conv in self.convs:
            x = conv(x, graph.norm_adj)
            total = total + x
        out = total / (len(self.convs) + 1)
        return out[: self.num_users], out[self.num_users :]

"""The user-item training graph: built from TRAIN interactions only, normalised once, reused every step."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_torch_csr_tensor

from gnas.data.interactions import TRAIN
from gnas.data.split import Split


@dataclass
class TrainGraph:
    """A homogeneous view of the bipartite graph: users are nodes ``0..U-1``, items ``U..U+I-1``.

    ``edge_index`` holds every training edge in both directions; ``norm_adj`` is the symmetric
    normalised adjacency ``D^-1/2 A D^-1/2`` as a sparse CSR tensor (LightGCN's propagation matrix).
    """

    num_users: int
    num_items: int
    train_user: torch.Tensor
    train_item: torch.Tensor
    edge_index: torch.Tensor
    norm_adj: torch.Tensor

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    def to(self, device: torch.device | str) -> TrainGraph:
        return TrainGraph(
            self.num_users,
            self.num_items,
            self.train_user.to(device),
            self.train_item.to(device),
            self.edge_index.to(device),
            self.norm_adj.to(device),
        )


def build_train_graph(split: Split) -> TrainGraph:
    """Build the graph from the split's training edges; validation and test edges never enter it."""
    data = split.interactions
    user, item = split.edges(TRAIN)
    return graph_from_edges(user, item, data.num_users, data.num_items)


def graph_from_edges(user: np.ndarray, item: np.ndarray, num_users: int, num_items: int) -> TrainGraph:
    """The graph of the given (user index, item index) training edges, in their order.

    A saved model folder rebuilds its graph with this from the training edges it stores.
    """
    user_t = torch.from_numpy(np.ascontiguousarray(user, dtype=np.int64))
    item_t = torch.from_numpy(np.ascontiguousarray(item, dtype=np.int64))
    shifted = item_t + num_users
    edge_index = torch.stack([torch.cat([user_t, shifted]), torch.cat([shifted, user_t])])
    num_nodes = num_users + num_items
    index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
        norm_adj = to_torch_csr_tensor(index, weight, size=(num_nodes, num_nodes))
    return TrainGraph(num_users, num_items, user_t, item_t, edge_index, norm_adj)

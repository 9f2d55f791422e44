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
    user_np, item_np = split.edges(TRAIN)
    user = torch.from_numpy(np.ascontiguousarray(user_np))
    item = torch.from_numpy(np.ascontiguousarray(item_np))
    shifted = item + data.num_users
    edge_index = torch.stack([torch.cat([user, shifted]), torch.cat([shifted, user])])
    num_nodes = data.num_users + data.num_items
    index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
        norm_adj = to_torch_csr_tensor(index, weight, size=(num_nodes, num_nodes))
    return TrainGraph(data.num_users, data.num_items, user, item, edge_index, norm_adj)

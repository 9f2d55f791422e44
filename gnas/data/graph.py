"""The user-item training graph: built from TRAIN interactions only, normalised once, reused every step."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
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
    :meth:`item_graph` builds the item-item co-occurrence graph on first use only.
    """

    num_users: int
    num_items: int
    train_user: torch.Tensor
    train_item: torch.Tensor
    edge_index: torch.Tensor
    norm_adj: torch.Tensor
    _item_graphs: dict[int, torch.Tensor] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def num_nodes(self) -> int:
        return self.num_users + self.num_items

    def item_graph(self, k: int) -> torch.Tensor:
        """The normalised top-``k`` item co-occurrence graph of :func:`item_graph_matrix`, as an
        ``[I, I]`` CSR tensor on this graph's device; built on first use and cached on the instance."""
        cached = self._item_graphs.get(k)
        if cached is None:
            user, item = self.train_user.cpu().numpy(), self.train_item.cpu().numpy()
            matrix = item_graph_matrix(user, item, self.num_users, self.num_items, k)
            cached = self._item_graphs[k] = csr_tensor(matrix).to(self.train_user.device)
        return cached

    def to(self, device: torch.device | str) -> TrainGraph:
        moved = TrainGraph(
            self.num_users,
            self.num_items,
            self.train_user.to(device),
            self.train_item.to(device),
            self.edge_index.to(device),
            self.norm_adj.to(device),
        )
        moved._item_graphs.update({k: adj.to(device) for k, adj in self._item_graphs.items()})
        return moved


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


# Co-occurrence counts materialised at once while building the item graph (bounds its peak memory).
ITEM_GRAPH_BLOCK = 2_000_000


def item_graph_matrix(
    user: np.ndarray, item: np.ndarray, num_users: int, num_items: int, k: int
) -> sp.csr_matrix:
    r"""The symmetric normalised top-``k`` item co-occurrence graph of the (user, item) edges.

    .. math::
        C = R^\top R - \mathrm{diag}(R^\top R), \qquad
        S = D^{-1/2} \max(C_k, C_k^\top) D^{-1/2}

    ``R`` is the binary users x items matrix of the edges; ``C_k`` keeps, in each item's row, its ``k``
    largest counts (equal counts: the lower item index first); ``D`` holds the row sums of the
    symmetrised ``C_k`` (an item without co-occurrences gets an empty row). ``C`` is never held
    whole: it is computed in blocks of item rows of at most :data:`ITEM_GRAPH_BLOCK` entries (or one
    row, where a row alone has more).
    """
    ones = np.ones(len(user), dtype=np.int32)
    r = sp.csr_matrix((ones, (user, item)), shape=(num_users, num_items))
    r.sum_duplicates()
    r.data[:] = 1
    rt = r.T.tocsr()
    # an item's row of C has at most as many entries as its users have items, summed
    bound = np.cumsum(np.minimum(rt @ np.diff(r.indptr).astype(np.int64), num_items))
    empty = np.empty(0, dtype=np.int64)
    rows, cols, counts = [empty], [empty], [empty.astype(np.float64)]
    start = 0
    while start < num_items:
        base = bound[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(bound, base + ITEM_GRAPH_BLOCK, side="right")))
        block = (rt[start:stop] @ r).tocoo()
        off = block.col != block.row + start
        row, col, count = block.row[off], block.col[off], block.data[off]
        order = np.lexsort((col, -count, row))
        row, col, count = row[order], col[order], count[order]
        rank = np.arange(len(row)) - np.searchsorted(row, row)
        top = rank < k
        rows.append(row[top] + start)
        cols.append(col[top])
        counts.append(count[top].astype(np.float64))
        start = stop
    entries = (np.concatenate(counts), (np.concatenate(rows), np.concatenate(cols)))
    kept = sp.csr_matrix(entries, shape=(num_items, num_items))
    sym = kept.maximum(kept.T).tocsr()
    degree = np.asarray(sym.sum(axis=1)).ravel()
    scale = np.zeros_like(degree)
    scale[degree > 0] = degree[degree > 0] ** -0.5
    normalised = sp.csr_matrix(sp.diags(scale) @ sym @ sp.diags(scale))
    normalised.sort_indices()
    return normalised


def csr_tensor(matrix: sp.csr_matrix, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A scipy CSR matrix as a torch sparse CSR tensor of ``dtype`` (on the CPU)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse (CSR tensor support|invariant checks)")
        return torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr.astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data).to(dtype),
            size=matrix.shape,
        )

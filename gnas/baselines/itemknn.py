r"""ItemKNN: item-based nearest neighbours with cosine similarity and shrinkage.

Sarwar, Karypis, Konstan and Riedl, "Item-based collaborative filtering recommendation algorithms",
WWW 2001; the shrunk cosine and the per-item neighbourhood as in Dacrema et al., "Are we really making
much progress?", RecSys 2019 (and RecBole's ``ItemKNN``). With :math:`X` the binary training matrix,
:math:`x_i` its column of item :math:`i` and shrink :math:`h`,

.. math::
    S_{ij} = \frac{x_i^\top x_j}{\lVert x_i\rVert\,\lVert x_j\rVert + h + 10^{-6}}, \qquad S_{jj} = 0,

and :math:`W_{:,j}` keeps the ``k`` largest positive :math:`S_{ij}` of each target item :math:`j` (its
neighbours; ties to the lower item index), the rest 0. A user's scores are :math:`s_u = x_u W`, so
the reasons for recommending :math:`j` are the liked items :math:`i` with the largest :math:`W_{ij}`.

:math:`S` is never held whole: it is computed a block of target columns at a time (``X^T X_{:,B}``,
sparse times dense) and only the top ``k`` of each column are kept, in a scipy sparse matrix.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from gnas.baselines.base import FLOAT64, INDEX, Baseline, HyperParameter, MemoryNeed

BLOCK_FLOATS = 2**24  # a block of S holds at most this many floats (128 MiB)


def _block_width(num_items: int) -> int:
    return max(1, min(num_items, BLOCK_FLOATS // max(num_items, 1)))


def top_k_columns(block: np.ndarray, k: int) -> np.ndarray:
    """A boolean mask of each column's ``k`` largest positive entries, ties to the lower row."""
    rows = block.shape[0]
    if k >= rows:
        chosen = np.ones(block.shape, dtype=bool)
    else:
        kth = -np.partition(-block, k - 1, axis=0)[k - 1]
        above, tied = block > kth, block == kth
        room = k - above.sum(axis=0)
        chosen = above | (tied & (np.cumsum(tied, axis=0) <= room))
    return chosen & (block > 0)


class ItemKNN(Baseline):
    """Cosine item-item neighbours with shrinkage; ``k`` neighbours kept per item."""

    name = "itemknn"
    hyperparameters = {
        "k": HyperParameter(100, integer=True, minimum=1, doc="neighbours kept per item"),
        "shrink": HyperParameter(10.0, doc="added to the cosine's denominator"),
    }

    @classmethod
    def memory(cls, num_users: int, num_items: int, nnz: int, params: Mapping[str, float]) -> MemoryNeed:
        width = _block_width(num_items)
        kept = min(int(params["k"]), num_items) * num_items * (FLOAT64 + INDEX)
        # a dense block of S with its partition copy and masks, the users' block, the kept triplets
        block = 3 * num_items * width * FLOAT64 + num_users * width * FLOAT64
        return MemoryNeed(block + 2 * kept, kept, f"top-{int(params['k'])} neighbours of {num_items:,} items")

    def fit(self, train: sp.csr_matrix, device: torch.device) -> ItemKNN:
        self.device = device
        k, shrink = int(self.params["k"]), float(self.params["shrink"])
        num_items = train.shape[1]
        columns = train.tocsc()
        transposed = train.T.tocsr()
        norms = np.sqrt(np.asarray(columns.multiply(columns).sum(axis=0)).ravel())
        values, rows, cols = [], [], []
        width = _block_width(num_items)
        for start in range(0, num_items, width):
            stop = min(start + width, num_items)
            block = np.asarray(transposed @ columns[:, start:stop].toarray())
            block /= np.outer(norms, norms[start:stop]) + shrink + 1e-6
            block[np.arange(start, stop), np.arange(stop - start)] = 0.0
            r, c = np.nonzero(top_k_columns(block, k))
            values.append(block[r, c])
            rows.append(r)
            cols.append(c + start)
        self.matrix = sp.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
            shape=(num_items, num_items),
        )
        return self

    def score(self, rows: sp.csr_matrix) -> Tensor:
        return torch.from_numpy((rows @ self.matrix).toarray()).to(self.device)

    def weights(self, liked: np.ndarray, target: int) -> np.ndarray:
        return np.asarray(self.matrix[liked][:, [target]].toarray()).ravel()

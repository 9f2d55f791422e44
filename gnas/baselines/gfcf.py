r"""GF-CF: graph filters for collaborative filtering, a linear filter plus an ideal low-pass filter.

Shen, Wu, Zhang, Zhang, Letaief and Xie, "How Powerful is Graph Convolution for Recommendation?",
CIKM 2021. With :math:`R` the binary training matrix, :math:`D_u`, :math:`D_i` its user and item
degrees and the normalised matrix :math:`\tilde R = D_u^{-1/2} R D_i^{-1/2}`,

.. math::
    s_u = r_u\,\tilde R^\top \tilde R \;+\; \alpha\, r_u\, D_i^{-1/2}\, \bar V_k^\top \bar V_k\, D_i^{1/2},

where :math:`\bar V_k` (``k`` x items) holds the top ``k`` right singular vectors of :math:`\tilde R`.
The first term is the normalised item-item linear filter, the second the ideal low-pass part mapped
back to item space. ``k = 0`` is the linear filter alone. A zero-degree item's :math:`D^{\pm 1/2}` is
0 (GF-CF's code takes :math:`1/0`, which gives NaN for such items).

Neither filter is formed as an items x items matrix: scores are computed as
:math:`(r_u \tilde R^\top)\tilde R` (sparse) and :math:`((r_u D_i^{-1/2})\bar V_k^\top)(\bar V_k D_i^{1/2})`
(``k`` wide), so memory grows with the interactions and ``k`` x items, never items squared. The
singular vectors come from ``scipy.sparse.linalg.svds`` with a seeded start vector (the same seed gives
the same vectors); when ``k`` reaches the matrix's smaller side, from a dense SVD.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import svds
from torch import Tensor

from gnas.baselines.base import FLOAT64, INDEX, Baseline, HyperParameter, MemoryNeed


def _inverse_sqrt(degree: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        value = np.power(degree, -0.5)
    value[~np.isfinite(value)] = 0.0
    return value


def normalised_matrix(train: sp.csr_matrix) -> sp.csr_matrix:
    r""":math:`\tilde R = D_u^{-1/2} R D_i^{-1/2}` of the binary training matrix."""
    user_scale = _inverse_sqrt(np.asarray(train.sum(axis=1)).ravel())
    item_scale = _inverse_sqrt(np.asarray(train.sum(axis=0)).ravel())
    return sp.csr_matrix(sp.diags(user_scale) @ train @ sp.diags(item_scale))


def right_singular_vectors(matrix: sp.csr_matrix, k: int, seed: int) -> np.ndarray:
    """The top ``k`` right singular vectors of ``matrix`` as rows (``k`` x columns, fewer when the
    matrix has fewer)."""
    if k >= min(matrix.shape) - 1:  # beyond ARPACK's reach: a dense SVD, singular values descending
        _, _, vt = np.linalg.svd(matrix.toarray(), full_matrices=False)
        return np.ascontiguousarray(vt[:k])
    v0 = np.random.default_rng(seed).random(min(matrix.shape))
    _, _, vt = svds(matrix, k=k, v0=v0)
    return np.ascontiguousarray(vt)


class GFCF(Baseline):
    """GF-CF: the normalised item-item linear filter plus ``alpha`` times the ideal low-pass filter."""

    name = "gfcf"
    hyperparameters = {
        "k": HyperParameter(256, integer=True, doc="singular vectors of the ideal low-pass (0: none)"),
        "alpha": HyperParameter(0.3, doc="weight of the ideal low-pass part"),
    }

    @classmethod
    def memory(cls, num_users: int, num_items: int, nnz: int, params: Mapping[str, float]) -> MemoryNeed:
        k = min(int(params["k"]), num_users, num_items)
        sparse = 4 * nnz * (FLOAT64 + INDEX)  # R~ and its transpose, and scipy's copies while building
        vectors = 2 * k * num_items * FLOAT64  # V and V D^1/2
        svd = (2 * k + 1) * (num_users + num_items) * FLOAT64  # ARPACK's Lanczos basis
        return MemoryNeed(sparse + vectors + svd, sparse / 2 + vectors, f"{k} singular vectors")

    def fit(self, train: sp.csr_matrix, device: torch.device) -> GFCF:
        self.device = device
        degree = np.asarray(train.sum(axis=0)).ravel()
        self.item_scale = _inverse_sqrt(degree)
        self.normalised = normalised_matrix(train)
        self.normalised_t = sp.csr_matrix(self.normalised.T)
        k = int(self.params["k"])
        self.vectors = np.zeros((0, train.shape[1]))
        if k > 0 and float(self.params["alpha"]) != 0.0:
            self.vectors = right_singular_vectors(self.normalised, k, self.seed)
        self.vectors_out = self.vectors * np.sqrt(degree)[None, :]
        return self

    def score(self, rows: sp.csr_matrix) -> Tensor:
        scores = ((rows @ self.normalised_t) @ self.normalised).toarray()
        if len(self.vectors):
            low = (rows @ sp.diags(self.item_scale)) @ self.vectors.T
            scores += float(self.params["alpha"]) * (low @ self.vectors_out)
        return torch.from_numpy(np.asarray(scores)).to(self.device)

    def weights(self, liked: np.ndarray, target: int) -> np.ndarray:
        linear = np.asarray((self.normalised_t[liked] @ self.normalised_t[[target]].T).toarray()).ravel()
        low = self.item_scale[liked] * (self.vectors[:, liked].T @ self.vectors_out[:, target])
        return linear + float(self.params["alpha"]) * low

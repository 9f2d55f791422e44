r"""A polynomial graph filter: the normalised item-item filter applied ``order`` times, summed.

With :math:`R` the binary training matrix, :math:`\tilde R = D_u^{-1/2} R D_i^{-1/2}` (as GF-CF) and
:math:`P = \tilde R^\top \tilde R` the normalised item-item linear filter (eigenvalues in
:math:`[0, 1]`),

.. math::
    s_u = r_u \sum_{j=1}^{K} P^{j},

a low-pass polynomial of order :math:`K` = ``order`` (Shen et al., CIKM 2021, discuss the family;
``order = 1`` is GF-CF's linear filter alone). Higher powers reach items further away in the
co-occurrence graph and weigh its smooth directions more. :math:`P` is never formed: each power is
two sparse products on the users' rows, so memory grows with the interactions, never items squared.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from gnas.baselines.base import FLOAT64, INDEX, Baseline, HyperParameter, MemoryNeed
from gnas.baselines.gfcf import normalised_matrix


class PolynomialFilter(Baseline):
    """The sum of the first ``order`` powers of the normalised item-item filter."""

    name = "polynomial"
    hyperparameters = {"order": HyperParameter(2, integer=True, minimum=1, doc="highest power of the filter")}
    explains = False

    @classmethod
    def memory(cls, num_users: int, num_items: int, nnz: int, params: Mapping[str, float]) -> MemoryNeed:
        sparse = 4 * nnz * (FLOAT64 + INDEX)  # R~ and its transpose, and scipy's copies while building
        return MemoryNeed(sparse, sparse / 2, f"the normalised {num_users:,} x {num_items:,} training matrix")

    def fit(self, train: sp.csr_matrix, device: torch.device) -> PolynomialFilter:
        self.device = device
        self.normalised = normalised_matrix(train)
        self.normalised_t = sp.csr_matrix(self.normalised.T)
        return self

    def score(self, rows: sp.csr_matrix) -> Tensor:
        power = np.asarray((rows @ self.normalised_t @ self.normalised).toarray())
        scores = power.copy()
        for _ in range(int(self.params["order"]) - 1):
            power = np.asarray(self.normalised_t @ (self.normalised @ power.T)).T
            scores += power
        return torch.from_numpy(scores).to(self.device)

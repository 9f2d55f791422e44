r"""Popularity: every user gets the items with the most training interactions.

The simplest baseline of top-N recommendation (e.g. Cremonesi, Koren and Turrin, "Performance of
recommender algorithms on top-N recommendation tasks", RecSys 2010). With :math:`X` the binary
training matrix,

.. math::
    s_{uj} = \sum_v X_{vj},

the same for every user (ties: lower item index first, the evaluator's rule). It has no per-user
reason to give, so it explains nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from gnas.baselines.base import FLOAT64, Baseline, MemoryNeed


class Popularity(Baseline):
    """Items ranked by their training interaction count."""

    name = "popularity"
    explains = False

    @classmethod
    def memory(cls, num_users: int, num_items: int, nnz: int, params: Mapping[str, float]) -> MemoryNeed:
        return MemoryNeed(num_items * FLOAT64, num_items * FLOAT64, "one count per item")

    def fit(self, train: sp.csr_matrix, device: torch.device) -> Popularity:
        self.device = device
        counts = np.asarray(train.sum(axis=0), dtype=np.float64).ravel()
        self.counts = torch.from_numpy(counts).to(device)
        return self

    def score(self, rows: sp.csr_matrix) -> Tensor:
        return self.counts.expand(rows.shape[0], -1).clone()

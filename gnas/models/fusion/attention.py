r"""The ID representation attends over two tokens, itself and the projected text,
:math:`\mathbf{x}_0 = \mathbf{e}`, :math:`\mathbf{x}_1 = \tilde{\mathbf{t}}`:

.. math::
    \alpha_j = \operatorname{softmax}_j\!\left(\frac{(W_Q\mathbf{e})^\top W_K\mathbf{x}_j}{\sqrt{d}}\right),
    \qquad \mathbf{h} = \sum_{j\in\{0,1\}} \alpha_j\, W_V\mathbf{x}_j,

with :math:`W_V` initialised to the identity, so each node learns how far to trust its text.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gnas.models.fusion.base import Fusion
from gnas.models.opcost import OpCost


class Attention(Fusion):
    """Single-head attention of the representation over ``[representation, projected text]``."""

    def __init__(self, text_dim: int, dim: int, layers: int = 1, hidden: int = 64) -> None:
        super().__init__(text_dim, dim, layers, hidden)
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        nn.init.eye_(self.value.weight)

    def fuse(self, h: Tensor, text: Tensor) -> Tensor:
        tokens = torch.stack([h, text], dim=1)  # [N, 2, d]
        logits = (self.key(tokens) @ self.query(h).unsqueeze(-1)).squeeze(-1) / math.sqrt(self.dim)
        weights = torch.softmax(logits, dim=1)  # [N, 2]
        return (weights.unsqueeze(-1) * self.value(tokens)).sum(1)

    @staticmethod
    def fuse_cost(dim: int, rows: int) -> OpCost:
        # tokens, keys, values and the weighted values (2 x d each), the query and the output; the
        # logits, their scaled copy and the weights (2 each)
        return OpCost(flops=10.0 * rows * dim * dim + 8.0 * rows * dim, saved=10.0 * rows * dim + 6.0 * rows)

r"""Concatenation and projection: :math:`\mathbf{h} = W\,[\mathbf{e} \,\Vert\, \tilde{\mathbf{t}}]`,
:math:`W\in\mathbb{R}^{d\times 2d}` (no bias)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gnas.models.fusion.base import Fusion
from gnas.models.opcost import OpCost


class Concat(Fusion):
    """Concatenates the representation and the projected text, then maps them back to ``dim``."""

    def __init__(self, text_dim: int, dim: int, layers: int = 1, hidden: int = 64) -> None:
        super().__init__(text_dim, dim, layers, hidden)
        self.merge = nn.Linear(2 * dim, dim, bias=False)

    def fuse(self, h: Tensor, text: Tensor) -> Tensor:
        return self.merge(torch.cat([h, text], dim=-1))

    @staticmethod
    def fuse_cost(dim: int, rows: int) -> OpCost:
        # the concatenation and the merged output
        return OpCost(flops=4.0 * rows * dim * dim, saved=3.0 * rows * dim)

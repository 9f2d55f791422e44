r"""Concatenation projected back (jumping knowledge):
:math:`\mathbf{h} = \mathbf{W}\,[\mathbf{h}_0 \Vert \mathbf{h}_1 \Vert \cdots \Vert \mathbf{h}_L]`,
with :math:`\mathbf{W}` a bias-free linear map to the embedding width."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gnas.models.combine.base import Combination
from gnas.models.opcost import OpCost


class Concat(Combination):
    """All layer outputs side by side, then one linear map to ``dim``."""

    def __init__(self, widths: Sequence[int], dim: int) -> None:
        super().__init__(widths, dim)
        self.linear = nn.Linear(sum(widths), dim, bias=False)

    @classmethod
    def cost(cls, widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        total = sum(widths)
        return OpCost(flops=2.0 * nodes * total * dim, saved=float(nodes * total))

    def forward(self, outputs: list[Tensor]) -> Tensor:
        return self.linear(torch.cat(outputs, dim=-1))

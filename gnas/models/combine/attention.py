r"""Learned layer weights: :math:`\mathbf{h} = \sum_{l=0}^{L} \beta_l P_l\mathbf{h}_l`,
:math:`\boldsymbol\beta = \mathrm{softmax}(\mathbf{w})`.

One logit per layer, shared by all nodes, initialised to zero (so training starts from the mean).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from gnas.models.combine.base import AlignedCombination
from gnas.models.opcost import OpCost


class Attention(AlignedCombination):
    """A softmax-weighted sum of the (projected) layer outputs with learned weights."""

    def __init__(self, widths: Sequence[int], dim: int) -> None:
        super().__init__(widths, dim)
        self.logits = nn.Parameter(torch.zeros(len(widths)))

    @classmethod
    def cost(cls, widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        return cls.projection_cost(widths, dim, nodes) + OpCost(
            flops=2.0 * nodes * dim * len(widths), saved=float(nodes * dim)
        )

    def forward(self, outputs: list[Tensor]) -> Tensor:
        weights = torch.softmax(self.logits, dim=0)
        aligned = self.aligned(outputs)
        total = weights[0] * aligned[0]
        for weight, h in zip(weights[1:], aligned[1:], strict=True):
            total = total + weight * h
        return total

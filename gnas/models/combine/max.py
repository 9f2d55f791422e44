r"""Element-wise max over layers (jumping knowledge, Xu et al. 2018):
:math:`h_d = \max_{l} (P_l\mathbf{h}_l)_d`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from gnas.models.combine.base import AlignedCombination
from gnas.models.opcost import OpCost


class Max(AlignedCombination):
    """Each feature's maximum over the (projected) layer outputs."""

    @classmethod
    def cost(cls, widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        stacked = float(nodes * dim * len(widths))
        # the stacked outputs, then the int64 argmax of every output float
        return cls.projection_cost(widths, dim, nodes) + OpCost(
            flops=stacked, saved=2.0 * nodes * dim, temp=stacked
        )

    def forward(self, outputs: list[Tensor]) -> Tensor:
        return torch.stack(self.aligned(outputs)).amax(dim=0)

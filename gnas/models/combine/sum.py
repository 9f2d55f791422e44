r"""Layer sum: :math:`\mathbf{h} = \sum_{l=0}^{L} P_l\mathbf{h}_l` (the mean, scaled by :math:`L+1`)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from gnas.models.combine.base import AlignedCombination
from gnas.models.opcost import OpCost


class Sum(AlignedCombination):
    """The sum of the (projected) layer outputs."""

    @classmethod
    def cost(cls, widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        return cls.projection_cost(widths, dim, nodes) + OpCost(flops=float(nodes * dim * len(widths)))

    def forward(self, outputs: list[Tensor]) -> Tensor:
        aligned = self.aligned(outputs)
        total = aligned[0]
        for h in aligned[1:]:
            total = total + h
        return total

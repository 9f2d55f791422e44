r"""Layer mean, LightGCN's choice: :math:`\mathbf{h} = \frac{1}{L+1}\sum_{l=0}^{L} P_l\mathbf{h}_l`.

Summed left to right and then divided, exactly as :class:`gnas.models.lightgcn.LightGCN` does, so the
LightGCN point gives bit-identical scores.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from gnas.models.combine.base import AlignedCombination
from gnas.models.opcost import OpCost


class Mean(AlignedCombination):
    """The average of the (projected) layer outputs."""

    @classmethod
    def cost(cls, widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        return cls.projection_cost(widths, dim, nodes) + OpCost(flops=float(nodes * dim * len(widths)))

    def forward(self, outputs: list[Tensor]) -> Tensor:
        aligned = self.aligned(outputs)
        total = aligned[0]
        for h in aligned[1:]:
            total = total + h
        return total / len(aligned)

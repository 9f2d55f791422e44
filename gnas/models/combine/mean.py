r"""Layer mean, LightGCN's choice: :math:`\mathbf{h} = \frac{1}{L+1}\sum_{l=0}^{L} P_l\mathbf{h}_l`.

Summed left to right and then divided, exactly as :class:`gnas.models.lightgcn.LightGCN` does, so the
LightGCN point gives bit-identical scores.
"""

from __future__ import annotations

from torch import Tensor

from gnas.models.combine.sum import Sum


class Mean(Sum):
    """The average of the (projected) layer outputs."""

    def forward(self, outputs: list[Tensor]) -> Tensor:
        return super().forward(outputs) / len(outputs)

r"""Last layer only: :math:`\mathbf{h} = \mathbf{h}_L` (no projection: it keeps the last layer's width)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from gnas.models.combine.base import Combination
from gnas.models.opcost import OpCost


class Last(Combination):
    """The final layer's output, as in a plain GNN."""

    @classmethod
    def output_dim(cls, widths: Sequence[int], dim: int) -> int:
        return widths[-1]

    @classmethod
    def cost(cls, widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        return OpCost()

    def forward(self, outputs: list[Tensor]) -> Tensor:
        return outputs[-1]

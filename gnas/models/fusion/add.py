r"""Addition of the projected text: :math:`\mathbf{h} = \mathbf{e} + \tilde{\mathbf{t}}`."""

from __future__ import annotations

from torch import Tensor

from gnas.models.fusion.base import Fusion
from gnas.models.opcost import OpCost


class Add(Fusion):
    """Adds the projected text to the representation."""

    def fuse(self, h: Tensor, text: Tensor) -> Tensor:
        return h + text

    @staticmethod
    def fuse_cost(dim: int, rows: int) -> OpCost:
        return OpCost(flops=float(rows * dim), saved=float(rows * dim))

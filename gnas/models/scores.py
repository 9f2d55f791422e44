r"""How a user and an item representation are compared; the trainer always takes their dot product.

``dot`` leaves the representations alone. ``cosine`` L2-normalises them and scales by
:math:`1/\sqrt{\tau}`, so that the trainer's dot product equals :math:`\cos(u, i)/\tau`.
``SCORES`` maps a name to its class; adding one is one class and one line here.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

from gnas.models.opcost import OpCost


class Score(nn.Module):
    """Maps final representations to ones whose dot product is the score."""

    uses_temperature: ClassVar[bool] = False

    def __init__(self, temperature: float) -> None:
        super().__init__()
        self.temperature = temperature

    @classmethod
    def cost(cls, width: int, nodes: int) -> OpCost:
        """Forward FLOPs and floats of transforming ``nodes`` rows of ``width``."""
        return OpCost()

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class Dot(Score):
    r""":math:`s(u, i) = \mathbf{u}^\top\mathbf{i}`."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Cosine(Score):
    r""":math:`s(u, i) = \cos(\mathbf{u}, \mathbf{i}) / \tau`, in :math:`[-1/\tau, 1/\tau]`."""

    uses_temperature = True

    @classmethod
    def cost(cls, width: int, nodes: int) -> OpCost:
        return OpCost(flops=4.0 * nodes * width, saved=2.0 * nodes * width)

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(x, dim=-1) / math.sqrt(self.temperature)


SCORES: dict[str, type[Score]] = {"dot": Dot, "cosine": Cosine}

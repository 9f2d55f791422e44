r"""A learned sigmoid gate per dimension:

.. math::
    \mathbf{g} = \sigma\big(W_g[\mathbf{e} \,\Vert\, \tilde{\mathbf{t}}] + \mathbf{b}_g\big), \qquad
    \mathbf{h} = \mathbf{g} \odot \mathbf{e} + (\mathbf{1} - \mathbf{g}) \odot \tilde{\mathbf{t}}.

Each node decides, dimension by dimension, how much of its ID (or graph) representation and how much
of its text to keep; with :math:`W_g` initialised to zero the gate starts at one half.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gnas.models.fusion.base import Fusion
from gnas.models.opcost import OpCost


class Gate(Fusion):
    """A convex, per-dimension mix of the representation and the projected text."""

    def __init__(self, text_dim: int, dim: int, layers: int = 1, hidden: int = 64) -> None:
        super().__init__(text_dim, dim, layers, hidden)
        self.gate = nn.Linear(2 * dim, dim)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)

    def fuse(self, h: Tensor, text: Tensor) -> Tensor:
        g = torch.sigmoid(self.gate(torch.cat([h, text], dim=-1)))
        return g * h + (1.0 - g) * text

    @staticmethod
    def fuse_cost(dim: int, rows: int) -> OpCost:
        # the concatenation, the gate before and after the sigmoid, 1 - g, two products and their sum
        return OpCost(flops=4.0 * rows * dim * dim + 6.0 * rows * dim, saved=8.0 * rows * dim)

r"""A zero-initialised residual: the projected text is added to the representation, and the
projection's last linear map starts at zero,

.. math::
    \mathbf{h} = \mathbf{e} + \tilde{\mathbf{t}}, \qquad \tilde{\mathbf{t}} = P(\mathbf{t}),
    \quad W_k = \mathbf{0},\ \mathbf{b}_k = \mathbf{0}\ \text{at initialisation},

so the model starts as the ID-only model exactly (:math:`\mathbf{h} = \mathbf{e}`) and the text adds
only what the training signal asks of it (as zero-initialised residual branches and ControlNet's zero
convolutions do). A cold item (:math:`\mathbf{e} = \mathbf{0}`) is its projected text.
"""

from __future__ import annotations

from torch import Tensor, nn

from gnas.models.fusion.base import Fusion
from gnas.models.opcost import OpCost


class Residual(Fusion):
    """Adds the projected text, whose last linear map is zero at the start, to the representation."""

    def __init__(self, text_dim: int, dim: int, layers: int = 1, hidden: int = 64) -> None:
        super().__init__(text_dim, dim, layers, hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The projection's default initialisation, then its last linear map set to zero."""
        self.project.reset_parameters()
        last = self.project.lins[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def fuse(self, h: Tensor, text: Tensor) -> Tensor:
        return h + text

    @staticmethod
    def fuse_cost(dim: int, rows: int) -> OpCost:
        return OpCost(flops=float(rows * dim), saved=float(rows * dim))

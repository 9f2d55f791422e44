r"""What every fusion operator offers: it fuses a representation :math:`\mathbf{e}\in\mathbb{R}^d` of a
node (its ID embedding at the input, its final graph representation at the output) with the node's
text features :math:`\mathbf{t}\in\mathbb{R}^{d_t}` (a language-model embedding).

The text is first mapped into the representation's space by a projection of ``layers`` linear maps
(ReLU between them, hidden width ``hidden``):

.. math::
    \tilde{\mathbf{t}} = P(\mathbf{t}) = W_k\,\sigma(\cdots\sigma(W_1\mathbf{t} + \mathbf{b}_1)\cdots)
    + \mathbf{b}_k \in \mathbb{R}^d,

and the operator combines :math:`\mathbf{e}` and :math:`\tilde{\mathbf{t}}` row by row.
"""

from __future__ import annotations

from itertools import pairwise

from torch import Tensor, nn
from torch_geometric.nn import MLP

from gnas.models.opcost import OpCost


class Fusion(nn.Module):
    """Fuses ``[N, dim]`` representations with ``[N, text_dim]`` text features into ``[N, dim]``."""

    def __init__(self, text_dim: int, dim: int, layers: int = 1, hidden: int = 64) -> None:
        super().__init__()
        self.dim = dim
        self.project = MLP(_widths(text_dim, dim, layers, hidden), act="relu", norm=None, plain_last=True)

    def forward(self, h: Tensor, text: Tensor) -> Tensor:
        return self.fuse(h, self.project(text))

    def fuse(self, h: Tensor, text: Tensor) -> Tensor:
        """Combine ``h`` with the projected text (both ``[N, dim]``)."""
        raise NotImplementedError

    @classmethod
    def cost(cls, text_dim: int, dim: int, layers: int, hidden: int, rows: int) -> OpCost:
        """Forward FLOPs and floats of fusing ``rows`` nodes: the projection, then :meth:`fuse_cost`."""
        widths = _widths(text_dim, dim, layers, hidden)
        total = OpCost()
        for index, (inp, out) in enumerate(pairwise(widths)):
            hidden_layer = index < len(widths) - 2  # followed by a ReLU, whose output is kept too
            total += OpCost(flops=2.0 * rows * inp * out, saved=rows * out * (2.0 if hidden_layer else 1.0))
        return total + cls.fuse_cost(dim, rows)

    @staticmethod
    def fuse_cost(dim: int, rows: int) -> OpCost:
        """Forward FLOPs and floats of :meth:`fuse` on ``rows`` nodes."""
        raise NotImplementedError


def _widths(text_dim: int, dim: int, layers: int, hidden: int) -> list[int]:
    """The projection's widths: ``text_dim``, ``layers - 1`` hidden ones, ``dim``."""
    return [text_dim, *([hidden] * (layers - 1)), dim]

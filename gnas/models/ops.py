"""The small per-layer choices: activations, normalisations, feature dropout and residual connections.

``ACTIVATIONS`` and ``NORMS`` map a name (as written in an :class:`~gnas.architecture.LayerArch`) to a
factory; adding one is one line here.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "gelu": nn.GELU,
}

NORMS: dict[str, Callable[[int], nn.Module]] = {
    "none": lambda width: nn.Identity(),
    "batch": nn.BatchNorm1d,
    "layer": nn.LayerNorm,
}


def activation(name: str) -> nn.Module:
    """The activation module called ``name``."""
    return ACTIVATIONS[name]()


def norm(name: str, width: int) -> nn.Module:
    """The normalisation called ``name`` over features of ``width``."""
    return NORMS[name](width)


def dropout(p: float) -> nn.Module:
    """Feature dropout with probability ``p`` (active in training mode only)."""
    return nn.Dropout(p)


def projection(in_dim: int, out_dim: int) -> nn.Module:
    """A bias-free linear map between widths, or the identity when they agree."""
    return nn.Identity() if in_dim == out_dim else nn.Linear(in_dim, out_dim, bias=False)


class Residual(nn.Module):
    """``body(x) + P x`` with ``P`` the identity, or a learned projection when the widths differ."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.skip = projection(in_dim, out_dim)

    def forward(self, out: Tensor, x: Tensor) -> Tensor:
        return out + self.skip(x)

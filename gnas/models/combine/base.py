"""What every layer combination offers: given the widths of the layer outputs (layer 0, the ID
embeddings, first), it maps the list of outputs to one representation per node."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from gnas.models.opcost import OpCost
from gnas.models.ops import projection


class Combination(nn.Module):
    """Combines ``[h_0, h_1, ..., h_L]`` (node features after each layer) into the final features."""

    def __init__(self, widths: Sequence[int], dim: int) -> None:
        super().__init__()
        self.widths = tuple(widths)
        self.out_dim = self.output_dim(widths, dim)

    @classmethod
    def output_dim(cls, widths: Sequence[int], dim: int) -> int:
        """Width of the combined representation (``dim``, the embedding width, unless overridden)."""
        return dim

    @classmethod
    def cost(cls, widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        """Forward FLOPs and intermediate floats of combining ``nodes`` rows."""
        raise NotImplementedError

    def forward(self, outputs: list[Tensor]) -> Tensor:
        raise NotImplementedError


class AlignedCombination(Combination):
    """A combination of equal-width outputs: each output of another width is first projected to ``dim``
    by its own bias-free linear map (outputs already ``dim`` wide pass unchanged)."""

    def __init__(self, widths: Sequence[int], dim: int) -> None:
        super().__init__(widths, dim)
        self.project = nn.ModuleList(projection(width, dim) for width in widths)

    @staticmethod
    def projection_cost(widths: Sequence[int], dim: int, nodes: int) -> OpCost:
        """The cost of projecting every output whose width is not ``dim``."""
        other = [w for w in widths if w != dim]
        return OpCost(flops=2.0 * nodes * dim * sum(other), saved=float(nodes * dim * len(other)))

    def aligned(self, outputs: list[Tensor]) -> list[Tensor]:
        """The outputs, each ``dim`` wide."""
        return [project(h) for project, h in zip(self.project, outputs, strict=True)]

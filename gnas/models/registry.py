"""Architecture -> nn.Module."""

from __future__ import annotations

from gnas.architecture import Architecture
from gnas.errors import GnasError
from gnas.models.base import Recommender
from gnas.models.lightgcn import LightGCN


def build_model(arch: Architecture, num_users: int, num_items: int) -> Recommender:
    """Instantiate the architecture for a data set of the given size."""
    canonical = arch.canonical()
    lightgcn = Architecture(embedding_dim=arch.embedding_dim, layers=canonical.layers).canonical()
    if any(layer.conv != "lightgcn" for layer in canonical.layers) or canonical != lightgcn:
        raise GnasError("architecture: only the LightGCN point is supported so far")
    return LightGCN(num_users, num_items, embedding_dim=arch.embedding_dim, num_layers=arch.num_layers)

"""Name -> model class. Adding a model is one new file and one line here."""

from __future__ import annotations

from collections.abc import Callable

from gnas.errors import GnasError
from gnas.models.base import Recommender
from gnas.models.lightgcn import LightGCN
from gnas.spec import ArchitectureSpec

MODELS: dict[str, Callable[..., Recommender]] = {
    "lightgcn": LightGCN,
}


def build_model(arch: ArchitectureSpec, num_users: int, num_items: int) -> Recommender:
    """Instantiate the architecture for a data set of the given size."""
    if arch.model not in MODELS:
        raise GnasError(f"architecture.model: unknown model {arch.model!r}; known: {', '.join(MODELS)}")
    return MODELS[arch.model](
        num_users, num_items, embedding_dim=arch.embedding_dim, num_layers=arch.num_layers
    )

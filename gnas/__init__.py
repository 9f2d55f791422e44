"""gnas: graph neural architecture search for recommender systems."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gnas.inference import TrainedModel, load_model

__all__ = ["TrainedModel", "__version__", "load_model"]


def __getattr__(name: str) -> Any:
    """``load_model`` and ``TrainedModel``, imported on first use (torch and PyG are slow to import)."""
    if name in ("load_model", "TrainedModel"):
        import gnas.inference

        return getattr(gnas.inference, name)
    raise AttributeError(f"module 'gnas' has no attribute {name!r}")

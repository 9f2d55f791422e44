"""The item feature matrix that text fusion reads: one row per dense item index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ItemFeatures:
    """``matrix[i]`` is item ``i``'s text embedding (float32, ``[num_items, dim]``); ``present[i]`` is
    false for an item without text (its row is zero and the model uses a learned "no text" vector)."""

    matrix: torch.Tensor
    present: torch.Tensor

    def __post_init__(self) -> None:
        if self.matrix.ndim != 2 or self.present.shape != (self.matrix.shape[0],):
            raise ValueError(
                f"item features: matrix {tuple(self.matrix.shape)} and present {tuple(self.present.shape)} "
                "must be [items, dim] and [items]"
            )

    @classmethod
    def from_numpy(cls, matrix: np.ndarray, present: np.ndarray | None = None) -> ItemFeatures:
        """Features from an array; rows that are all zero count as missing unless ``present`` says."""
        tensor = torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32))
        if present is None:
            return cls(tensor, tensor.abs().sum(1) > 0)
        return cls(tensor, torch.from_numpy(np.asarray(present, dtype=bool)))

    @property
    def num_items(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

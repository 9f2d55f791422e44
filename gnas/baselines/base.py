"""What every closed-form baseline shares: its hyperparameters, its memory need, fit and score.

A baseline is fitted on the binary user x item training matrix :math:`X` (TRAIN interactions only) and
scores a user by its training row times an item-item matrix (or filter) :math:`W`: :math:`s_u = x_u W`.
Scores are returned on the evaluation device as float64 so that the ranking evaluator's masking and
tie-break (score, then item index) apply unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from gnas.data.graph import csr_tensor

FLOAT64 = 8  # bytes
INDEX = 8


@dataclass(frozen=True)
class HyperParameter:
    """One hyperparameter: its default, whether it is an integer, and the smallest value allowed."""

    default: float
    integer: bool = False
    minimum: float = 0.0
    doc: str = ""

    def check(self, value: object) -> float:
        """The value as int or float; anything else raises a one-line ValueError."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        if self.integer and float(value) != int(value):
            raise ValueError(f"{value!r} is not an integer")
        if value < self.minimum:
            raise ValueError(f"{value!r} is below the minimum {self.minimum:g}")
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class MemoryNeed:
    """Bytes a fit allocates at its peak (``fit``) and bytes a fitted model keeps (``kept``), with the
    largest allocation in words (for the refusal message)."""

    fit: float
    kept: float
    what: str


def interaction_matrix(user: np.ndarray, item: np.ndarray, num_users: int, num_items: int) -> sp.csr_matrix:
    """The binary (float64) user x item matrix of the given pairs; a repeated pair counts once."""
    matrix = sp.csr_matrix(
        (np.ones(len(user), dtype=np.float64), (np.asarray(user), np.asarray(item))),
        shape=(num_users, num_items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def to_torch(rows: sp.csr_matrix, device: torch.device) -> Tensor:
    """A scipy CSR matrix as a torch sparse CSR tensor (float64) on ``device``."""
    return csr_tensor(rows, torch.float64).to(device)


class Baseline(ABC):
    """A closed-form recommender. Subclasses set ``name``, ``hyperparameters`` and the maths in their
    docstring; ``fit`` reads the training matrix only, ``score`` ranks from training rows only."""

    name: ClassVar[str]
    hyperparameters: ClassVar[dict[str, HyperParameter]] = {}
    #: whether :meth:`weights` gives per-item reasons ("because you liked")
    explains: ClassVar[bool] = True

    def __init__(self, params: Mapping[str, float] | None = None, seed: int = 0) -> None:
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.hyperparameters))
        if unknown:
            raise ValueError(f"{self.name} has no hyperparameter {unknown[0]!r}")
        self.params = {key: hp.check(params.get(key, hp.default)) for key, hp in self.hyperparameters.items()}
        self.seed = seed
        self.device = torch.device("cpu")

    @classmethod
    @abstractmethod
    def memory(cls, num_users: int, num_items: int, nnz: int, params: Mapping[str, float]) -> MemoryNeed:
        """What fitting and keeping the model costs on a training matrix of this size (before any
        allocation)."""

    @abstractmethod
    def fit(self, train: sp.csr_matrix, device: torch.device) -> Baseline:
        """Fit on the binary training matrix (users x items); returns ``self``."""

    @abstractmethod
    def score(self, rows: sp.csr_matrix) -> Tensor:
        """Scores (float64, ``len(rows)`` x items, on the fit's device) of users given their training
        rows."""

    def weights(self, liked: np.ndarray, target: int) -> np.ndarray | None:
        """How much each liked item (indices) adds to the score of ``target``: ``W[liked, target]``;
        None for a model without per-item reasons."""
        return None

    def describe(self) -> str:
        """``ease(l2=250)``: the model and its hyperparameters."""
        shown = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({shown})"

"""A baseline's run folder at inference: the chosen grid point refitted from the saved training edges.

Why refit rather than store the model: a baseline is closed form and deterministic (the same training
edges, hyperparameters and seed give the same matrix on the same machine), and its fitted state is
large: EASE's dense items x items matrix is 0.76 GB in float64 for MovieLens' 9,742 items (13 GB for
Gowalla's 40,981), while ``train_edges.pt`` is 1.3 MB. Refitting costs a few seconds at load time
(EASE the most: one Cholesky inverse) and keeps every run folder small.

Reasons ("because you liked") are the item-item weights :math:`W_{ij}` of the user's liked items
:math:`i` toward the recommended :math:`j` (ItemKNN's neighbours, EASE's :math:`B`, GF-CF's filter),
since the score is :math:`\\sum_i W_{ij}` over liked items. Popularity has none.
"""

from __future__ import annotations

import torch
from torch import Tensor

from gnas.baselines import BASELINES
from gnas.baselines.base import Baseline, interaction_matrix
from gnas.device import resolve_device
from gnas.inference.folder import ModelFiles
from gnas.inference.model import FolderModel

ITEM_WEIGHTS = "item-item weights"
NO_REASONS = "none: popularity ranks the same most-interacted items for everyone, with no per-user reason"


class BaselineModel(FolderModel):
    """A fitted baseline (``model``) over the folder's training matrix (``train``)."""

    def __init__(self, files: ModelFiles, device: str | torch.device = "cpu") -> None:
        super().__init__(files)
        assert files.baseline is not None
        self.train = interaction_matrix(
            files.train_user, files.train_item, len(self.user_ids), len(self.item_ids)
        )
        model_class = BASELINES[files.baseline["model"]]
        torch_device = resolve_device(str(device))
        self.model: Baseline = model_class(files.baseline["params"], seed=self.spec.seed).fit(
            self.train, torch_device
        )

    @property
    def explanation_method(self) -> str:
        return ITEM_WEIGHTS if self.model.explains else NO_REASONS

    def score_users(self, users: list[int]) -> Tensor:
        return self.model.score(self.train[users])

    def _contributions(self, edges: Tensor, liked: Tensor, target: int) -> Tensor | None:
        weights = self.model.weights(liked.numpy(), target)
        return None if weights is None else torch.from_numpy(weights)

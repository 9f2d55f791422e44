"""The full-ranking evaluator of one held-out part of a split, as every entry point builds it (``gnas
train``, a search, a baseline fit); apart from ``gnas.train`` so that the search and the baselines need
not import the training pipeline for it."""

from __future__ import annotations

import torch

from gnas.data.split import PART_NAMES, Split
from gnas.errors import GnasError
from gnas.spec import TrainingSpec
from gnas.training.metrics import RankingEvaluator


def ranking_evaluator(
    split: Split, heldout: int, exclude: tuple[int, ...], training: TrainingSpec, device: torch.device
) -> RankingEvaluator:
    """Full ranking of one held-out part, with the ``exclude`` parts masked."""
    data = split.interactions
    users, items = split.edges(heldout)
    if len(users) == 0:
        raise GnasError(f"split.ratios: the {PART_NAMES[heldout]} part is empty; give it a positive share")
    return RankingEvaluator(
        data.num_users,
        data.num_items,
        heldout=(users, items),
        exclude=split.edges(*exclude),
        ks=training.ks,
        batch_size=training.eval_batch_size,
        device=device,
    )

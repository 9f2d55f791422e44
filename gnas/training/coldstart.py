"""Cold-start report: metrics for warm items, cold items and all items, beside a popularity baseline.

With the ``cold_item`` split, cold items have no training edges. For a held-out part (valid or test):

- ``all``: the usual full ranking over every item;
- ``warm``: the held-out interactions with warm items, ranked among warm items (cold items masked);
- ``cold``: the held-out interactions with cold items, ranked among cold items only (warm masked).

The users' training items (and validation items when scoring test) stay masked as always. The
popularity baseline scores every item by its number of training interactions, the same list for every
user, with ties (every cold item has zero) in a seeded random order: the evaluator's own tie rule,
lowest index first, would rank cold items by id, and ids often follow when an item entered the
catalogue (MovieLens), which a popularity baseline does not know. Selection never reads this report:
early stopping uses the ordinary validation metric, and test is scored once, at the end.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from gnas.data.interactions import TEST, TRAIN, VALID
from gnas.data.split import Split
from gnas.spec import TrainingSpec
from gnas.training.metrics import RankingEvaluator

SEGMENTS = ("all", "warm", "cold")
PARTS = {"valid": (VALID, (TRAIN,)), "test": (TEST, (TRAIN, VALID))}

Scorer = Callable[[torch.Tensor], torch.Tensor]


def segment_evaluators(
    split: Split, part: str, training: TrainingSpec, device: torch.device
) -> dict[str, RankingEvaluator]:
    """One evaluator per segment with held-out interactions in ``part`` ("valid" or "test")."""
    heldout, exclude = PARTS[part]
    data = split.interactions
    users, items = split.edges(heldout)
    is_cold = np.zeros(data.num_items, dtype=bool)
    is_cold[split.cold_items] = True
    chosen = {
        "all": (np.ones(len(items), dtype=bool), None),
        "warm": (~is_cold[items], np.flatnonzero(~is_cold)),
        "cold": (is_cold[items], np.flatnonzero(is_cold)),
    }
    evaluators = {}
    for segment, (rows, candidates) in chosen.items():
        if rows.any() and (candidates is None or len(candidates)):
            evaluators[segment] = RankingEvaluator(
                data.num_users,
                data.num_items,
                heldout=(users[rows], items[rows]),
                exclude=split.edges(*exclude),
                ks=training.ks,
                batch_size=training.eval_batch_size,
                device=device,
                candidates=candidates,
            )
    return evaluators


def popularity_scorer(split: Split, device: torch.device, seed: int = 0) -> Scorer:
    """Every user's scores: the items' training interaction counts, ties in a seeded random order."""
    _, items = split.edges(TRAIN)
    num_items = split.interactions.num_items
    counts = np.bincount(items, minlength=num_items).astype(np.float64)
    jitter = np.random.default_rng(seed).random(num_items) * 0.5  # < 1: never reorders unequal counts
    popularity = torch.from_numpy(counts + jitter).to(device)
    return lambda users: popularity.expand(len(users), -1)


def cold_start_report(
    split: Split, part: str, model_scores: Scorer, training: TrainingSpec, device: torch.device
) -> dict[str, dict[str, dict[str, float]]]:
    """``{"model": {segment: metrics}, "popularity": {segment: metrics}}`` for one part."""
    evaluators = segment_evaluators(split, part, training, device)
    popularity = popularity_scorer(split, device)
    return {
        "model": {segment: ev.evaluate(model_scores) for segment, ev in evaluators.items()},
        "popularity": {segment: ev.evaluate(popularity) for segment, ev in evaluators.items()},
    }

"""The sampled-softmax loss equals its definition, and training with it learns and masks training items."""

from __future__ import annotations

import math

import torch

from gnas.data.split import split_interactions
from gnas.spec import SplitSpec, TrainingSpec
from gnas.training.losses import bpr_loss, softmax_loss
from gnas.training.sampling import NegativeSampler
from tests.test_trainer import clustered, run


def brute_force(user, pos, negatives, excluded, l2_rows, weight_decay, temperature) -> float:
    """The InfoNCE loss written out term by term, in float64."""
    total = 0.0
    for row in range(len(user)):
        positive = math.exp(float(user[row] @ pos[row]) / temperature)
        others = sum(
            math.exp(float(user[row] @ negatives[j]) / temperature)
            for j in range(len(negatives))
            if not excluded[row, j]
        )
        total -= math.log(positive / (positive + others))
    l2 = sum(float(r.pow(2).sum()) for r in l2_rows) / (2 * len(user))
    return total / len(user) + weight_decay * l2


def test_softmax_loss_matches_brute_force() -> None:
    generator = torch.Generator().manual_seed(0)
    user, pos = torch.randn(4, 3, generator=generator), torch.randn(4, 3, generator=generator)
    negatives = torch.randn(5, 3, generator=generator)
    excluded = torch.zeros(4, 5, dtype=torch.bool)
    excluded[0, 1] = excluded[2, 0] = excluded[2, 4] = True
    l2_rows = (torch.randn(4, 3, generator=generator), torch.randn(9, 3, generator=generator))
    for temperature in (1.0, 0.2):
        got = softmax_loss(user, pos, negatives, excluded, l2_rows, 1e-2, temperature)
        want = brute_force(user, pos, negatives, excluded, l2_rows, 1e-2, temperature)
        assert math.isclose(float(got), want, rel_tol=1e-5)
    # a masked negative counts for nothing: moving it does not change the loss
    moved = negatives.clone()
    moved[1] += 10.0
    only_first = (slice(0, 1),)
    a = softmax_loss(user[only_first], pos[only_first], negatives, excluded[only_first], (), 0.0, 0.5)
    b = softmax_loss(user[only_first], pos[only_first], moved, excluded[only_first], (), 0.0, 0.5)
    assert torch.equal(a, b)


def test_one_negative_at_temperature_one_is_bpr() -> None:
    """With one negative per pair and tau = 1, -log softmax over (pos, neg) is BPR's -log sigmoid."""
    generator = torch.Generator().manual_seed(1)
    user, pos, neg = (torch.randn(1, 4, generator=generator) for _ in range(3))
    none = torch.zeros(1, 1, dtype=torch.bool)
    assert torch.allclose(softmax_loss(user, pos, neg, none, (), 0.0, 1.0), bpr_loss(user, pos, neg, (), 0.0))


def test_shared_negatives_mask_training_pairs() -> None:
    sampler = NegativeSampler(torch.tensor([0, 0, 1]), torch.tensor([2, 3, 2]), num_items=5)
    items = sampler.shared(1000, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert items.shape == (1000,) and set(items.tolist()) == {0, 1, 2, 3, 4}
    mask = sampler.is_positive(torch.tensor([0, 1])[:, None], torch.tensor([2, 3, 4])[None, :])
    assert mask.tolist() == [[True, True, False], [True, False, False]]
    batch = torch.tensor([1, 0, 1, 1, 0])  # the per-batch mask: rows follow the batch's repeated users
    rows = sampler.excluded(batch, torch.tensor([2, 3, 4]))
    assert rows.tolist() == [mask[user].tolist() for user in batch.tolist()]


def test_softmax_training_learns_taste_groups() -> None:
    split = split_interactions(clustered(), SplitSpec(ratios=(0.6, 0.2, 0.2)))
    spec = TrainingSpec(
        max_epochs=60,
        batch_size=64,
        lr=0.05,
        patience=60,
        ks=[5],
        metric="recall@5",
        loss="softmax",
        num_negatives=16,
        temperature=0.5,
    )
    result, _, _ = run(split, spec)
    assert result.best_valid["recall@5"] > 0.3  # random ranking gives ~0.15, the group alone ~0.36
    bpr, _, _ = run(split, spec.model_copy(update={"loss": "bpr"}))
    assert [log.loss for log in result.history] != [log.loss for log in bpr.history]

"""The trainer learns, is reproducible, stops as told and keeps its best-validation weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from gnas.architecture import Architecture
from gnas.data.graph import build_train_graph
from gnas.data.interactions import Interactions
from gnas.data.split import Split, split_interactions
from gnas.models.registry import build_model
from gnas.spec import SplitSpec, TrainingSpec
from gnas.train import evaluators
from gnas.training.sampling import NegativeSampler
from gnas.training.trainer import FitResult, evaluate, fit


def clustered(seed: int = 0) -> Interactions:
    """Two taste groups: users 0-19 like items 0-19, users 20-39 like items 20-39."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(40):
        group = range(0, 20) if user < 20 else range(20, 40)
        rows += [(user, int(item)) for item in rng.choice(list(group), size=10, replace=False)]
    return Interactions.from_frame("clustered", pd.DataFrame(rows, columns=["user", "item"]))


def run(
    split: Split, spec: TrainingSpec, seed: int = 0
) -> tuple[FitResult, dict[str, float], torch.nn.Module]:
    graph = build_train_graph(split)
    valid, _ = evaluators(split, spec, torch.device("cpu"))
    torch.manual_seed(seed)
    arch = Architecture.model_validate({"embedding_dim": 16, "num_layers": 2})
    model = build_model(arch, graph.num_users, graph.num_items)
    result = fit(model, graph, valid, spec, seed=seed)
    return result, evaluate(model, graph, valid), model


def test_learns_taste_groups() -> None:
    split = split_interactions(clustered(), SplitSpec(ratios=(0.6, 0.2, 0.2)))
    spec = TrainingSpec(max_epochs=60, batch_size=64, lr=0.05, patience=60, ks=[5], metric="recall@5")
    result, _, _ = run(split, spec)
    # Each user keeps 6 training items; ranking the 34 others at random puts 5/34 ~ 0.15 of the
    # held-out items in the top 5, knowing only the group gives 5/14 ~ 0.36.
    assert result.best_valid["recall@5"] > 0.3


def test_same_seed_same_numbers_and_other_seed_differs() -> None:
    split = split_interactions(clustered(), SplitSpec())
    spec = TrainingSpec(max_epochs=5, batch_size=32, patience=5)
    a, _, _ = run(split, spec, seed=3)
    b, _, _ = run(split, spec, seed=3)
    c, _, _ = run(split, spec, seed=4)
    assert [log.loss for log in a.history] == [log.loss for log in b.history]
    assert a.best_valid == b.best_valid
    assert [log.loss for log in a.history] != [log.loss for log in c.history]


def test_best_validation_weights_are_restored() -> None:
    split = split_interactions(clustered(), SplitSpec())
    spec = TrainingSpec(max_epochs=30, batch_size=32, lr=0.2, patience=3, ks=[5], metric="ndcg@5")
    result, after, _ = run(split, spec)
    assert after["ndcg@5"] == result.best_valid["ndcg@5"]
    assert max(log.valid["ndcg@5"] for log in result.history if log.valid) == result.best_valid["ndcg@5"]
    if result.stop_reason == "patience":
        assert result.epochs_run == result.best_epoch + spec.patience


def test_time_budget_and_eval_every() -> None:
    split = split_interactions(clustered(), SplitSpec())
    result, _, _ = run(split, TrainingSpec(max_epochs=50, batch_size=32, time_budget=1e-9))
    assert result.stop_reason == "time_budget" and result.epochs_run == 1
    result, _, _ = run(split, TrainingSpec(max_epochs=7, batch_size=32, eval_every=3, patience=50))
    assert [log.epoch for log in result.history if log.valid] == [3, 6, 7]


def test_negative_sampler_avoids_training_items() -> None:
    users = torch.tensor([0] * 18 + [1] * 2)
    items = torch.tensor(list(range(18)) + [0, 1])
    sampler = NegativeSampler(users, items, num_items=20)
    draws = sampler.sample(torch.zeros(5000, dtype=torch.long), torch.Generator().manual_seed(0))
    assert set(draws.tolist()) == {18, 19}
    draws = sampler.sample(torch.ones(5000, dtype=torch.long), torch.Generator().manual_seed(0))
    assert not {0, 1} & set(draws.tolist()) and len(set(draws.tolist())) == 18

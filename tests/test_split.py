"""Splits are seeded, disjoint, leak-free and follow each method's rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import synthetic_interactions

from gnas.data.graph import build_train_graph
from gnas.data.interactions import TEST, TRAIN, VALID, Interactions
from gnas.data.split import split_interactions, write_split_csv
from gnas.errors import GnasError
from gnas.spec import SplitSpec


def pairs(data: Interactions, rows: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(data.user[rows].tolist(), data.item[rows].tolist(), strict=True))


def test_random_split_is_seeded_and_per_user(tiny: Interactions) -> None:
    a = split_interactions(tiny, SplitSpec(seed=1))
    b = split_interactions(tiny, SplitSpec(seed=1))
    c = split_interactions(tiny, SplitSpec(seed=2))
    assert np.array_equal(a.part, b.part)
    assert not np.array_equal(a.part, c.part)
    for user in range(tiny.num_users):
        parts = a.part[tiny.user == user]
        # 12 interactions at 0.8/0.1/0.1 -> 1 valid, 1 test (half-up rounding), 10 train
        assert (parts == TRAIN).sum() == 10 and (parts == VALID).sum() == 1 and (parts == TEST).sum() == 1


def test_users_with_too_few_interactions_stay_in_train() -> None:
    data = synthetic_interactions(num_users=5, per_user=4)
    split = split_interactions(data, SplitSpec(min_user_interactions=5, ratios=(0.5, 0.25, 0.25)))
    assert (split.part == TRAIN).all()


def test_temporal_split_puts_latest_in_test(tiny: Interactions) -> None:
    split = split_interactions(tiny, SplitSpec(method="temporal"))
    assert tiny.timestamp is not None
    for user in range(tiny.num_users):
        rows = tiny.user == user
        ts, part = tiny.timestamp[rows], split.part[rows]
        assert ts[part == TEST].min() > ts[part == VALID].max() > ts[part == TRAIN].max()


def test_temporal_split_needs_timestamps() -> None:
    frame = pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 1]})
    with pytest.raises(GnasError, match="temporal"):
        split_interactions(Interactions.from_frame("x", frame), SplitSpec(method="temporal"))


def test_fixed_split_carves_valid_from_train_only() -> None:
    frame = pd.DataFrame(
        [(u, i, TRAIN) for u in range(10) for i in range(9)] + [(u, 20 + u, TEST) for u in range(10)],
        columns=["user", "item", "part"],
    )
    data = Interactions.from_frame("fixed", frame, fixed_part="part")
    split = split_interactions(data, SplitSpec(method="fixed"))
    assert data.fixed_part is not None
    assert np.array_equal(split.part == TEST, data.fixed_part == TEST)
    assert ((split.part == VALID) & (data.fixed_part == TEST)).sum() == 0
    assert (split.part == VALID).sum() == 10  # 9 train each, valid share 0.1 / 0.9 -> 1 per user
    assert np.array_equal(split_interactions(data, SplitSpec()).part, split.part)  # auto -> fixed


def test_cold_item_split_removes_items_from_training(tiny: Interactions) -> None:
    split = split_interactions(tiny, SplitSpec(method="cold_item", cold_fraction=0.2))
    assert len(split.cold_items) == 8
    train_items = set(split.edges(TRAIN)[1].tolist())
    assert train_items.isdisjoint(split.cold_items.tolist())
    cold_rows = np.isin(tiny.item, split.cold_items)
    assert set(np.unique(split.part[cold_rows]).tolist()) == {VALID, TEST}
    valid_cold = set(tiny.item[cold_rows & (split.part == VALID)].tolist())
    test_cold = set(tiny.item[cold_rows & (split.part == TEST)].tolist())
    assert valid_cold.isdisjoint(test_cold)


@pytest.mark.parametrize("method", ["random", "temporal", "cold_item"])
def test_training_graph_holds_only_training_edges(tiny: Interactions, method: str) -> None:
    split = split_interactions(tiny, SplitSpec(method=method))
    graph = build_train_graph(split)
    src, dst = graph.edge_index
    user_to_item = src < graph.num_users
    graph_pairs = set(
        zip(src[user_to_item].tolist(), (dst[user_to_item] - graph.num_users).tolist(), strict=True)
    )
    assert graph_pairs == pairs(tiny, split.part == TRAIN)
    assert graph_pairs.isdisjoint(pairs(tiny, split.part != TRAIN))
    dense = graph.norm_adj.to_dense()
    assert torch.allclose(dense, dense.T)
    assert int((dense != 0).sum()) == 2 * int((split.part == TRAIN).sum())


def test_duplicate_pairs_collapse_keeping_latest() -> None:
    frame = pd.DataFrame({"user": ["a", "a", "b"], "item": ["x", "x", "x"], "ts": [5, 9, 1]})
    data = Interactions.from_frame("dup", frame, timestamp="ts")
    assert len(data) == 2
    assert data.timestamp is not None and sorted(data.timestamp.tolist()) == [1, 9]


def test_split_csv_uses_original_ids(tiny: Interactions, tmp_path) -> None:  # noqa: ANN001
    split = split_interactions(tiny, SplitSpec(seed=3))
    write_split_csv(split, tmp_path)
    frames = {name: pd.read_csv(tmp_path / f"{name}.csv") for name in ("train", "valid", "test")}
    assert sum(len(f) for f in frames.values()) == len(tiny)
    assert frames["train"]["user"].str.startswith("u").all()
    assert set(frames["test"]["item"]) <= {f"i{i}" for i in range(40)}
    assert not list(tmp_path.glob(".*"))  # no temp files left

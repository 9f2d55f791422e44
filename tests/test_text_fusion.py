"""Text fusion: `none` is the plain model exactly, every operator trains, and on data where item text
decides taste, fusion ranks cold items far better than the ID-only model (which is at chance there)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gnas.architecture import Architecture
from gnas.data.graph import TrainGraph, build_train_graph
from gnas.data.split import Split, split_interactions
from gnas.errors import GnasError
from gnas.models.fused import FusedRecommender
from gnas.models.fusion import FUSIONS
from gnas.models.recommender import GraphRecommender
from gnas.models.registry import build_model
from gnas.spec import SplitSpec, TrainingSpec
from gnas.text.features import ItemFeatures
from gnas.training.coldstart import cold_start_report
from gnas.training.trainer import fit, score_function
from tests.text_helpers import taste_data

ColdSplit = tuple[Split, TrainGraph, ItemFeatures]
GAT = {"num_layers": 2, "layers": {"conv": "gat", "heads": 2, "activation": "elu"}}


@pytest.fixture(scope="module")
def cold_split() -> ColdSplit:
    data, features = taste_data()
    split = split_interactions(data, SplitSpec(method="cold_item", cold_fraction=0.5, seed=3))
    return split, build_train_graph(split), features


def test_none_is_the_pre_fusion_model_exactly(cold_split: ColdSplit) -> None:
    split, graph, features = cold_split
    arch = Architecture(
        **GAT, fusion="none", fusion_op="attention", fusion_layers=3, fusion_user_profile=True
    )
    assert arch.canonical() == Architecture(**GAT).canonical()  # options of no fusion cannot matter
    torch.manual_seed(5)
    plain = GraphRecommender(Architecture(**GAT).canonical(), graph.num_users, graph.num_items)
    torch.manual_seed(5)
    built = build_model(arch, graph.num_users, graph.num_items, features)
    assert type(built) is GraphRecommender
    plain_state, built_state = plain.state_dict(), built.state_dict()
    assert list(plain_state) == list(built_state)
    assert all(torch.equal(plain_state[k], built_state[k]) for k in plain_state)
    plain.eval(), built.eval()
    for a, b in zip(plain(graph), built(graph), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("where", ["input", "output", "both"])
@pytest.mark.parametrize("op", list(FUSIONS))
def test_every_fusion_builds_and_learns_from_text(cold_split: ColdSplit, where: str, op: str) -> None:
    split, graph, features = cold_split
    arch = Architecture(
        **GAT, fusion=where, fusion_op=op, fusion_layers=2, fusion_dim=8, fusion_user_profile=True
    )
    model = build_model(arch, graph.num_users, graph.num_items, features)
    assert isinstance(model, FusedRecommender)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):  # after one step: a zero-initialised last map passes no gradient back at first
        optimizer.zero_grad()
        users, items = model(graph)
        (users.sum() + items.square().sum()).backward()
        optimizer.step()
    assert users.shape == (graph.num_users, model.out_dim) and items.shape == (graph.num_items, model.out_dim)
    projections = [m for m in (model.item_input, model.item_output) if m is not None]
    assert projections and all(
        p.grad is not None and p.grad.abs().sum() > 0 for m in projections for p in m.project.parameters()
    )
    # Saved weights hold no copy of the features (they come from the cache).
    assert "text" not in model.state_dict() and "no_text" in model.state_dict()


@pytest.mark.parametrize("where", ["input", "output", "both"])
def test_residual_fusion_starts_as_the_id_model_exactly(cold_split: ColdSplit, where: str) -> None:
    split, graph, features = cold_split
    arch = Architecture(**GAT, fusion=where, fusion_op="residual", fusion_layers=2, fusion_user_profile=True)
    torch.manual_seed(5)
    plain = GraphRecommender(Architecture(**GAT).canonical(), graph.num_users, graph.num_items)
    torch.manual_seed(5)
    fused = build_model(arch, graph.num_users, graph.num_items, features)
    with torch.no_grad():  # a cold item's id row is never read by the fused model
        plain.item_embedding.weight[torch.from_numpy(split.cold_items)] = 0.0
    plain.eval(), fused.eval()
    for a, b in zip(plain(graph), fused(graph), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("op", list(FUSIONS))
def test_the_l2_rows_include_what_the_text_adds_at_the_input(cold_split: ColdSplit, op: str) -> None:
    split, graph, features = cold_split
    arch = Architecture(num_layers=1, fusion="input", fusion_op=op, fusion_layers=2, fusion_dim=8)
    model = build_model(arch, graph.num_users, graph.num_items, features)
    assert isinstance(model, FusedRecommender)
    with torch.no_grad():  # a residual's zero last map would hide the first layer's gradient
        for parameter in model.parameters():
            parameter.add_(0.01 * torch.randn_like(parameter))
    model(graph)
    users, items = torch.arange(5), torch.arange(10)
    user_rows, item_rows = model.layer0(users, items)
    fused = model.node_features(graph)
    assert torch.equal(item_rows, fused[graph.num_users + items]) and torch.equal(user_rows, fused[users])
    (user_rows.square().sum() + item_rows.square().sum()).backward()
    assert model.item_input is not None
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.item_input.project.parameters())


def test_cold_items_are_represented_through_text_only(cold_split: ColdSplit) -> None:
    split, graph, features = cold_split
    model = build_model(
        Architecture(**GAT, fusion="input", fusion_op="gate"), graph.num_users, graph.num_items, features
    )
    model.eval()
    cold = int(split.cold_items[0])
    before = model(graph)[1][cold].clone()
    with torch.no_grad():
        model.item_embedding.weight[cold] += 10.0  # nothing was learned for a cold item's id
    assert torch.allclose(model(graph)[1][cold], before)


def test_items_without_text_get_the_learned_no_text_vector(cold_split: ColdSplit) -> None:
    split, graph, features = cold_split
    present = features.present.clone()
    present[:3] = False
    model = build_model(
        Architecture(num_layers=1, fusion="output", fusion_op="add"),
        graph.num_users,
        graph.num_items,
        ItemFeatures(features.matrix, present),
    )
    assert isinstance(model, FusedRecommender)
    with torch.no_grad():
        model.no_text.fill_(0.5)
    text = model.item_text()
    assert torch.equal(text[:3], torch.full((3, features.dim), 0.5))
    assert torch.equal(text[3:], features.matrix[3:])


def test_user_profile_is_the_mean_text_of_training_items(cold_split: ColdSplit) -> None:
    split, graph, features = cold_split
    model = build_model(
        Architecture(num_layers=1, fusion="input", fusion_user_profile=True),
        graph.num_users,
        graph.num_items,
        features,
    )
    assert isinstance(model, FusedRecommender)
    profile = model.user_profile(graph, model.item_text())
    mine = graph.train_item[graph.train_user == 7]
    assert torch.allclose(profile[7], features.matrix[mine].mean(0), atol=1e-6)


def test_fusion_needs_features_and_matching_rows(cold_split: ColdSplit) -> None:
    split, graph, features = cold_split
    with pytest.raises(GnasError, match="architecture.fusion: 'input' needs item text features"):
        build_model(Architecture(fusion="input"), graph.num_users, graph.num_items)
    short = ItemFeatures(features.matrix[:-1], features.present[:-1])
    with pytest.raises(GnasError, match="rows for"):
        build_model(Architecture(fusion="input"), graph.num_users, graph.num_items, short)


def _cold_recall(
    split: Split, graph: TrainGraph, features: ItemFeatures, arch: Architecture
) -> dict[str, float]:
    from gnas.training.metrics import RankingEvaluator

    training = TrainingSpec(max_epochs=15, batch_size=512, lr=0.02, ks=[10], metric="recall@10", eval_every=5)
    torch.manual_seed(0)
    model = build_model(arch, graph.num_users, graph.num_items, features)
    users, items = split.edges(1)
    valid = RankingEvaluator(
        graph.num_users, graph.num_items, (users, items), split.edges(0), ks=[10], batch_size=512
    )
    fit(model, graph, valid, training, seed=0)
    report = cold_start_report(split, "test", score_function(model, graph), training, torch.device("cpu"))
    return {
        "cold": report["model"]["cold"]["recall@10"],
        "all_cold_popularity": report["popularity"]["cold"]["recall@10"],
        "warm": report["model"]["warm"]["recall@10"],
    }


def test_fusion_beats_ids_on_cold_items_by_a_wide_margin(cold_split: ColdSplit) -> None:
    split, graph, features = cold_split
    base = {"embedding_dim": 16, "num_layers": 1}
    none = _cold_recall(split, graph, features, Architecture(**base))
    fused = _cold_recall(split, graph, features, Architecture(**base, fusion="both", fusion_op="gate"))
    chance = 10 / len(split.cold_items)
    assert none["cold"] < 2.5 * chance  # ids of never-seen items say nothing: chance level
    # Text tells only the genre: the best possible is about 10 of the ~23 cold items of the genre.
    assert fused["cold"] > 0.3 and fused["cold"] > 5 * none["cold"]
    assert fused["warm"] > 0.5 * none["warm"]
    assert none["all_cold_popularity"] == fused["all_cold_popularity"]


@pytest.mark.parametrize(("where", "op"), [("input", "add"), ("output", "concat"), ("output", "attention")])
def test_other_fusions_also_rank_cold_items(cold_split: ColdSplit, where: str, op: str) -> None:
    split, graph, features = cold_split
    arch = Architecture(embedding_dim=16, num_layers=1, fusion=where, fusion_op=op)
    assert _cold_recall(split, graph, features, arch)["cold"] > 3 * 10 / len(split.cold_items)


def test_popularity_baseline_and_segments(cold_split: ColdSplit) -> None:
    split, graph, features = cold_split
    training = TrainingSpec(ks=[10], metric="recall@10")
    flat = lambda users: torch.zeros(len(users), graph.num_items)  # noqa: E731
    report = cold_start_report(split, "valid", flat, training, torch.device("cpu"))
    assert set(report) == {"model", "popularity"} and set(report["model"]) == {"all", "warm", "cold"}
    cold = np.isin(split.edges(1)[1], split.cold_items)
    users_cold = len(np.unique(split.edges(1)[0][cold]))
    assert report["model"]["cold"]["users"] == users_cold
    assert report["popularity"]["warm"]["recall@10"] > report["model"]["warm"]["recall@10"] * 0.5
    assert 0 < report["model"]["cold"]["coverage@10"] <= 1

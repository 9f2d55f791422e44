"""The architecture builder: every operator runs, LightGCN is exact, the per-layer choices behave."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gnas.architecture import Architecture, LayerArch, names
from gnas.data.graph import TrainGraph, build_train_graph
from gnas.data.interactions import TRAIN, VALID, Interactions
from gnas.data.split import Split
from gnas.models.block import Block
from gnas.models.convs import CONVS
from gnas.models.convs.lightgcn import LightGCNLayer
from gnas.models.cost import parameter_count
from gnas.models.lightgcn import LightGCN
from gnas.models.ops import Residual
from gnas.models.recommender import GraphRecommender
from gnas.models.registry import build_model


def tiny_graph(num_users: int = 6, num_items: int = 9, seed: int = 0) -> TrainGraph:
    """A random bipartite graph; the last item's interactions are held out, so it has no edges."""
    rng = np.random.default_rng(seed)
    pairs = {(u, int(i)) for u in range(num_users) for i in rng.choice(num_items, 3, replace=False)}
    pairs |= {(u, num_items - 1) for u in range(2)} | {(u, 0) for u in range(num_users)}
    frame = pd.DataFrame(sorted(pairs), columns=["user", "item"])
    data = Interactions.from_frame("tiny", frame)
    held_out = data.item == data.num_items - 1
    part = np.where(held_out, VALID, TRAIN).astype(np.int8)
    return build_train_graph(Split(data, part, np.array([], dtype=np.int64)))


GRAPH = tiny_graph()


def build(arch: Architecture) -> torch.nn.Module:
    return build_model(arch, GRAPH.num_users, GRAPH.num_items)


def scores(model: torch.nn.Module, graph: TrainGraph = GRAPH) -> torch.Tensor:
    users, items = model(graph)
    return users @ items.T


def run_forward_backward(arch: Architecture, graph: TrainGraph = GRAPH) -> GraphRecommender:
    model = build_model(arch, graph.num_users, graph.num_items)
    assert isinstance(model, GraphRecommender)
    model.train()
    out = scores(model, graph)
    assert out.shape == (graph.num_users, graph.num_items)
    assert torch.isfinite(out).all()
    (out * torch.randn_like(out)).sum().backward()
    grad = model.user_embedding.weight.grad
    assert grad is not None and torch.isfinite(grad).all()
    return model


def mixed_layers(conv: str) -> tuple[LayerArch, ...]:
    """Two layers that change the width (6, then 2 x 6 heads for attention convs, then back)."""
    first = LayerArch(conv=conv, hidden=6, heads=2, concat_heads=True, aggr="max", activation="elu")
    return (first, LayerArch(conv=conv, heads=2, aggr="mean", attention_dropout=0.2, norm="layer"))


@pytest.mark.parametrize(
    ("conv", "combine", "score"), list(itertools.product(names("conv"), names("combine"), names("score")))
)
def test_every_conv_combination_and_score_trains(conv: str, combine: str, score: str) -> None:
    torch.manual_seed(0)
    arch = Architecture(embedding_dim=8, layers=mixed_layers(conv), combine=combine, score=score)
    model = run_forward_backward(arch)
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
    conv_params = [p for name, p in model.named_parameters() if ".conv." in name]
    parameter_free = conv in ("lightgcn", "itemgraph")
    assert not parameter_free or not conv_params
    assert parameter_free or any(p.grad.abs().sum() > 0 for p in conv_params if p.grad is not None)


layer_archs = st.builds(
    LayerArch,
    conv=st.sampled_from(names("conv")),
    hidden=st.none() | st.integers(1, 6),
    heads=st.integers(1, 3),
    concat_heads=st.booleans(),
    aggr=st.sampled_from(["sum", "mean", "max"]),
    activation=st.sampled_from(names("activation")),
    dropout=st.floats(0.0, 0.9),
    attention_dropout=st.floats(0.0, 0.9),
    residual=st.booleans(),
    norm=st.sampled_from(names("norm")),
)
architectures = st.builds(
    Architecture,
    embedding_dim=st.integers(1, 8),
    layers=st.lists(layer_archs, min_size=0, max_size=3).map(tuple),
    combine=st.sampled_from(names("combine")),
    score=st.sampled_from(names("score")),
    temperature=st.floats(0.05, 2.0),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arch=architectures, seed=st.integers(0, 3))
def test_any_valid_architecture_builds_and_trains(arch: Architecture, seed: int) -> None:
    torch.manual_seed(seed)
    model = run_forward_backward(arch, tiny_graph(seed=seed))
    assert parameter_count(arch, model.num_users, model.num_items) == sum(
        p.numel() for p in model.parameters()
    )
    # the canonical form builds the very same model
    torch.manual_seed(seed)
    twin = build_model(arch.canonical(), model.num_users, model.num_items)
    torch.manual_seed(seed)
    again = build_model(arch, model.num_users, model.num_items)
    assert twin.state_dict().keys() == again.state_dict().keys()
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in twin.state_dict().items())


@pytest.mark.parametrize("arch", [Architecture(), Architecture(embedding_dim=16, layers=(LayerArch(),) * 2)])
def test_lightgcn_point_is_exactly_the_foundation_lightgcn(arch: Architecture) -> None:
    graph = tiny_graph(seed=3)
    reference = LightGCN(graph.num_users, graph.num_items, arch.embedding_dim, arch.num_layers)
    model = build_model(arch, graph.num_users, graph.num_items)
    assert isinstance(model, GraphRecommender)
    model.load_state_dict(reference.state_dict(), strict=True)
    assert torch.equal(scores(model, graph), scores(reference, graph))
    assert all(isinstance(block.conv, LightGCNLayer) for block in model.blocks.children())
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    # and so are its gradients
    for net in (model, reference):
        scores(net, graph).sum().backward()
    grads = [net.user_embedding.weight.grad for net in (model, reference)]
    assert grads[0] is not None and grads[1] is not None and torch.equal(grads[0], grads[1])


def test_dropout_acts_in_training_only() -> None:
    torch.manual_seed(0)
    layer = LayerArch(conv="gcn", dropout=0.5, attention_dropout=0.5)
    model = build(Architecture(embedding_dim=8, layers=(layer, layer)))
    model.train()
    assert not torch.equal(scores(model), scores(model))
    model.eval()
    assert torch.equal(scores(model), scores(model))
    gat = LayerArch(conv="gat", heads=2, attention_dropout=0.5)
    model = build(Architecture(embedding_dim=8, layers=(gat,)))
    model.train()
    assert not torch.equal(scores(model), scores(model))  # attention dropout alone
    model.eval()
    assert torch.equal(scores(model), scores(model))


@pytest.mark.parametrize(("hidden", "projected"), [(None, False), (5, True)])
def test_residual_adds_the_input_projected_when_widths_differ(hidden: int | None, projected: bool) -> None:
    torch.manual_seed(0)
    x = torch.randn(GRAPH.num_nodes, 8)
    plain = Block(LayerArch(conv="sage", hidden=hidden, activation="relu"), 8)
    with_skip = Block(LayerArch(conv="sage", hidden=hidden, activation="relu", residual=True), 8)
    with_skip.load_state_dict(plain.state_dict(), strict=False)
    assert isinstance(with_skip.residual, Residual)
    skip = with_skip.residual.skip
    assert isinstance(skip, torch.nn.Linear) == projected
    expected = plain(x, GRAPH) + (skip(x) if projected else x)
    assert torch.allclose(with_skip(x, GRAPH), expected, atol=1e-6)


def test_norms_and_activations_shape_the_output() -> None:
    torch.manual_seed(0)
    x = torch.randn(GRAPH.num_nodes, 8) * 3 + 1
    connected = GRAPH.norm_adj.crow_indices().diff() > 0  # an isolated node's GCN output is constant
    layer_norm = Block(LayerArch(conv="gcn", hidden=6, norm="layer"), 8)(x, GRAPH)[connected]
    assert torch.allclose(layer_norm.mean(dim=1), torch.zeros(len(layer_norm)), atol=1e-5)
    assert torch.allclose(layer_norm.var(dim=1, unbiased=False), torch.ones(len(layer_norm)), atol=1e-3)
    batch_norm = Block(LayerArch(conv="gcn", hidden=6, norm="batch"), 8)
    out = batch_norm(x, GRAPH)
    assert torch.allclose(out.mean(dim=0), torch.zeros(6), atol=1e-5)
    assert isinstance(batch_norm.norm, torch.nn.BatchNorm1d)
    assert batch_norm.norm.running_mean is not None and batch_norm.norm.running_mean.abs().sum() > 0
    relu = Block(LayerArch(conv="gcn", activation="relu"), 8)(x, GRAPH)
    assert (relu >= 0).all() and (relu == 0).any()
    assert Block(LayerArch(conv="gcn"), 8)(x, GRAPH).min() < 0


def test_cosine_scores_are_bounded_by_one_over_temperature() -> None:
    torch.manual_seed(0)
    layers = (LayerArch(conv="gat", heads=2, activation="relu"),)
    arch = Architecture(embedding_dim=8, layers=layers, combine="sum", score="cosine", temperature=0.1)
    model = build_model(arch, GRAPH.num_users, GRAPH.num_items)
    users, items = model(GRAPH)
    assert torch.allclose(users.norm(dim=1), torch.full((GRAPH.num_users,), 0.1**-0.5))
    out = users @ items.T
    assert out.abs().max() <= 10 + 1e-4
    dot = build_model(arch.model_copy(update={"score": "dot"}), GRAPH.num_users, GRAPH.num_items)
    dot.load_state_dict(model.state_dict())
    u, i = dot(GRAPH)
    cos = torch.nn.functional.cosine_similarity(u[:, None], i[None], dim=-1)
    assert torch.allclose(out, cos / 0.1, atol=1e-5)


def test_output_width_follows_heads_and_hidden() -> None:
    gat = CONVS["gat"]
    assert gat.output_dim(LayerArch(conv="gat", hidden=4, heads=3, concat_heads=True), 8) == 12
    assert gat.output_dim(LayerArch(conv="gat", hidden=4, heads=3), 8) == 4
    assert CONVS["lightgcn"].output_dim(LayerArch(hidden=4), 8) == 8
    wide = LayerArch(conv="gatv2", hidden=4, heads=3, concat_heads=True)
    arch = Architecture(embedding_dim=8, layers=(wide,))
    model = build(arch.model_copy(update={"combine": "last"}))
    assert model(GRAPH)[0].shape == (GRAPH.num_users, 12)
    model = build(arch)  # mean: projected back to 8
    assert model(GRAPH)[1].shape == (GRAPH.num_items, 8)


def test_bad_names_are_validation_errors_listing_the_valid_ones() -> None:
    with pytest.raises(ValidationError) as error:
        Architecture.model_validate({"layers": [{"conv": "gin"}]})
    problem = error.value.errors()[0]
    assert problem["loc"] == ("layers", 0, "conv")
    assert all(name in problem["msg"] for name in ("lightgcn", "gcn", "sage", "gat", "gatv2"))
    for field, value in (("combine", "median"), ("score", "l2")):
        with pytest.raises(ValidationError) as error:
            Architecture.model_validate({field: value})
        problem = error.value.errors()[0]
        assert problem["loc"] == (field,)
        assert all(name in problem["msg"] for name in names(field)) and repr(value) in problem["msg"]
    for field in ("activation", "norm"):
        with pytest.raises(ValidationError, match=f"{field}\n.*unknown {field} 'x'"):
            LayerArch.model_validate({field: "x"})


def test_a_registered_conv_is_valid_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    class Doubling(LightGCNLayer):
        def forward(self, x: torch.Tensor, graph: TrainGraph) -> torch.Tensor:
            return 2 * x

    monkeypatch.setitem(CONVS, "doubling", Doubling)
    import gnas.architecture as architecture

    assert "doubling" in architecture.CONVS
    arch = Architecture.model_validate({"layers": [{"conv": "doubling", "heads": 4}], "combine": "last"})
    assert arch.canonical().layers[0].heads == 1
    model = build_model(arch, GRAPH.num_users, GRAPH.num_items)
    users, _ = model(GRAPH)
    assert torch.equal(users, 2 * model.user_embedding.weight)


def test_canonical_drops_what_cannot_matter() -> None:
    gat = LayerArch(conv="gat", heads=1, concat_heads=True, aggr="max", hidden=4)
    assert gat.canonical() == LayerArch(conv="gat", hidden=4)
    sage = LayerArch(conv="sage", heads=3, attention_dropout=0.3, aggr="max")
    assert sage.canonical() == LayerArch(conv="sage", aggr="max")
    assert LayerArch(hidden=7).canonical() == LayerArch()
    assert LayerArch(conv="gat", heads=2, concat_heads=True).canonical().concat_heads
    assert Architecture(temperature=0.5).canonical() == Architecture()
    assert Architecture(score="cosine", temperature=0.5).canonical().temperature == 0.5
    assert Architecture(layers=(), combine="concat").canonical().combine == "last"

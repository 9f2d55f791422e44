"""The item-item co-occurrence conv: its graph against a dense brute force, what it leaves alone, and
that it trains, validates in a space and scores the same after a save/reload round trip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import synthetic_interactions
from typer.testing import CliRunner

from gnas.architecture import Architecture, LayerArch
from gnas.cli import app
from gnas.data import graph as graph_module
from gnas.data.graph import build_train_graph, item_graph_matrix
from gnas.data.interactions import TEST, TRAIN, VALID
from gnas.data.split import split_interactions
from gnas.inference import load_model
from gnas.inference.folder import save_model_files
from gnas.models.convs import CONVS
from gnas.models.convs.itemgraph import NEIGHBOURS, ItemGraphLayer, item_graph_nonzeros
from gnas.models.cost import GraphSize, estimate, forward_cost
from gnas.models.registry import build_model
from gnas.spec import SplitSpec, TrainingSpec, parse_train_spec
from gnas.train import evaluators
from gnas.training.trainer import fit

ROOT = Path(__file__).resolve().parent.parent


def dense_item_graph(r: np.ndarray, k: int) -> np.ndarray:
    """The module's maths, item by item over a dense matrix."""
    counts = r.T @ r
    np.fill_diagonal(counts, 0)
    kept = np.zeros_like(counts, dtype=float)
    for i in range(len(counts)):
        ranked = sorted(range(len(counts)), key=lambda j: (-counts[i, j], j))
        for j in ranked[:k]:
            kept[i, j] = counts[i, j]
    kept = np.maximum(kept, kept.T)
    degree = kept.sum(axis=1)
    scale = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
    return scale[:, None] * kept * scale[None, :]


def test_item_graph_matches_a_dense_brute_force_with_its_cut_and_ties(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    r = (rng.random((25, 14)) < 0.4).astype(np.int64)
    r[:, 13] = 0  # an item nobody has: an empty row
    user, item = np.nonzero(r)
    # many equal counts, so the cut at k=3 depends on the tie-break
    counts = r.T @ r
    assert any(len(set(row[np.argsort(-row)][2:4])) == 1 for row in counts - np.diag(np.diag(counts)))
    expected = dense_item_graph(r, 3)
    monkeypatch.setattr(graph_module, "ITEM_GRAPH_BLOCK", 40)  # many blocks of rows
    blocked = item_graph_matrix(user, item, 25, 14, 3)
    monkeypatch.undo()
    shuffled = rng.permutation(len(user))
    repeated = np.concatenate([shuffled, shuffled[:5]])  # order and duplicate edges do not matter
    whole = item_graph_matrix(user[repeated], item[repeated], 25, 14, 3)
    np.testing.assert_allclose(blocked.toarray(), expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(whole.toarray(), expected, rtol=1e-12, atol=0)
    assert not expected[13].any() and expected.any(axis=1)[:13].all()


def test_layer_smooths_items_over_the_item_graph_and_keeps_users() -> None:
    graph = build_train_graph(split_interactions(synthetic_interactions(), SplitSpec()))
    x = torch.randn(graph.num_nodes, 5, dtype=torch.float32, requires_grad=True)
    layer = ItemGraphLayer(LayerArch(conv="itemgraph", hidden=3), 5)
    out = layer(x, graph)
    assert layer.out_dim == 5 and out.shape == x.shape and not list(layer.parameters())
    users = graph.num_users
    torch.testing.assert_close(out[:users], x[:users])
    s = graph.item_graph(NEIGHBOURS)
    torch.testing.assert_close(out[users:], s.to_dense() @ x[users:])
    weight = torch.randn_like(out)
    (out * weight).sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad[users:], s.to_dense().T @ weight[users:])
    assert graph.item_graph(NEIGHBOURS) is s  # built once
    assert graph.to("cpu").item_graph(NEIGHBOURS) is s  # carried by .to(), not rebuilt


def test_the_item_graph_reads_training_edges_only() -> None:
    split = split_interactions(synthetic_interactions(seed=1), SplitSpec())
    s = build_train_graph(split).item_graph(NEIGHBOURS).to_dense()
    test_rows = split.part == TEST
    more_valid = replace(split, part=np.where(test_rows, VALID, split.part))
    more_train = replace(split, part=np.where(test_rows, TRAIN, split.part))
    assert torch.equal(build_train_graph(more_valid).item_graph(NEIGHBOURS).to_dense(), s)
    assert not torch.equal(build_train_graph(more_train).item_graph(NEIGHBOURS).to_dense(), s)


def test_registered_valid_in_an_architecture_and_in_a_space(tmp_path: Path) -> None:
    assert CONVS["itemgraph"] is ItemGraphLayer
    arch = Architecture.model_validate(
        {"embedding_dim": 8, "layers": [{"conv": "lightgcn"}, {"conv": "itemgraph", "hidden": 32}]}
    )
    assert arch.canonical().layers[1] == LayerArch(conv="itemgraph")
    data = yaml.safe_load((ROOT / "bench" / "spaces" / "quickstart504.yaml").read_text())
    data["space"] = {"embedding_dim": [8], "layers": {"conv": ["lightgcn", "itemgraph"]}}
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["space", "show", str(path)])
    assert result.exit_code == 0, result.output
    assert "choice [lightgcn, itemgraph]" in result.output


def test_cost_counts_the_item_graph_within_its_bound() -> None:
    size = GraphSize(num_users=100, num_items=300, num_interactions=2_000)
    arch = {"embedding_dim": 8, "layers": [{"conv": "lightgcn"}, {"conv": "lightgcn"}]}
    light = Architecture.model_validate(arch)
    both = Architecture.model_validate({**arch, "layers": [{"conv": "lightgcn"}, {"conv": "itemgraph"}]})
    nonzeros = 2 * NEIGHBOURS * min(size.nodes, size.num_interactions)
    extra = forward_cost(both, size).flops - forward_cost(light, size).flops
    assert extra == 2.0 * (nonzeros - size.edges) * 8
    added = estimate(both, size).graph_bytes - estimate(light, size).graph_bytes
    assert added == item_graph_nonzeros(300) * 12 + 301 * 8
    graph = build_train_graph(split_interactions(synthetic_interactions(num_items=200), SplitSpec()))
    assert graph.item_graph(NEIGHBOURS)._nnz() <= item_graph_nonzeros(graph.num_items)


def test_trains_and_scores_the_same_after_a_reload(tmp_path: Path) -> None:
    split = split_interactions(synthetic_interactions(num_items=30), SplitSpec())
    graph = build_train_graph(split)
    spec = parse_train_spec(
        {
            "training": {"max_epochs": 2, "batch_size": 64, "ks": [5], "metric": "ndcg@5"},
            "architecture": {
                "embedding_dim": 8,
                "layers": [{"conv": "lightgcn"}, {"conv": "itemgraph"}],
            },
        }
    )
    torch.manual_seed(0)
    model = build_model(spec.architecture, graph.num_users, graph.num_items)
    before = {name: p.detach().clone() for name, p in model.state_dict().items()}
    valid, _ = evaluators(split, TrainingSpec(ks=[5], metric="ndcg@5"), torch.device("cpu"))
    result = fit(model, graph, valid, spec.training, seed=0)
    assert result.epochs_run == 2
    assert any(not torch.equal(before[n], p) for n, p in model.state_dict().items())
    save_model_files(tmp_path, split, model)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    loaded = load_model(tmp_path)
    model.eval()
    with torch.no_grad():
        users, items = model(graph)
    assert torch.equal(loaded.user_embeddings, users) and torch.equal(loaded.item_embeddings, items)
    scores = loaded.score_users(list(range(graph.num_users)))
    assert torch.equal(scores, users @ items.T)

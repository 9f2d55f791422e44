"""The closed-form branch: the polynomial filter against a brute force, the mix against its formula,
the canonical form (no branch is the plain model exactly), one fit per process, the memory estimate,
and the same scores after a save/reload round trip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import yaml
from conftest import synthetic_interactions

from gnas.architecture import Architecture
from gnas.baselines import BASELINES
from gnas.baselines.ease import EASE
from gnas.baselines.gfcf import GFCF
from gnas.baselines.polynomial import PolynomialFilter
from gnas.data.graph import build_train_graph
from gnas.data.interactions import TEST, TRAIN, VALID
from gnas.data.split import split_interactions
from gnas.errors import GnasError
from gnas.inference import load_model
from gnas.inference.folder import save_model_files
from gnas.models import branch as branch_module
from gnas.models.branch import BRANCHES, mixed, standardised
from gnas.models.cost import GraphSize, check_fits
from gnas.models.registry import build_model
from gnas.spec import SplitSpec, TrainingSpec, parse_train_spec
from gnas.train import evaluators
from gnas.training.trainer import fit, score_function

CPU = torch.device("cpu")


def small_matrix(num_users: int = 20, num_items: int = 30, seed: int = 1) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((num_users, num_items)) < 0.3).astype(np.float64)
    dense[:, -1] = 0.0  # an item nobody has
    dense[np.arange(num_users), rng.integers(0, num_items - 1, num_users)] = 1.0
    return sp.csr_matrix(dense)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_polynomial_filter_matches_brute_force(order: int) -> None:
    x = small_matrix()
    dense = x.toarray()
    du, di = dense.sum(1), dense.sum(0)
    inv_i = np.divide(1.0, np.sqrt(di), out=np.zeros_like(di), where=di > 0)
    r = dense / np.sqrt(du)[:, None] * inv_i[None, :]
    p = r.T @ r
    expected = dense @ sum(np.linalg.matrix_power(p, j) for j in range(1, order + 1))
    got = PolynomialFilter({"order": order}).fit(x, CPU).score(x).numpy()
    assert np.allclose(got, expected, atol=1e-10)
    if order == 1:  # GF-CF's linear filter alone
        assert np.allclose(got, GFCF({"k": 0}).fit(x, CPU).score(x).numpy(), atol=1e-12)


def test_every_branch_names_a_baseline_and_architecture_fields() -> None:
    fields = set(Architecture.model_fields)
    for kind in BRANCHES.values():
        if kind is None:
            continue
        assert set(kind.params) == set(BASELINES[kind.baseline].hyperparameters)
        assert kind.fields <= fields


def test_no_branch_is_the_plain_model_exactly() -> None:
    assert Architecture(branch="none", branch_mix=0.5, branch_k=7).canonical() == Architecture()
    kept = Architecture(branch="ease", branch_mix=0.5, branch_l2=10, branch_k=7, branch_order=3).canonical()
    assert (kept.branch_l2, kept.branch_k, kept.branch_order) == (10, Architecture().branch_k, 2)
    with pytest.raises(ValueError, match="unknown branch 'nope'"):
        Architecture(branch="nope")
    for mix in (0.0, 1.0):  # 0: no branch; 1: the learned part would not count
        with pytest.raises(ValueError, match="branch_mix"):
            Architecture(branch="ease", branch_mix=mix)


@pytest.fixture
def split_and_graph():  # type: ignore[no-untyped-def]
    split = split_interactions(synthetic_interactions(num_items=30), SplitSpec())
    return split, build_train_graph(split)


def test_mixed_scores_follow_the_formula(split_and_graph) -> None:  # type: ignore[no-untyped-def]
    _, graph = split_and_graph
    learned_matrix = torch.randn(graph.num_users, graph.num_items, generator=torch.Generator().manual_seed(0))

    def learned(users: torch.Tensor) -> torch.Tensor:
        return learned_matrix[users]

    users = torch.arange(graph.num_users)
    assert mixed(learned, Architecture(), graph) is learned
    arch = Architecture(branch="polynomial", branch_mix=0.3, branch_order=2)
    got = mixed(learned, arch, graph)(users)
    train = sp.csr_matrix(
        (np.ones(len(graph.train_user)), (graph.train_user.numpy(), graph.train_item.numpy())),
        shape=(graph.num_users, graph.num_items),
    )
    closed = PolynomialFilter({"order": 2}).fit(train, CPU).score(train)

    seen = torch.from_numpy(train.toarray() > 0)

    def z(s: torch.Tensor) -> torch.Tensor:  # per user, over the items it does not have
        s = s.double()
        rows = []
        for row, mask in zip(s, seen, strict=True):
            rankable = row[~mask]
            rows.append((row - rankable.mean()) / rankable.std())
        return torch.stack(rows)

    assert got.dtype == torch.float32
    assert torch.allclose(got.double(), 0.7 * z(learned_matrix) + 0.3 * z(closed), atol=1e-5)
    assert not torch.allclose(standardised(closed), z(closed), atol=1e-3)  # own items would set the scale
    assert torch.equal(standardised(torch.ones(2, 3)), torch.zeros(2, 3))
    row = torch.tensor([[1.0, 2.0, 6.0]])
    everywhere, once = torch.tensor([[True, True, True]]), torch.tensor([[True, False, True]])
    assert torch.equal(standardised(row, everywhere), standardised(row))  # nothing to rank: all items
    assert torch.equal(standardised(row, once), torch.tensor([[-1.0, 0.0, 4.0]], dtype=torch.float64))


def test_a_branch_is_fitted_once_per_process(split_and_graph, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _, graph = split_and_graph
    fits = []
    original = PolynomialFilter.fit

    def counting(self: PolynomialFilter, train: sp.csr_matrix, device: torch.device) -> PolynomialFilter:
        fits.append(dict(self.params))
        return original(self, train, device)

    monkeypatch.setattr(PolynomialFilter, "fit", counting)
    monkeypatch.setattr(branch_module, "_fitted", type(branch_module._fitted)())
    arch = Architecture(embedding_dim=4, branch="polynomial", branch_mix=0.5, branch_order=3)
    for _ in range(3):
        score_function(build_model(arch, graph.num_users, graph.num_items), graph)(torch.arange(3))
    assert fits == [{"order": 3}]
    other = arch.model_copy(update={"branch_order": 1})
    score_function(build_model(other, graph.num_users, graph.num_items), graph)(torch.arange(3))
    assert fits == [{"order": 3}, {"order": 1}]


def test_the_memory_check_counts_the_branch() -> None:
    size = GraphSize(num_users=30_000, num_items=40_000, num_interactions=1_000_000)
    plain = check_fits(Architecture(), size, CPU, limit=8 * 2**30)
    assert plain.train_memory_bytes < 8 * 2**30
    ease = EASE.memory(size.num_users, size.num_items, size.num_interactions, {"l2": 250.0}).fit
    with pytest.raises(GnasError, match=rf"closed-form branch {ease / 2**30:.1f} GiB"):
        check_fits(Architecture(branch="ease", branch_mix=0.5), size, CPU, limit=8 * 2**30)


def test_trains_and_scores_the_same_after_a_reload(split_and_graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    split, graph = split_and_graph
    spec = parse_train_spec(
        {
            "training": {"max_epochs": 2, "batch_size": 64, "ks": [5], "metric": "ndcg@5"},
            "architecture": {"embedding_dim": 8, "num_layers": 1, "branch": "ease", "branch_mix": 0.4},
        }
    )
    torch.manual_seed(0)
    model = build_model(spec.architecture, graph.num_users, graph.num_items)
    valid, _ = evaluators(split, TrainingSpec(ks=[5], metric="ndcg@5"), CPU)
    result = fit(model, graph, valid, spec.training, seed=0)
    users = torch.arange(graph.num_users)
    scores = score_function(model, graph)(users)
    without = spec.architecture.model_copy(update={"branch": "none"})
    plain = build_model(without, graph.num_users, graph.num_items)
    plain.load_state_dict(model.state_dict())
    assert not torch.allclose(scores.double(), standardised(score_function(plain, graph)(users)))
    assert result.best_valid == valid.evaluate(score_function(model, graph))
    save_model_files(tmp_path, split, model)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    assert torch.equal(load_model(tmp_path).score_users(users.tolist()), scores)


def test_the_branch_reads_training_edges_only(split_and_graph, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    split, graph = split_and_graph
    monkeypatch.setattr(branch_module, "_fitted", type(branch_module._fitted)())
    arch = Architecture(branch="ease", branch_mix=0.5)
    users = torch.arange(graph.num_users)

    def learned(batch: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(batch), graph.num_items)

    def scores(moved: object) -> torch.Tensor:
        return mixed(learned, arch, build_train_graph(moved))(users)  # type: ignore[arg-type]

    test_rows = split.part == TEST
    assert torch.equal(scores(replace(split, part=np.where(test_rows, VALID, split.part))), scores(split))
    assert not torch.equal(scores(replace(split, part=np.where(test_rows, TRAIN, split.part))), scores(split))


def test_reasons_mix_the_branch_weights_in(split_and_graph, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    split, graph = split_and_graph
    for branch, says in (
        ("ease", "mixed with the ease branch's item weights"),
        ("polynomial", "learned part"),
    ):
        arch = Architecture(embedding_dim=8, num_layers=1, branch=branch, branch_mix=0.9)
        spec = parse_train_spec({"architecture": arch.model_dump(mode="json")})
        torch.manual_seed(0)
        model = build_model(spec.architecture, graph.num_users, graph.num_items)
        folder = tmp_path / branch
        folder.mkdir()
        save_model_files(folder, split, model)
        (folder / "config.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json")))
        loaded = load_model(folder)
        assert says in loaded.explanation_method
        user = loaded.user_ids[0]
        (top,) = loaded.recommend(user, k=1)
        reasons = loaded.explain(user, top.item_id, n=50)
        assert reasons and all(r.item_id in loaded.seen(user) for r in reasons)
        if branch == "ease":  # at weight 0.9 the order of the reasons is nearly EASE's own
            ease = loaded._branch
            assert ease is not None
            fitted, _ = branch_module.fitted_branch(*ease, loaded.graph)
            liked = np.array([loaded.item_index(r.item_id) for r in reasons])
            own = fitted.weights(liked, loaded.item_index(top.item_id))
            assert own[0] == own.max()

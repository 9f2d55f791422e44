"""Closed-form baselines: each against a brute-force numpy version, selection on validation only, the
memory refusal before allocation, one-line YAML errors, and `gnas train` + `gnas recommend` on a
baseline run folder."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
import yaml
from conftest import synthetic_interactions
from typer.testing import CliRunner

from gnas.baselines import BASELINES, fit_and_score
from gnas.baselines.base import Baseline, HyperParameter, MemoryNeed, interaction_matrix
from gnas.baselines.ease import EASE, _inverse_items_side, _inverse_users_side
from gnas.baselines.fit import train_matrix
from gnas.baselines.gfcf import GFCF
from gnas.baselines.itemknn import ItemKNN
from gnas.baselines.popularity import Popularity
from gnas.cli import app
from gnas.data.interactions import TEST, VALID
from gnas.data.split import Split, split_interactions
from gnas.errors import GnasError
from gnas.inference import load_model
from gnas.spec import SplitSpec, TrainingSpec, parse_train_spec

CPU = torch.device("cpu")
runner = CliRunner()


def small_matrix(num_users: int = 30, num_items: int = 40, seed: int = 0) -> sp.csr_matrix:
    """A binary matrix with one item no user has (its degree is 0)."""
    rng = np.random.default_rng(seed)
    dense = (rng.random((num_users, num_items)) < 0.25).astype(np.float64)
    dense[:, -1] = 0.0
    dense[np.arange(num_users), rng.integers(0, num_items - 1, num_users)] = 1.0  # no empty user
    return sp.csr_matrix(dense)


def scores(model: Baseline, train: sp.csr_matrix) -> np.ndarray:
    return model.score(train).cpu().numpy()


def test_popularity_is_the_item_counts() -> None:
    x = small_matrix()
    got = scores(Popularity().fit(x, CPU), x)
    assert np.array_equal(got, np.tile(x.toarray().sum(0), (x.shape[0], 1)))
    assert Popularity().fit(x, CPU).weights(np.array([0, 1]), 2) is None


def brute_itemknn(x: np.ndarray, k: int, shrink: float) -> np.ndarray:
    norms = np.sqrt((x * x).sum(0))
    sim = (x.T @ x) / (np.outer(norms, norms) + shrink + 1e-6)
    np.fill_diagonal(sim, 0.0)
    w = np.zeros_like(sim)
    for j in range(sim.shape[1]):
        order = np.argsort(-sim[:, j], kind="stable")[:k]  # ties to the lower item index
        keep = order[sim[order, j] > 0]
        w[keep, j] = sim[keep, j]
    return w


@pytest.mark.parametrize(("k", "shrink"), [(5, 2.0), (1, 0.0), (100, 10.0)])
def test_itemknn_matches_brute_force(k: int, shrink: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gnas.baselines.itemknn.BLOCK_FLOATS", 40 * 7)  # several blocks of 7 items
    x = small_matrix()
    model = ItemKNN({"k": k, "shrink": shrink}).fit(x, CPU)
    w = brute_itemknn(x.toarray(), k, shrink)
    assert np.allclose(model.matrix.toarray(), w, atol=1e-12)
    assert np.allclose(scores(model, x), x.toarray() @ w, atol=1e-12)
    assert np.allclose(model.weights(np.array([0, 3, 7]), 5), w[[0, 3, 7], 5])


def brute_ease(x: np.ndarray, l2: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + l2 * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize("shape", [(30, 40), (4, 40)])
def test_ease_matches_brute_force_on_both_sides(shape: tuple[int, int]) -> None:
    x = small_matrix(*shape)
    model = EASE({"l2": 3.0}).fit(x, CPU)
    b = brute_ease(x.toarray(), 3.0)
    assert np.allclose(model.matrix.numpy(), b, atol=1e-10)
    assert np.allclose(scores(model, x), x.toarray() @ b, atol=1e-10)
    assert np.allclose(model.weights(np.array([1, 2]), 0), b[[1, 2], 0])
    # the users-side (Woodbury) and the items-side inverse are the same matrix
    users, items = _inverse_users_side(x, 3.0, CPU), _inverse_items_side(x, 3.0, CPU)
    assert torch.allclose(users, items, atol=1e-12)


def brute_gfcf(x: np.ndarray, k: int, alpha: float) -> np.ndarray:
    du, di = x.sum(1), x.sum(0)
    inv_u = 1 / np.sqrt(du)
    inv_i = np.divide(1.0, np.sqrt(di), out=np.zeros_like(di), where=di > 0)
    r = inv_u[:, None] * x * inv_i[None, :]
    linear = x @ r.T @ r
    _, _, vt = np.linalg.svd(r, full_matrices=False)
    v = vt[:k]
    ideal = (x * inv_i[None, :]) @ v.T @ v * np.sqrt(di)[None, :]
    return linear + alpha * ideal


@pytest.mark.parametrize(("k", "alpha"), [(6, 0.3), (0, 0.3), (29, 1.0)])
def test_gfcf_matches_brute_force(k: int, alpha: float) -> None:
    x = small_matrix()
    model = GFCF({"k": k, "alpha": alpha}).fit(x, CPU)
    expected = brute_gfcf(x.toarray(), k, alpha)
    got = scores(model, x)
    assert np.isfinite(got).all()  # the item nobody has gets 0, not NaN
    assert np.allclose(got, expected, atol=1e-9)
    # a user's score is the sum of its liked items' weights
    liked = x[3].indices
    assert np.isclose(model.weights(liked, 5).sum(), got[3, 5])


def tiny_split() -> Split:
    return split_interactions(synthetic_interactions(), SplitSpec(method="random", seed=1))


TRAINING = TrainingSpec(metric="ndcg@5", ks=[5])


class Oracle(Baseline):
    """A test double that reads the held-out parts (a real baseline never does): ``part`` 1 ranks each
    user's valid items first, ``part`` 2 its test items first."""

    name = "oracle"
    hyperparameters = {"part": HyperParameter(1, integer=True)}
    split: Split

    @classmethod
    def memory(cls, num_users: int, num_items: int, nnz: int, params: Mapping[str, float]) -> MemoryNeed:
        return MemoryNeed(0, 0, "nothing")

    def fit(self, train: sp.csr_matrix, device: torch.device) -> Oracle:
        users, items = self.split.edges(int(self.params["part"]))
        self.favoured = interaction_matrix(users, items, *train.shape)
        self.rows = {tuple(train[u].indices): u for u in range(train.shape[0])}
        return self

    def score(self, rows: sp.csr_matrix) -> torch.Tensor:
        users = [self.rows[tuple(rows[i].indices)] for i in range(rows.shape[0])]
        return torch.from_numpy(self.favoured[users].toarray())


def test_the_grid_chooses_on_validation_and_scores_test_once(monkeypatch: pytest.MonkeyPatch) -> None:
    split = tiny_split()
    monkeypatch.setitem(BASELINES, "oracle", Oracle)
    monkeypatch.setattr(Oracle, "split", split, raising=False)
    grid = {"part": [TEST, VALID]}  # the test-favouring point first: a tie would keep it
    result = fit_and_score("oracle", grid, split, TRAINING, seed=1, test=True)
    valid_scores = [p.valid["ndcg@5"] for p in result.grid]
    assert valid_scores[1] > valid_scores[0]
    assert result.params == {"part": VALID}
    assert result.test is not None
    tested = fit_and_score("oracle", {"part": TEST}, split, TRAINING, test=True).test
    assert tested is not None and tested["ndcg@5"] > result.test["ndcg@5"]  # chosen on test it would win
    assert fit_and_score("oracle", grid, split, TRAINING).test is None  # no test unless asked


def test_fit_and_score_reads_no_test_data_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    split = tiny_split()
    asked: list[tuple[int, ...]] = []
    original = Split.edges

    def spy(self: Split, *parts: int) -> tuple[np.ndarray, np.ndarray]:
        asked.append(parts)
        return original(self, *parts)

    monkeypatch.setattr(Split, "edges", spy)
    fit_and_score("itemknn", {"k": [2, 5]}, split, TRAINING)
    assert asked and not any(TEST in parts for parts in asked)
    fit_and_score("itemknn", {"k": [2]}, split, TRAINING, test=True)
    assert any(TEST in parts for parts in asked)


def test_memory_refusal_happens_before_allocation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("fit was called")

    monkeypatch.setattr(EASE, "fit", refuse)
    with pytest.raises(GnasError) as error:
        fit_and_score("ease", {"l2": [10, 20]}, tiny_split(), TRAINING, memory_limit=10_000)
    message = str(error.value)
    assert "\n" not in message and "baseline ease needs ~" in message and "GiB (limit)" in message
    assert "40 items" in message and "best grid point kept" in message


def test_gowalla_sized_ease_is_refused_with_its_size() -> None:
    need = EASE.memory(29_858, 40_981, 810_128, {"l2": 250.0})
    assert need.kept == pytest.approx(40_981**2 * 8)
    assert need.fit >= 2 * 40_981**2 * 8  # the items side: Gram matrix and its factor


@pytest.mark.parametrize(
    ("baseline", "expected"),
    [
        ({"model": "eas"}, "baseline.model: unknown baseline 'eas'; expected one of popularity"),
        ({"model": "ease", "grid": {"l3": [1]}}, "baseline: grid.l3: unknown hyperparameter of ease"),
        ({"model": "itemknn", "grid": {"k": [1.5]}}, "baseline: grid.k: 1.5 is not an integer"),
        ({"model": "ease", "grid": {"l2": "big"}}, "baseline: grid.l2: 'big' is not a number"),
    ],
)
def test_bad_baseline_key_is_one_line(baseline: dict[str, Any], expected: str) -> None:
    with pytest.raises(GnasError) as error:
        parse_train_spec({"baseline": baseline}, "f.yaml")
    assert str(error.value).startswith(f"f.yaml: {expected}"), str(error.value)


def test_architecture_and_baseline_together_is_refused() -> None:
    with pytest.raises(GnasError, match="give architecture or baseline, not both"):
        parse_train_spec({"baseline": {"model": "ease"}, "architecture": {"embedding_dim": 8}})


def write_baseline_config(folder: Path, baseline: dict[str, Any]) -> Path:
    rows = [(f"user{u}", f"item{(u % 2) * 15 + j}") for u in range(40) for j in range(12)]
    data = folder / "interactions.csv"
    pd.DataFrame(rows, columns=["uid", "iid"]).to_csv(data, index=False)
    config = {
        "name": "bl",
        "dataset": {
            "name": "own",
            "format": "csv",
            "path": str(data),
            "columns": {"user": "uid", "item": "iid"},
        },
        "training": {"ks": [5], "metric": "ndcg@5"},
        "baseline": baseline,
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_recommend_and_report_on_a_baseline_folder(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    config = write_baseline_config(tmp_path, {"model": "itemknn", "grid": {"k": [2, 8], "shrink": 1}})
    result = runner.invoke(app, ["train", str(config), "--out", str(out), "--device", "cpu", "--name", "knn"])
    assert result.exit_code == 0, result.output
    assert "itemknn [1/2] k=2 shrink=1: valid ndcg@5" in result.output
    run = out / "knn"
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["grid"]) == 2 and metrics["params"]["k"] in (2, 8)
    best = max(metrics["grid"], key=lambda p: p["valid"]["ndcg@5"])
    assert metrics["valid"] == best["valid"] and "ndcg@5" in metrics["test"]
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert "architecture" not in saved and saved["baseline"]["model"] == "itemknn"
    assert not (run / "model.pt").exists()

    shown = runner.invoke(app, ["recommend", str(run), "--user", "user1", "-k", "3", "--explain"])
    assert shown.exit_code == 0, shown.output
    assert "because you liked" in shown.output and "item-item weights" in shown.output
    model = load_model(run)
    seen = set(model.seen("user1"))
    recs = model.recommend("user1", 3)
    assert len(recs) == 3 and not seen & {r.item_id for r in recs}
    assert all(reason.item_id in seen for reason in model.explain("user1", recs[0].item_id))
    assert recs[0].item_id.startswith("item") and int(recs[0].item_id[4:]) >= 15  # user1's taste group

    report = runner.invoke(app, ["report", str(run)])
    assert report.exit_code == 2 and "a `gnas train` run folder" in report.output


def test_popularity_folder_says_it_has_no_reasons(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    config = write_baseline_config(tmp_path, {"model": "popularity"})
    assert runner.invoke(app, ["train", str(config), "--out", str(out), "--name", "pop"]).exit_code == 0
    shown = runner.invoke(app, ["recommend", str(out / "pop"), "--user", "user1", "-k", "3", "--explain"])
    assert shown.exit_code == 0, shown.output
    assert "no per-user reason" in shown.output and "because you liked" not in shown.output


def test_too_large_baseline_leaves_no_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gnas.baselines.memory.available_memory", lambda device: 1000)
    out = tmp_path / "runs"
    config = write_baseline_config(tmp_path, {"model": "ease", "grid": {"l2": [1, 10]}})
    result = runner.invoke(app, ["train", str(config), "--out", str(out)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "baseline ease needs ~" in lines[0], result.output
    assert not out.exists()  # refused before the run folder (or its temporary twin) was made


def test_bad_yaml_key_through_the_cli_is_one_line(tmp_path: Path) -> None:
    config = write_baseline_config(tmp_path, {"model": "ease", "grid": {"lambda": [1]}})
    result = runner.invoke(app, ["train", str(config), "--out", str(tmp_path / "runs")])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1 and "grid.lambda" in lines[0], result.output
    assert not (tmp_path / "runs").exists()


def test_a_loaded_folder_refits_the_same_scores(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    config = write_baseline_config(tmp_path, {"model": "gfcf", "grid": {"k": [3], "alpha": [0.5]}})
    assert runner.invoke(app, ["train", str(config), "--out", str(out), "--name", "g"]).exit_code == 0
    spec = parse_train_spec(yaml.safe_load(config.read_text()))
    from gnas.data.registry import load_dataset

    split = split_interactions(load_dataset(spec.dataset), spec.split)
    train = train_matrix(split)
    fitted = GFCF({"k": 3, "alpha": 0.5}, seed=spec.seed).fit(train, CPU)
    model = load_model(out / "g")
    user = model.user_index("user3")
    assert torch.allclose(model.score_users([user])[0], fitted.score(train[[user]])[0])

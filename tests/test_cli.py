"""The command line as a user runs it: outputs, run folders, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from typer.testing import CliRunner

from gnas.cli import app

runner = CliRunner()


def write_own_dataset(folder: Path) -> Path:
    """A small CSV data set with string ids: two taste groups of users."""
    rows = [
        (f"user{u}", f"item{(u % 2) * 15 + j}", 1_600_000_000 + u * 100 + j)
        for u in range(40)
        for j in range(12)
    ]
    path = folder / "interactions.csv"
    pd.DataFrame(rows, columns=["uid", "iid", "ts"]).to_csv(path, index=False)
    return path


def write_config(folder: Path, **overrides: dict) -> Path:
    config: dict = {
        "name": "tiny",
        "dataset": {
            "name": "own",
            "format": "csv",
            "path": str(write_own_dataset(folder)),
            "columns": {"user": "uid", "item": "iid", "timestamp": "ts"},
        },
        "training": {"max_epochs": 3, "batch_size": 64, "ks": [5], "metric": "recall@5"},
        "architecture": {"embedding_dim": 8, "num_layers": 2},
    }
    for key, value in overrides.items():
        config[key] = {**config.get(key, {}), **value}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_dirs(out: Path) -> list[Path]:
    return sorted(out.iterdir()) if out.exists() else []


def test_train_writes_a_complete_run(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(write_config(tmp_path)), "--out", str(out), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    (run,) = run_dirs(out)
    assert run.name.startswith("tiny-")
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["valid"]) >= {"recall@5", "ndcg@5"} and set(metrics["test"]) >= {"recall@5", "ndcg@5"}
    assert 1 <= metrics["best_epoch"] <= 3 and metrics["device"] == "cpu"
    weights = torch.load(run / "model.pt", weights_only=True)
    assert weights["user_embedding.weight"].shape == (40, 8)
    assert pd.read_csv(run / "user_ids.csv")["user_id"].str.startswith("user").all()
    assert len(pd.read_csv(run / "history.csv")) == metrics["epochs_run"]
    assert yaml.safe_load((run / "config.yaml").read_text())["versions"]["torch"] == str(torch.__version__)


def test_seed_flag_reproduces_and_changes_results(tmp_path: Path) -> None:
    config = str(write_config(tmp_path))
    scores = []
    for seed in ("1", "1", "2"):
        out = tmp_path / f"runs-{len(scores)}"
        assert runner.invoke(app, ["train", config, "--out", str(out), "--seed", seed]).exit_code == 0
        (run,) = run_dirs(out)
        scores.append(pd.read_csv(run / "history.csv")["loss"].tolist())
    assert scores[0] == scores[1] != scores[2]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"training": {"patience_": 3}}, "training.patience_: unknown key"),
        ({"training": {"ks": [0]}}, "training.ks"),
        ({"training": {"metric": "auc@5"}}, "auc"),
        ({"split": {"ratios": [0.8, 0.3, 0.1]}}, "split.ratios"),
        ({"dataset": {"columns": {"user": "who", "item": "iid"}}}, "'who'"),
        (
            {"dataset": {"columns": {"user": "uid", "item": "iid", "timestamp": "uid"}}},
            "'uid' must hold numbers",
        ),
        ({"dataset": {"name": "nope", "format": None, "path": None}}, "unknown data set 'nope'"),
        ({"dataset": {"min_rating": 3}}, "min_rating"),
        ({"split": {"ratios": [0.9, 0.1, 0.0]}}, "split.ratios: the test part is empty"),
        ({"training": {"lr": 1e30, "eval_every": 3}}, "diverged"),
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(tmp_path: Path, override: dict, expected: str) -> None:
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(write_config(tmp_path, **override)), "--out", str(out)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert expected in lines[0]
    assert run_dirs(out) == []


def test_unsafe_run_name_and_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(write_config(tmp_path)), "--name", "../escape"])
    assert result.exit_code == 2 and "--name" in result.output
    result = runner.invoke(app, ["train", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2 and "absent.yaml: no such file" in result.output


def test_crash_during_training_leaves_no_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gnas.train.fit", explode)
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(write_config(tmp_path)), "--out", str(out)])
    assert result.exit_code != 0
    assert list(out.iterdir()) == []


def test_test_split_is_scored_exactly_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gnas.train as train_module

    calls: list[int] = []
    real = train_module.evaluators

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        valid, test = real(*args, **kwargs)
        original = test.evaluate

        def evaluate(score):  # noqa: ANN001, ANN202
            calls.append(1)
            return original(score)

        test.evaluate = evaluate  # type: ignore[method-assign]
        return valid, test

    monkeypatch.setattr(train_module, "evaluators", counting)
    result = runner.invoke(app, ["train", str(write_config(tmp_path)), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert calls == [1]


def test_datasets_split_writes_original_ids(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "splits"
    result = runner.invoke(app, ["datasets", "split", "ml-latest-small", "--seed", "2020", "-o", str(out)])
    assert result.exit_code == 0, result.output
    parts = {name: pd.read_csv(out / f"{name}.csv") for name in ("train", "valid", "test")}
    assert sum(len(p) for p in parts.values()) == 100_836
    movies = set(pd.read_csv(data_dir / "ml-latest-small" / "movies.csv")["movieId"])
    assert set(parts["test"]["item"]) <= movies
    merged = parts["train"].merge(parts["test"], on=["user", "item"])
    assert merged.empty
    again = tmp_path / "again"
    runner.invoke(app, ["datasets", "split", "ml-latest-small", "--seed", "2020", "-o", str(again)])
    assert pd.read_csv(again / "test.csv").equals(parts["test"])


def test_datasets_split_bad_ratios(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["datasets", "split", "ml-latest-small", "--ratios", "0.5,0.1", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2 and "split.ratios" in result.output


def test_datasets_list_and_info(data_dir: Path) -> None:
    listing = runner.invoke(app, ["datasets", "list"])
    assert listing.exit_code == 0 and "ml-latest-small" in listing.output and "gowalla" in listing.output
    info = runner.invoke(app, ["datasets", "info", "ml-latest-small", "--json"])
    assert info.exit_code == 0, info.output
    summary = json.loads(info.output)
    assert (summary["users"], summary["items"], summary["interactions"]) == (610, 9742, 100836)
    unknown = runner.invoke(app, ["datasets", "info", "ml-huge"])
    assert unknown.exit_code == 2 and "unknown data set 'ml-huge'" in unknown.output


@pytest.mark.integration
def test_train_lightgcn_on_movielens(tmp_path: Path, data_dir: Path) -> None:
    config = yaml.safe_load(Path("search_spaces/lightgcn.yaml").read_text())
    config["training"].update({"max_epochs": 2})
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["train", str(path), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    (run,) = run_dirs(tmp_path / "runs")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["split_sizes"] == {"train": 80592, "valid": 10122, "test": 10122}
    assert metrics["test"]["users"] == 610
    assert metrics["test"]["ndcg@20"] > 0.05  # a random ranking scores about 0.002

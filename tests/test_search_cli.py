"""`gnas search` as a user runs it: a small search end to end, and one-line errors that write nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

from gnas.cli import app
from gnas.runtime import tune_allocator

runner = CliRunner()


def write(folder: Path, config: dict[str, Any]) -> Path:
    path = folder / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_evolution_search_then_train_the_winner(tmp_path: Path) -> None:
    config = tiny_search_config(tmp_path)
    config["search"] = {
        "controller": "evolution",
        "max_trials": 5,
        "objectives": [{"metric": "ndcg@5"}],
        "evolution": {"population": 3, "seed_points": ["lightgcn"]},
    }
    config["space"]["embedding_dim"] = [8, 64]  # the LightGCN point (64-d, 3 layers) must lie in the space
    config["space"]["num_layers"] = {"type": "int", "low": 1, "high": 3}
    out = tmp_path / "runs"
    result = runner.invoke(
        app, ["search", str(write(tmp_path, config)), "--out", str(out), "--device", "cpu"]
    )
    assert result.exit_code == 0, result.output
    (run,) = list(out.iterdir())
    trials = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    fresh = [t for t in trials if t["cached_from"] is None]
    assert len(fresh) == 5 and all(t["status"] == "ok" for t in fresh)
    assert any(t["origin"].startswith("seed") for t in fresh), [t["origin"] for t in fresh]
    assert "stopped by max_trials" in result.output
    trained = runner.invoke(app, ["train", str(run / "best.yaml"), "--out", str(tmp_path / "trained")])
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(next((tmp_path / "trained").iterdir()).joinpath("metrics.json").read_text())
    assert "ndcg@5" in metrics["test"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ({"objectives": [{"metric": "auc@5"}]}, "search.objectives[0].metric"),
        ({"evolution": {"population": 1}}, "search.evolution.population"),
        ({"time_budget": "-5m"}, "search.time_budget"),
        ({"controller": "grid"}, "search.controller"),
        (
            {
                "controller": "optuna",
                "optuna": {"pruner": "median"},
                "objectives": [{"metric": "ndcg@5"}, {"metric": "params", "direction": "minimize"}],
            },
            "pruner",
        ),
        ({"evolution": {"mutation": "flip"}}, "search.evolution.mutation"),
        ({"max_trials": None}, "never stops"),
        ({"controller": "optuna", "optuna": {"storage": "notaurl"}}, "search.optuna.storage"),
        (
            {
                "controller": "optuna",
                "optuna": {"storage": "postgresql+nosuchdriver://u:secret@127.0.0.1:1/db"},
            },
            "cannot open",
        ),
        ({"fidelity": {"enabled": True, "min_epochs": None}}, "min_epochs"),
        (
            {
                "controller": "optuna",
                "optuna": {"pruner": "median"},
                "objectives": [{"metric": "params", "direction": "minimize"}],
            },
            "ranking metric",
        ),
    ],
)
def test_bad_search_settings_are_one_line_and_write_nothing(
    tmp_path: Path, search: dict, expected: str
) -> None:
    config = tiny_search_config(tmp_path)
    config["search"] = {**config["search"], "controller": "evolution", **search}
    out = tmp_path / "runs"
    result = runner.invoke(app, ["search", str(write(tmp_path, config)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and expected in lines[0], result.output
    assert "secret" not in result.output
    assert not out.exists() or list(out.iterdir()) == []


def test_seed_flag_reaches_best_yaml_and_empty_valid_split_is_an_error(tmp_path: Path) -> None:
    path = str(write(tmp_path, tiny_search_config(tmp_path)))
    out = tmp_path / "runs"
    assert (
        runner.invoke(app, ["search", path, "--seed", "7", "--out", str(out), "--max-trials", "1"]).exit_code
        == 0
    )
    (run,) = list(out.iterdir())
    assert yaml.safe_load((run / "best.yaml").read_text())["seed"] == 7
    assert yaml.safe_load((run / "spec.yaml").read_text())["space"]["embedding_dim"] == [8, 16]

    config = tiny_search_config(tmp_path, split={"ratios": [0.9, 0.0, 0.1]})
    result = runner.invoke(app, ["search", str(write(tmp_path, config)), "--out", str(tmp_path / "r2")])
    assert result.exit_code == 2 and "split.ratios: the valid part is empty" in result.output
    assert not (tmp_path / "r2").exists()


def test_bad_flags(tmp_path: Path) -> None:
    path = str(write(tmp_path, tiny_search_config(tmp_path)))
    assert runner.invoke(app, ["search", path, "--controller", "grid"]).exit_code == 2
    assert runner.invoke(app, ["search", path, "--max-trials", "0"]).exit_code == 2
    result = runner.invoke(app, ["search", path, "--time-budget", "soon", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "time_budget" in result.output
    assert not (tmp_path / "r").exists()
    (tmp_path / "file").write_text("")
    result = runner.invoke(app, ["search", path, "--out", str(tmp_path / "file")])
    assert result.exit_code == 2 and "--out" in result.output


def test_allocator_tuning_applies_on_linux_glibc() -> None:
    assert tune_allocator() is True

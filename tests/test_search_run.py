"""A whole search on a tiny data set: trials logged before the controller hears of them, validation only,
leaderboard and best.yaml that `gnas train` accepts, graceful Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from conftest import tiny_search_config

from gnas.errors import GnasError
from gnas.search.run import search
from gnas.search.runlog import read_trials
from gnas.search.settings import SearchSettings
from gnas.space import contains, decode, parse_search_file
from gnas.spec import load_train_spec


def tiny_search_file(folder: Path, space: dict[str, Any] | None = None) -> Any:
    config = tiny_search_config(folder)
    if space is not None:
        config["space"] = space
    return parse_search_file(config, "tiny.yaml")


def settings(**overrides: Any) -> SearchSettings:
    return SearchSettings.model_validate(
        {"controller": "random", "max_trials": 3, "objectives": [{"metric": "ndcg@5"}], **overrides}
    )


def test_random_search_logs_every_trial_and_exports_the_best(tmp_path: Path) -> None:
    file = tiny_search_file(tmp_path)
    outcome = search(file, settings(), out=tmp_path / "runs", device="cpu")
    assert outcome.stop_reason == "max_trials"
    trials = read_trials(outcome.run_dir)
    assert [t["trial"] for t in trials if t["cached_from"] is None] == [0, 1, 2][: len(trials)]
    fresh = [t for t in trials if t["cached_from"] is None]
    assert len(fresh) == 3
    for trial in fresh:
        assert trial["status"] == "ok", trial["error"]
        assert not any(key.startswith("test") for key in trial["metrics"])
        assert {"ndcg@5", "params", "latency", "train_time"} <= set(trial["metrics"])
        assert trial["values"] == [trial["metrics"]["ndcg@5"]]
    leaderboard = pd.read_csv(outcome.run_dir / "leaderboard.csv")
    assert leaderboard["ndcg@5"].is_monotonic_decreasing and len(leaderboard) == 3
    best = load_train_spec(outcome.run_dir / "best.yaml")
    assert contains(file.space, best.architecture)
    assert outcome.best is not None and outcome.winner is not None  # best.yaml: the final stage's winner
    assert best.architecture.canonical() == decode(file.space, outcome.winner.entry.genotype)
    assert outcome.best.result.values[0] == leaderboard["ndcg@5"].max()
    spec = yaml.safe_load((outcome.run_dir / "spec.yaml").read_text())
    assert spec["search"]["controller"] == "random" and spec["seed"] == 1
    assert (outcome.run_dir / "controller.json").is_file()


def test_duplicates_are_not_retrained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tiny_search_file(tmp_path, space={"embedding_dim": 8, "num_layers": 1})
    calls: list[str] = []
    import gnas.search.executors as run_module  # the inline executor calls run_trial from there

    real = run_module.run_trial

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1].stage)
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "run_trial", counting)
    outcome = search(file, settings(max_trials=3), out=tmp_path / "runs", device="cpu")
    assert calls == ["search"] + ["final"] * 3  # one architecture: one trial, then 3 seeds at full budget
    assert outcome.stop_reason == "no new candidates"
    trials = read_trials(outcome.run_dir)
    assert trials[0]["cached_from"] is None and all(t["cached_from"] == 0 for t in trials[1:])


def test_ctrl_c_keeps_finished_trials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gnas.search.executors as run_module  # the inline executor calls run_trial from there

    real = run_module.run_trial
    calls: list[int] = []

    def interrupt_second(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(run_module, "run_trial", interrupt_second)
    outcome = search(tiny_search_file(tmp_path), settings(max_trials=5), out=tmp_path / "runs", device="cpu")
    assert outcome.stop_reason == "interrupted"
    assert len(read_trials(outcome.run_dir)) == 1
    assert (outcome.run_dir / "best.yaml").is_file()


def test_workers_that_cannot_start_leave_no_run_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gnas.errors import GnasError

    def no_workers(*args: Any, **kwargs: Any) -> Any:
        raise GnasError("workers.gpus_per_trial: no GPU here")

    monkeypatch.setattr("gnas.search.run.build_executor", no_workers)
    with pytest.raises(GnasError, match="no GPU here"):
        search(tiny_search_file(tmp_path), settings(), out=tmp_path / "runs", name="x", device="cpu")
    assert not (tmp_path / "runs" / "x").exists()


def test_generations_alone_only_stop_evolution() -> None:
    base = SearchSettings.model_validate({"max_trials": None, "generations": 3})
    assert base.controller == "evolution"
    with pytest.raises(GnasError, match="generations only stops the evolution controller"):
        base.with_overrides(controller="random")

"""`gnas search --resume`: a search killed with SIGKILL at any point and resumed makes the same trials
and ends with the same population as one never stopped; bad resumes are refused and change nothing."""

from __future__ import annotations

import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

import gnas
from gnas.cli import app

runner = CliRunner()
TIMINGS = ("seconds", "latency", "train_time", "worker", "logged_at")


def evolution_config(folder: Path, trials: int = 10) -> Path:
    config = tiny_search_config(folder)
    config["search"] = {
        "controller": "evolution",
        "max_trials": trials,
        "objectives": [{"metric": "ndcg@5"}],
        "evolution": {"population": 3},
    }
    path = folder / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def search(*args: str) -> Any:
    return runner.invoke(app, ["search", *args, "--device", "cpu"])


def without_timings(run: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
    for record in records:
        for key in TIMINGS:
            record.pop(key, None)
            record["metrics"].pop(key, None)
    return records


def controller_state(run: Path) -> dict[str, Any]:
    return json.loads((run / "controller.json").read_text())["controller"]


def kill_after(config: Path, run: Path, trials: int) -> None:
    """Start a search in another process and SIGKILL it once ``trials`` trials are logged."""
    command = [sys.executable, "-c", "from gnas.cli import main; main()", "search", str(config)]
    command += ["--out", str(run.parent), "--name", run.name, "--device", "cpu"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = run / "trials.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        ready = (run / "controller.json").exists() and log.exists()
        if ready and len(log.read_bytes().splitlines()) >= trials:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the search ended before it could be killed"


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The config and the run folder of the same search, never interrupted."""
    folder = tmp_path_factory.mktemp("reference")
    config = evolution_config(folder)
    result = search(str(config), "--out", str(folder / "runs"), "--name", "whole")
    assert result.exit_code == 0, result.output
    return config, folder / "runs" / "whole"


@pytest.mark.parametrize(
    ("kill_at", "cut_mid_write"),
    [(0, False), (random.Random(7).randint(2, 8), False), (5, True)],
    ids=["before-first-result", "random-point", "mid-write"],
)
def test_killed_and_resumed_search_equals_the_uninterrupted_one(
    reference: tuple[Path, Path], tmp_path: Path, kill_at: int, cut_mid_write: bool
) -> None:
    config, whole = reference
    run = tmp_path / "runs" / "killed"
    kill_after(config, run, kill_at)
    logged = (run / "trials.jsonl").read_bytes()
    if cut_mid_write:  # a crash in the middle of appending a trial: half a line at the end
        (run / "trials.jsonl").write_bytes(logged + b'{"trial": 99, "genotype": [8, ')
    result = search("--resume", str(run))
    assert result.exit_code == 0, result.output
    assert ("cut short" in result.output) == cut_mid_write
    assert without_timings(run) == without_timings(whole)
    assert controller_state(run)["population"] == controller_state(whole)["population"]
    resumes = yaml.safe_load((run / "spec.yaml").read_text())["resumes"]
    assert [r["trials_logged"] for r in resumes] == [len(logged.splitlines())]


def test_a_finished_search_goes_on_with_a_larger_budget(reference: tuple[Path, Path], tmp_path: Path) -> None:
    config, whole = reference
    out, run = tmp_path / "runs", tmp_path / "runs" / "short"
    with_workers = yaml.safe_load(config.read_text())
    with_workers["workers"] = {"max_retries": 3}
    config = tmp_path / "with_workers.yaml"
    config.write_text(yaml.safe_dump(with_workers))
    assert search(str(config), "--out", str(out), "--name", "short", "--max-trials", "4").exit_code == 0
    for budget in ("7", "10"):  # resumed twice: each resume records itself and keeps the run resumable
        result = search("--resume", str(run), "--max-trials", budget)
        assert result.exit_code == 0, result.output
    assert without_timings(run) == without_timings(whole)
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    assert [r["max_trials"] for r in spec["resumes"]] == [7, 10]
    assert spec["workers"]["max_retries"] == 3
    for command in (["export", str(run), "-o", str(tmp_path / "best.yaml")], ["report", str(run)]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output


def test_random_and_optuna_searches_resume_without_rerunning_trials(tmp_path: Path) -> None:
    for controller in ("random", "optuna"):
        config = tiny_search_config(tmp_path)
        config["search"] = {"controller": controller, "max_trials": 3, "objectives": [{"metric": "ndcg@5"}]}
        path = tmp_path / f"{controller}.yaml"
        path.write_text(yaml.safe_dump(config))
        run = tmp_path / "runs" / controller
        assert search(str(path), "--out", str(tmp_path / "runs"), "--name", controller).exit_code == 0
        first = without_timings(run)
        result = search("--resume", str(run), "--max-trials", "5")
        assert result.exit_code == 0, result.output
        records = without_timings(run)
        numbers = [r["trial"] for r in records]
        assert records[: len(first)] == first and numbers == sorted(set(numbers))
        assert sum(r["cached_from"] is None for r in records) == 5
    study = optuna.load_study(study_name="optuna", storage=f"sqlite:///{run / 'study.db'}")
    states = [trial.state.name for trial in study.trials]
    assert states.count("COMPLETE") == len(records) and "RUNNING" not in states  # duplicates told too


def three_trials(config: Path, out: Path) -> Path:
    """A finished search of 3 trials, ``out/r``."""
    assert search(str(config), "--out", str(out), "--name", "r", "--max-trials", "3").exit_code == 0
    return out / "r"


def snapshot(run: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(run.iterdir()) if path.is_file()}


def test_bad_resumes_are_one_line_errors_that_change_nothing(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = reference
    run = three_trials(config, tmp_path / "runs")
    before = snapshot(run)

    def refused(*args: str, expect: str) -> None:
        result = search(*args)
        assert result.exit_code == 2, result.output
        assert expect in result.output and len(result.output.strip().splitlines()) == 1
        assert snapshot(run) == before

    refused("--resume", str(tmp_path), expect="not a search run folder")
    refused("--resume", str(run), "--seed", "3", expect="drop --name, --out and --seed")
    changed = yaml.safe_load(config.read_text())
    changed["space"]["embedding_dim"] = [8, 32]
    changed_file = tmp_path / "changed.yaml"
    changed_file.write_text(yaml.safe_dump(changed))
    refused(str(changed_file), "--resume", str(run), expect="space differ")
    refused("--resume", str(run), "--controller", "random", expect="search.controller differ")

    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["versions"]["gnas"] = "9.9.0"
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    before = snapshot(run)
    refused("--resume", str(run), expect="written by gnas 9.9.0")
    spec["versions"]["gnas"] = gnas.__version__
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))

    (run / "controller.json").write_text('{"format": 1, "controller": ')
    before = snapshot(run)
    refused("--resume", str(run), expect="controller.json: damaged")


def test_a_run_in_use_is_not_resumed_twice_and_a_forced_change_is_recorded(
    reference: tuple[Path, Path], tmp_path: Path
) -> None:
    config, _ = reference
    run = three_trials(config, tmp_path / "runs")
    with open(run / ".lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = search("--resume", str(run))
        assert result.exit_code == 2 and "another gnas process" in result.output
    changed = yaml.safe_load(config.read_text())
    changed["training"]["max_epochs"] = 1
    changed_file = tmp_path / "changed.yaml"
    changed_file.write_text(yaml.safe_dump(changed))
    result = search(str(changed_file), "--resume", str(run), "--force", "--max-trials", "4")
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    assert spec["training"]["max_epochs"] == 1
    assert spec["resumes"][0]["changed"] == ["training"] and spec["resumes"][0]["forced"]
    assert len(without_timings(run)) == 4
    assert os.path.exists(run / "best.yaml")

"""`gnas export`: a search trial as a train file that reproduces the search's validation result."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

from gnas.cli import app
from gnas.cli.train import comparison_notes
from gnas.search.export import load_search_run
from gnas.search.ranking import leaderboard, pareto_front
from gnas.spec import load_train_spec

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-objective search (ndcg@5 up, params down) over a tiny data set."""
    folder = tmp_path_factory.mktemp("export")
    config = tiny_search_config(folder)
    config["space"]["layers"]["conv"] = ["lightgcn", "gat"]
    config["search"] = {
        "controller": "random",
        "max_trials": 5,
        "objectives": [{"metric": "ndcg@5"}, {"metric": "params", "direction": "minimize"}],
        "final": {"top_k": 0},  # the screening trials themselves (tests/test_final_stage.py: the final stage)
    }
    (folder / "search.yaml").write_text(yaml.safe_dump(config))
    args = [
        "search",
        str(folder / "search.yaml"),
        "--out",
        str(folder / "runs"),
        "--name",
        "s",
        "--device",
        "cpu",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return folder / "runs" / "s"


def export(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["export", *args])
    return result.exit_code, result.output


def test_default_is_the_best_trial_and_retrains_to_its_validation_result(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "best.yaml"
    code, output = export(str(run), "-o", str(out))
    assert code == 0, output
    # the search's best.yaml comes from its input file, the export from spec.yaml: the same training
    assert load_train_spec(out) == load_train_spec(run / "best.yaml")
    config = yaml.safe_load(out.read_text())
    searched = load_search_run(run)
    best = leaderboard(searched.records, searched.objectives)[0]
    assert config["search_result"]["trial"] == best.candidate.trial
    assert config["architecture"] == best.architecture
    assert config["seed"] == 1 and config["training"]["max_epochs"] == 2
    assert config["search_result"]["device"] == "cpu"

    # the same device as the search: CPU and CUDA kernels and random streams differ
    command = ["train", str(out), "--out", str(tmp_path / "t"), "--name", "b", "--device", "cpu"]
    trained = runner.invoke(app, command)
    assert trained.exit_code == 0, trained.output
    metrics = json.loads((tmp_path / "t" / "b" / "metrics.json").read_text())
    assert metrics["valid"]["ndcg@5"] == pytest.approx(best.result.metrics["ndcg@5"], abs=1e-6)
    assert "valid in the search" in trained.output and "note:" not in trained.output
    kept = yaml.safe_load((tmp_path / "t" / "b" / "config.yaml").read_text())
    assert kept["search_result"]["objectives"]["ndcg@5"] == best.result.values[0]


def test_trial_and_pareto_choose_their_trial(run: Path, tmp_path: Path) -> None:
    searched = load_search_run(run)
    trial = searched.records[-1]
    code, output = export(str(run), "--trial", str(trial.candidate.trial), "-o", str(tmp_path / "t.yaml"))
    assert code == 0, output
    config = yaml.safe_load((tmp_path / "t.yaml").read_text())
    assert config["architecture"] == trial.architecture
    assert config["name"] == f"tiny-trial{trial.candidate.trial}"

    front = pareto_front(searched.records, searched.objectives)
    primary = [r.result.values[0] for r in front]
    assert primary == sorted(primary, reverse=True)
    for n, record in enumerate(front, start=1):
        code, output = export(str(run), "--pareto", str(n), "-o", str(tmp_path / f"p{n}.yaml"))
        assert code == 0, output
        assert yaml.safe_load((tmp_path / f"p{n}.yaml").read_text())["search_result"]["trial"] == (
            record.candidate.trial
        )
    code, output = export(str(run), "--pareto", str(len(front) + 1), "-o", str(tmp_path / "x.yaml"))
    assert code == 2 and f"front has {len(front)} point(s)" in output
    assert "Pareto front of s" in output  # the front is listed to choose from
    assert not (tmp_path / "x.yaml").exists()


def _failed_copy(run: Path, folder: Path) -> tuple[Path, int]:
    """A copy of the run whose first trial is marked failed."""
    copy = folder / "copy"
    shutil.copytree(run, copy)
    lines = (copy / "trials.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first.update(status="failed", error="RuntimeError: boom", values=[])
    (copy / "trials.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    return copy, first["trial"]


def test_bad_inputs_are_one_line_and_write_nothing(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    failed_run, failed = _failed_copy(run, tmp_path)
    single = tmp_path / "single"
    shutil.copytree(run, single)
    spec = yaml.safe_load((single / "spec.yaml").read_text())
    spec["search"]["objectives"] = spec["search"]["objectives"][:1]
    (single / "spec.yaml").write_text(yaml.safe_dump(spec))
    cases = [
        ([str(run), "--trial", "999"], "--trial 999: no such trial"),
        ([str(failed_run), "--trial", str(failed)], "failed: RuntimeError: boom"),
        ([str(run), "--trial", "0", "--pareto", "1"], "not both"),
        ([str(single), "--pareto", "1"], "one objective"),
        ([str(tmp_path)], "not a search run folder"),
        ([str(tmp_path / "nope")], "no such folder"),
    ]
    for args, expected in cases:
        code, output = export(*args, "-o", str(out))
        assert code == 2, output
        assert expected in output and len(output.strip().splitlines()) == 1, output
        assert not out.exists()

    out.write_text("mine")
    code, output = export(str(run), "-o", str(out))
    assert code == 2 and "already exists" in output and out.read_text() == "mine"
    code, output = export(str(run), "-o", str(out), "--force")
    assert code == 0 and "search_result" in out.read_text()


def test_train_says_why_validation_may_differ_from_the_search() -> None:
    result = {"device": "cuda", "valid": {"ndcg@5": 0.5}}
    assert comparison_notes(result, "cuda", seed_changed=False) == []
    assert comparison_notes({"valid": {}}, "cpu", seed_changed=False) == []
    (device,) = comparison_notes(result, "cpu", seed_changed=False)
    assert "on cuda, this run on cpu" in device
    notes = comparison_notes({**result, "budget": {"epochs": 2}}, "cuda", seed_changed=True)
    assert len(notes) == 2 and "--seed" in notes[0] and "smaller budget" in notes[1]

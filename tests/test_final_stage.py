"""The search's final stage: the best screening candidates and the seed points retrain at the full
budget with several seeds; the best mean validation value wins, is exported with the full budget, and
a search killed in the middle of the stage resumes without redoing finished runs."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

import gnas.search.run as search_run
from gnas.cli import app
from gnas.data.interactions import VALID
from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.export import load_search_run
from gnas.search.final import FinalRun, plan, run_training, standings, winner
from gnas.search.objectives import Objectives
from gnas.search.ranking import leaderboard
from gnas.search.runlog import TrialRecord
from gnas.space import Genotype, SearchFile, parse_search_file, sample_distinct
from gnas.spec import load_train_spec

runner = CliRunner()
TIMINGS = ("seconds", "latency", "train_time", "worker", "logged_at")


def final_config(folder: Path, **search: Any) -> dict[str, Any]:
    """A tiny evolution search: 1-epoch screening trials, a 3-epoch full budget, the LightGCN seed
    point, and a final stage of the 2 best with 2 seeds each (``search`` overrides its settings)."""
    config = tiny_search_config(folder)
    config["training"]["max_epochs"] = 3
    config["space"]["embedding_dim"] = [8, 16, 64]
    config["space"]["num_layers"]["high"] = 3
    config["space"]["combine"] = ["mean", "last"]
    config["search"] = {
        "controller": "evolution",
        "max_trials": 6,
        "objectives": [{"metric": "ndcg@5"}],
        "evolution": {"population": 3, "seed_points": ["lightgcn"]},
        "trial_budget": {"max_epochs": 1},
        "final": {"top_k": 2, "seeds": 2},
        **search,
    }
    return config


def write(folder: Path, config: dict[str, Any], name: str = "search.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(config))
    return path


def search(*args: str) -> Any:
    return runner.invoke(app, ["search", *args, "--device", "cpu"])


def lines(path: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for record in records:
        for key in TIMINGS:
            record.pop(key, None)
            record["metrics"].pop(key, None)
    return records


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The search file and the run folder of a whole search with its final stage, never stopped, and
    the data parts the search built evaluators for."""
    folder = tmp_path_factory.mktemp("final")
    config = write(folder, final_config(folder))
    parts = []
    real = search_run.ranking_evaluator

    def recorded(split: Any, part: str, *args: Any, **kwargs: Any) -> Any:
        parts.append(part)
        return real(split, part, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_run, "ranking_evaluator", recorded)
        result = search(str(config), "--out", str(folder / "runs"), "--name", "whole")
    assert result.exit_code == 0, result.output
    assert "final stage" in result.output and "winner:" in result.output
    return config, folder / "runs" / "whole", parts


# --- selection, on synthetic results -------------------------------------------------------------


def synthetic(folder: Path) -> tuple[SearchFile, Objectives, list[TrialRecord]]:
    """A search file (top 3, 3 seeds), its objectives and the screening log of 4 distinct genotypes."""
    file = parse_search_file(final_config(folder, final={"top_k": 3, "seeds": 3}))
    objectives = Objectives.from_specs(file.search.objectives)
    genotypes = sample_distinct(file.space, 0, 4)
    screening = [0.30, 0.28, 0.27, 0.10]
    records = [
        TrialRecord(Candidate(i, g), TrialResult("ok", {"ndcg@5": v}, (v,)), {})
        for i, (g, v) in enumerate(zip(genotypes, screening, strict=True))
    ]
    # the best trial's genotype again at a lower budget and as a cached repeat: not a second entry
    records.append(
        TrialRecord(Candidate(4, genotypes[0], Budget(epochs=1)), TrialResult("ok", {}, (0.5,)), {})
    )
    records.append(TrialRecord(Candidate(5, genotypes[0]), TrialResult("ok", {}, (0.9,)), {}, cached_from=0))
    return file, objectives, records


def final_run(file: SearchFile, genotype: Genotype, seed: int, value: float | None) -> FinalRun:
    result = TrialResult("ok", {"ndcg@5": value}, (value,)) if value is not None else TrialResult("failed")
    candidate = Candidate(0, genotype, stage="final", seed=seed)
    return FinalRun(TrialRecord(candidate, result, {}), run_training(file, genotype))


def test_entries_are_the_top_k_distinct_candidates_then_the_seed_points(tmp_path: Path) -> None:
    file, objectives, records = synthetic(tmp_path)
    entries = plan(records, file, file.search, objectives)
    assert [e.trial for e in entries[:3]] == [0, 1, 2]  # lower-budget and cached repeats do not count
    assert [e.screening for e in entries[:3]] == [0.30, 0.28, 0.27]
    assert entries[-1].seed_point == "lightgcn" and entries[-1].trial is None and len(entries) == 4
    off = file.search.model_copy(update={"final": file.search.final.model_copy(update={"top_k": 0})})
    assert plan(records, file, off, objectives) == []


def test_the_winner_is_the_best_mean_over_seeds_not_the_best_screening_or_single_value(
    tmp_path: Path,
) -> None:
    file, objectives, records = synthetic(tmp_path)
    entries = plan(records, file, file.search, objectives)
    g = [entry.genotype for entry in entries]
    values = {
        g[0]: [0.25, 0.25, 0.25],  # the screening best, flat at the full budget
        g[1]: [0.40, 0.10, 0.10],  # the best single run, a poor mean
        g[2]: [0.27, 0.26, 0.28],  # the best mean: the winner
        g[3]: [0.50, 0.50, None],  # the seed point: best values, but a seed failed, so it cannot win
    }
    runs = [
        final_run(file, genotype, file.seed + i, v)
        for genotype, vs in values.items()
        for i, v in enumerate(vs)
    ]
    table = standings(entries, runs, file, file.search, objectives)
    won = winner(table)
    assert won is not None and won.entry.genotype == g[2]
    assert won.mean == pytest.approx(0.27) and won.sd == pytest.approx(0.01)
    assert won.main is not None and won.main.record.candidate.seed == file.seed
    assert [s.entry.genotype for s in table] == [g[2], g[0], g[1], g[3]]
    # a run logged with other training settings (a forced change of training:) does not count
    stale = [FinalRun(run.record, {**run.training, "max_epochs": 99}) for run in runs]
    assert winner(standings(entries, stale, file, file.search, objectives)) is None


# --- a whole search ------------------------------------------------------------------------------


def test_final_runs_train_the_full_budget_on_validation_only(finished: tuple[Path, Path, list[str]]) -> None:
    _, folder, parts = finished
    assert parts == [VALID]  # the search built one evaluator, on validation; test was never scored
    run = load_search_run(folder)
    assert all(r.result.epochs <= 1 for r in run.records)  # screening: search.trial_budget
    assert {r.training["max_epochs"] for r in run.final_runs} == {3}  # the final stage: training:
    entries = plan(run.records, run.file, run.file.search, run.objectives)
    assert len(run.final_runs) == len(entries) * 2 and any(e.seed_point == "lightgcn" for e in entries)
    assert {(r.record.candidate.seed, r.record.candidate.stage) for r in run.final_runs} == {
        (1, "final"),
        (2, "final"),
    }
    # the winner is the entry with the best logged mean of validation ndcg@5
    means = {}
    for r in run.final_runs:
        means.setdefault(r.record.candidate.genotype, []).append(r.record.result.values[0])
    best = max(means, key=lambda genotype: sum(means[genotype]) / len(means[genotype]))
    exported = yaml.safe_load((folder / "best.yaml").read_text())
    assert json.loads(exported_genotype(folder / "best.yaml")) == list(best)
    assert exported["search_result"]["final"]["mean"] == pytest.approx(sum(means[best]) / 2)


def exported_genotype(path: Path) -> str:
    line = next(line for line in path.read_text().splitlines() if line.startswith("# genotype: "))
    return line.removeprefix("# genotype: ")


def test_export_gives_the_final_winner_with_the_full_budget_and_train_reproduces_it(
    finished: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    _, run, _ = finished
    out = tmp_path / "best.yaml"
    result = runner.invoke(app, ["export", str(run), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_train_spec(out) == load_train_spec(run / "best.yaml")
    config = yaml.safe_load(out.read_text())
    assert config["training"]["max_epochs"] == 3 and config["search_result"]["stage"] == "final"
    searched = load_search_run(run)
    won = winner(searched.final())
    assert won is not None and won.main is not None
    assert exported_genotype(out) == json.dumps(list(won.entry.genotype))
    command = ["train", str(out), "--out", str(tmp_path / "t"), "--name", "b", "--device", "cpu"]
    trained = runner.invoke(app, command)
    assert trained.exit_code == 0, trained.output
    metrics = json.loads((tmp_path / "t" / "b" / "metrics.json").read_text())
    assert metrics["valid"]["ndcg@5"] == pytest.approx(won.main.record.result.metrics["ndcg@5"], abs=1e-6)
    report = runner.invoke(app, ["report", str(run), "--format", "md"])
    assert report.exit_code == 0, report.output
    assert "Final stage" in (run / "report" / "report.md").read_text()


def test_top_k_0_keeps_the_screening_best(tmp_path: Path) -> None:
    config = write(tmp_path, final_config(tmp_path, final={"top_k": 0}))
    result = search(str(config), "--out", str(tmp_path / "runs"), "--name", "off")
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "off"
    assert not (run / "final.jsonl").exists() and not (run / "final.csv").exists()
    searched = load_search_run(run)
    best = leaderboard(searched.records, searched.objectives)[0]
    exported = yaml.safe_load((run / "best.yaml").read_text())
    assert (
        exported["search_result"]["trial"] == best.candidate.trial
        and "stage" not in exported["search_result"]
    )
    assert exported["search_result"]["budget"] == {"max_epochs": 1}  # screened short, exported full
    assert exported["training"]["max_epochs"] == 3


def test_bad_final_settings_are_one_line_errors(tmp_path: Path) -> None:
    for search_settings, key in (
        ({"final": {"top_k": -1}}, "search.final.top_k"),
        ({"trial_budget": {"max_epoch": 5}}, "search.trial_budget.max_epoch"),
    ):
        config = write(tmp_path, final_config(tmp_path, **search_settings))
        result = search(str(config), "--out", str(tmp_path / "runs"))
        assert result.exit_code == 2 and key in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_killed_in_the_final_stage_resumes_without_redoing_finished_runs(
    finished: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    config, whole, _ = finished
    run = tmp_path / "runs" / "killed"
    command = [sys.executable, "-c", "from gnas.cli import main; main()", "search", str(config)]
    command += ["--out", str(run.parent), "--name", run.name, "--device", "cpu"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = run / "final.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and len(log.read_bytes().splitlines()) >= 2:
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the search ended before it could be killed"
    before = log.read_bytes().splitlines()
    total = len((whole / "final.jsonl").read_bytes().splitlines())
    assert 2 <= len(before) < total, "killed outside the final stage"

    result = search("--resume", str(run))
    assert result.exit_code == 0, result.output
    after = log.read_bytes().splitlines()
    assert after[: len(before)] == before and len(after) == total  # finished runs were not redone
    assert lines(run / "trials.jsonl") == lines(whole / "trials.jsonl")  # no screening trial again
    assert lines(log) == lines(whole / "final.jsonl")
    assert exported_genotype(run / "best.yaml") == exported_genotype(whole / "best.yaml")

"""Baselines beside a search: fitted once on the search's split (validation only), kept in the run folder,
shown with a plain verdict in the summary and the report; bad or too-large baselines are one line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

import gnas.baselines.fit as baseline_fit
import gnas.baselines.memory as baseline_memory
from gnas.cli import app
from gnas.report.baselines import baseline_verdict
from gnas.report.build import build_report
from gnas.search.baselines import BASELINES_FILE, BaselineScore, read_baselines
from gnas.search.objectives import Objectives
from gnas.search.resume import resume
from gnas.search.run import search
from gnas.search.settings import SearchSettings
from gnas.space import parse_search_file
from gnas.train import prepare_graph

runner = CliRunner()


def settings(**overrides: Any) -> SearchSettings:
    base = {
        "controller": "random",
        "max_trials": 2,
        "objectives": [{"metric": "ndcg@5"}],
        "final": {"top_k": 0},
    }
    return SearchSettings.model_validate({**base, **overrides})


def write(folder: Path, **search: Any) -> Path:
    config = tiny_search_config(folder)
    config["search"] = {**config["search"], "max_trials": 2, "final": {"top_k": 0}, **search}
    path = folder / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def fitted_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every fit_and_score call's name and test flag."""
    calls: list[dict[str, Any]] = []
    real = baseline_fit.fit_and_score

    def recording(name: str, grid: Any, split: Any, training: Any, device: Any = "cpu", **kw: Any) -> Any:
        calls.append({"name": name, "test": kw.get("test", False)})
        return real(name, grid, split, training, device, **kw)

    monkeypatch.setattr(baseline_fit, "fit_and_score", recording)
    return calls


def test_a_search_fits_the_default_baselines_on_validation_only(
    tmp_path: Path, fitted_calls: list[dict[str, Any]]
) -> None:
    file = parse_search_file(tiny_search_config(tmp_path), "tiny.yaml")
    outcome = search(file, settings(), out=tmp_path / "runs", device="cpu", executor="inline")
    assert [c["name"] for c in fitted_calls] == ["popularity", "itemknn", "ease"]
    assert not any(c["test"] for c in fitted_calls)
    stored = read_baselines(outcome.run_dir)
    assert stored is not None
    scores, skipped = stored
    assert [s.model for s in scores] == ["popularity", "itemknn", "ease"] and skipped == []
    assert scores[2].params["l2"] in (100, 250, 500, 1000)
    split, _ = prepare_graph(file.dataset, file.split)
    again = baseline_fit.fit_and_score(
        "ease", {"l2": [100, 250, 500, 1000]}, split, outcome_training(outcome)
    )
    assert scores[2].valid == pytest.approx(again.valid)
    assert (outcome.run_dir / "baselines.csv").read_text().startswith("baseline,")


def outcome_training(outcome: Any) -> Any:
    from gnas.search.runfolder import spec_search_file

    return spec_search_file(outcome.run_dir).training


def test_a_resumed_search_reads_its_baselines_back(
    tmp_path: Path, fitted_calls: list[dict[str, Any]]
) -> None:
    file = parse_search_file(tiny_search_config(tmp_path), "tiny.yaml")
    outcome = search(file, settings(), out=tmp_path / "runs", device="cpu", executor="inline")
    before = (outcome.run_dir / BASELINES_FILE).read_text()
    fitted_calls.clear()
    resumed = resume(outcome.run_dir, max_trials=3, device="cpu", executor="inline")
    assert fitted_calls == []
    assert (outcome.run_dir / BASELINES_FILE).read_text() == before
    assert [s.model for s in resumed.baselines] == ["popularity", "itemknn", "ease"]


def test_named_baselines_and_an_empty_list(tmp_path: Path, fitted_calls: list[dict[str, Any]]) -> None:
    file = parse_search_file(tiny_search_config(tmp_path), "tiny.yaml")
    named = settings(baselines=["popularity", {"model": "itemknn", "grid": {"k": [5, 10]}}])
    outcome = search(file, named, out=tmp_path / "runs", device="cpu", executor="inline", name="named")
    assert [s.model for s in outcome.baselines] == ["popularity", "itemknn"]
    assert outcome.baselines[1].params["k"] in (5, 10)
    fitted_calls.clear()
    none = search(
        file, settings(baselines=[]), out=tmp_path / "runs", device="cpu", executor="inline", name="no"
    )
    assert fitted_calls == [] and none.baselines == []


def test_the_summary_says_plainly_when_a_baseline_wins(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = runner.invoke(app, ["search", str(write(tmp_path)), "--out", str(out), "--executor", "inline"])
    assert result.exit_code == 0, result.output
    assert "baselines on the same split" in result.output
    (run,) = list(out.iterdir())
    scores, _ = read_baselines(run) or ([], [])
    strongest = max(s.valid["ndcg@5"] for s in scores)
    best = max(json.loads(line)["values"][0] for line in (run / "trials.jsonl").read_text().splitlines())
    said = " ".join(result.output.split())
    if best > strongest:
        assert "beats the strongest baseline" in said
    else:
        assert "no searched model beats the strongest baseline on validation" in said
    page = build_report([run]).page.read_text()
    assert "Baselines" in page and "ease (l2" in page


def test_the_verdict_either_way(tmp_path: Path) -> None:
    file = parse_search_file(tiny_search_config(tmp_path), "tiny.yaml")
    outcome = search(file, settings(baselines=[]), out=tmp_path / "runs", device="cpu", executor="inline")
    assert outcome.best is not None
    value = outcome.best.result.values[0]
    objectives = Objectives.from_specs(settings().objectives)
    weak = [BaselineScore("popularity", {}, {"ndcg@5": value / 2}, 0.1)]
    strong = [*weak, BaselineScore("ease", {"l2": 250.0}, {"ndcg@5": value * 2}, 0.1)]
    (line,) = baseline_verdict(weak, [], outcome.best, objectives)
    assert line.startswith("the searched winner") and "popularity" in line and "+100.0%" in line
    (line,) = baseline_verdict(strong, [], outcome.best, objectives)
    assert line.startswith("no searched model beats") and "ease (l2 250)" in line and "-50.0%" in line
    assert "closed-form" not in line
    assert baseline_verdict([], [], outcome.best, objectives) == []
    mixed = dataclasses.replace(outcome.best, architecture={"branch": "ease", "branch_mix": 0.7})
    (line,) = baseline_verdict(weak, [], mixed, objectives)
    assert line.endswith("; its ranking mixes in a closed-form ease branch at weight 0.7")


def test_a_named_baseline_that_does_not_fit_is_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baseline_memory, "available_memory", lambda device: 1000)
    out = tmp_path / "runs"
    path = write(tmp_path, baselines=["ease"])
    result = runner.invoke(app, ["search", str(path), "--out", str(out), "--executor", "inline"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "search.baselines" in lines[0] and "ease" in lines[0], result.output
    assert not out.exists() or not any(out.iterdir())


def test_a_default_baseline_that_does_not_fit_is_left_out_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(baseline_memory, "available_memory", lambda device: 1000)
    file = parse_search_file(tiny_search_config(tmp_path), "tiny.yaml")
    outcome = search(file, settings(), out=tmp_path / "runs", device="cpu", executor="inline")
    left_out = {note.split()[0] for note in outcome.baselines_skipped}
    assert "ease" in left_out and "ease" not in {s.model for s in outcome.baselines}


def test_an_unknown_baseline_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = runner.invoke(app, ["search", str(write(tmp_path, baselines=["nope"])), "--out", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "search.baselines" in lines[0] and "nope" in lines[0], result.output
    assert not out.exists()


def test_resuming_a_run_from_before_the_final_stage_and_baselines_adds_neither(
    tmp_path: Path, fitted_calls: list[dict[str, Any]]
) -> None:
    file = parse_search_file(tiny_search_config(tmp_path), "tiny.yaml")
    outcome = search(file, settings(baselines=[]), out=tmp_path / "runs", device="cpu", executor="inline")
    spec_path = outcome.run_dir / "spec.yaml"
    spec = yaml.safe_load(spec_path.read_text())
    del spec["search"]["final"], spec["search"]["baselines"]  # as a spec.yaml written before them
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    (outcome.run_dir / BASELINES_FILE).unlink()
    resumed = resume(outcome.run_dir, max_trials=3, device="cpu", executor="inline")
    assert resumed.stop_reason == "max_trials" and resumed.final == [] and resumed.baselines == []
    assert fitted_calls == [] and not (outcome.run_dir / "final.jsonl").exists()

"""Every run's trials in an Optuna storage (study.db) that Optuna reads back; TensorBoard curves."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from conftest import tiny_search_config

from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.optuna import study_url
from gnas.search.mirror import frozen_trial
from gnas.search.run import SearchOutcome, search
from gnas.search.runlog import TrialRecord, read_trials
from gnas.search.settings import SearchSettings
from gnas.space import SearchSpace, parse_search_file, parse_space

HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None
TWO_OBJECTIVES = [{"metric": "ndcg@5"}, {"metric": "params", "direction": "minimize"}]


def run_search(folder: Path, **overrides: Any) -> SearchOutcome:
    config = tiny_search_config(folder)
    config["space"]["layers"] = {"conv": ["lightgcn", "gat"], "heads": {"type": "choice", "values": [1, 2]}}
    file = parse_search_file(config, "tiny.yaml")
    settings = SearchSettings.model_validate(
        {"controller": "random", "max_trials": 4, "objectives": TWO_OBJECTIVES, **overrides}
    )
    return search(file, settings, out=folder / "runs", device="cpu", tensorboard=HAS_TENSORBOARD)


@pytest.fixture(scope="module")
def random_run(tmp_path_factory: pytest.TempPathFactory) -> SearchOutcome:
    return run_search(tmp_path_factory.mktemp("mirror"))


def test_study_matches_trials_jsonl(random_run: SearchOutcome) -> None:
    run = random_run.run_dir
    study = optuna.load_study(study_name=run.name, storage=study_url(run))
    assert study.metric_names == ["ndcg@5", "params"]
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    lines = read_trials(run)
    trials = study.get_trials()
    assert len(trials) == len(lines) >= 4
    keys = run_space(run).keys()
    for trial, line in zip(trials, lines, strict=True):
        assert trial.user_attrs["gnas_trial"] == line["trial"]
        assert trial.user_attrs["status"] == line["status"]
        assert trial.user_attrs.get("cached_from") == line["cached_from"]
        if line["status"] == "ok":
            assert trial.state == optuna.trial.TrialState.COMPLETE
            assert trial.values == pytest.approx(line["values"])
        else:
            assert trial.state == optuna.trial.TrialState.FAIL
        assert trial.intermediate_values == {epoch: pytest.approx(v) for epoch, v in line["curve"]}
        genes = dict(zip(keys, line["genotype"], strict=True))
        assert trial.params and all(genes[name] == value for name, value in trial.params.items())
        assert "layers[0].conv" in trial.params and trial.params["num_layers"] == genes["num_layers"]
    best = {t.number for t in study.best_trials}
    assert best and all(trials[n].state == optuna.trial.TrialState.COMPLETE for n in best)


def run_space(run: Path) -> SearchSpace:
    return parse_space(yaml.safe_load((run / "spec.yaml").read_text())["space"])


def test_failed_and_pruned_records_keep_their_state(random_run: SearchOutcome) -> None:
    space = run_space(random_run.run_dir)
    record = random_run.records[0]
    failed = TrialRecord(Candidate(99, record.candidate.genotype), TrialResult("failed", error="boom"), {})
    frozen = frozen_trial(failed, space)
    assert frozen.state == optuna.trial.TrialState.FAIL and frozen.user_attrs["error"] == "boom"
    pruned = TrialRecord(record.candidate, TrialResult("pruned", curve=((1, 0.1), (2, 0.05))), {})
    frozen = frozen_trial(pruned, space)
    assert frozen.state == optuna.trial.TrialState.PRUNED and frozen.intermediate_values == {1: 0.1, 2: 0.05}
    rung = Candidate(7, record.candidate.genotype, Budget(epochs=1))
    frozen = frozen_trial(TrialRecord(rung, TrialResult("ok", values=(0.2, 500.0)), {}), space)
    assert frozen.state == optuna.trial.TrialState.PRUNED and frozen.user_attrs["values"] == [0.2, 500.0]


def test_optuna_runs_are_recorded_once(tmp_path: Path) -> None:
    outcome = run_search(tmp_path, controller="optuna", max_trials=2)
    run = outcome.run_dir
    (summary,) = optuna.get_all_study_summaries(study_url(run))
    assert summary.study_name == run.name and summary.n_trials == len(read_trials(run)) == 2


@pytest.mark.skipif(not HAS_TENSORBOARD, reason="pip install 'gnas[tensorboard]'")
def test_tensorboard_curves_per_trial(random_run: SearchOutcome) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    record = next(r for r in random_run.records if r.result.status == "ok")
    folder = random_run.run_dir / "tensorboard" / f"trial-{record.candidate.trial}"
    events = EventAccumulator(str(folder))
    events.Reload()
    assert {"train/loss", "valid/ndcg@5"} <= set(events.Tags()["scalars"])
    losses = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert losses == [(epoch, pytest.approx(loss)) for epoch, loss in record.result.loss]
    assert [e.step for e in events.Scalars("valid/ndcg@5")] == [epoch for epoch, _ in record.result.curve]


def test_tensorboard_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from typer.testing import CliRunner

    from gnas.cli import app

    config = tiny_search_config(tmp_path)
    config["search"]["max_trials"] = 1
    path = tmp_path / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    args = ["search", str(path), "--out", str(tmp_path / "runs"), "--device", "cpu", "--tensorboard"]
    if HAS_TENSORBOARD:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        (run,) = (tmp_path / "runs").iterdir()
        assert list((run / "tensorboard" / "trial-0").glob("events.out.tfevents.*"))
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a)
    )
    result = CliRunner().invoke(app, [*args, "--name", "without"])
    assert result.exit_code == 2 and "pip install 'gnas[tensorboard]'" in result.output, result.output
    assert not (tmp_path / "runs" / "without").exists()

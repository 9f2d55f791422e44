"""Trials on Ray workers: the same results as in process, in parallel; a worker killed with SIGKILL, a
trial that raises and one over trial_timeout each cost only their own trial; worker settings.

The Ray tests share one local Ray session (starting one costs seconds); the rest need no Ray.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import tiny_search_config
from ray_trials import ListController, Shared, place, synthetic_trial
from typer.testing import CliRunner

from gnas.cli import app
from gnas.errors import GnasError
from gnas.execution.ray import RayExecutor, slot_count, trial_gpus
from gnas.execution.settings import WorkerSettings
from gnas.search.driver import drive
from gnas.search.executors import executor_name
from gnas.search.objectives import Objectives
from gnas.search.run import search
from gnas.search.settings import ObjectiveSpec, SearchSettings
from gnas.space import load_search_file, parse_search_file, sample_distinct

TESTS = Path(__file__).resolve().parent
QUICK = load_search_file(TESTS.parent / "search_spaces" / "quickstart.yaml").space
NDCG = Objectives.from_specs([ObjectiveSpec(metric="ndcg@20")])


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    """One local Ray instance with 2 CPUs for this module; workers import the tests' helpers."""
    ray = pytest.importorskip("ray")
    temp = tempfile.mkdtemp(prefix="gnas-ray-", dir="/tmp")
    ray.init(
        num_cpus=2,
        num_gpus=0,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}},
        _temp_dir=temp,
    )
    yield
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def shared(tmp_path: Path, **behaviour: str) -> Shared:
    return Shared(QUICK, NDCG, tmp_path, {int(trial): what for trial, what in behaviour.items()})


def controller(count: int) -> ListController:
    return ListController(QUICK, NDCG, sample_distinct(QUICK, 7, count))


# --- without Ray ----------------------------------------------------------------------------------


def test_worker_settings_are_validated_with_the_key_named(tmp_path: Path) -> None:
    config = tiny_search_config(tmp_path, workers={"cpus_per_trial": 2, "trial_timeout": "20m"})
    workers = parse_search_file(config, "tiny.yaml").workers
    assert workers.trial_timeout == 1200 and workers.max_retries == 1 and workers.gpus_per_trial is None
    for bad, key in [
        ({"cpus_per_trial": 0}, "workers.cpus_per_trial"),
        ({"gpus_per_trial": 1.5}, "workers.gpus_per_trial"),
        ({"trial_timeout": "soon"}, "workers.trial_timeout"),
        ({"max_retries": -1}, "workers.max_retries"),
        ({"cpu": 1}, "workers.cpu"),
    ]:
        with pytest.raises(GnasError, match=key):
            parse_search_file(tiny_search_config(tmp_path, workers=bad), "tiny.yaml")


def test_slots_follow_the_resources() -> None:
    cpu_only = {"CPU": 2.0}
    assert slot_count(cpu_only, WorkerSettings(), 0.0) == 2
    assert slot_count(cpu_only, WorkerSettings(cpus_per_trial=0.5, max_concurrent=3), 0.0) == 3
    with pytest.raises(GnasError, match="workers.cpus_per_trial"):
        slot_count(cpu_only, WorkerSettings(cpus_per_trial=4), 0.0)
    gpus = {"CPU": 16.0, "GPU": 1.0}
    assert trial_gpus(WorkerSettings(), 1.0, "auto") == 0.25
    assert slot_count(gpus, WorkerSettings(), 0.25) == 4  # four trials share the GPU
    assert trial_gpus(WorkerSettings(), 0.0, "auto") == 0.0
    with pytest.raises(GnasError, match="workers.gpus_per_trial"):
        trial_gpus(WorkerSettings(gpus_per_trial=0.5), 0.0, "auto")
    with pytest.raises(GnasError, match="--device cuda"):
        trial_gpus(WorkerSettings(gpus_per_trial=0), 1.0, "cuda")
    assert trial_gpus(WorkerSettings(), 1.0, "cpu") == 0.0


def test_unknown_executor_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(GnasError, match="--executor"):
        executor_name("dask")
    path = tmp_path / "search.yaml"
    import yaml

    path.write_text(yaml.safe_dump(tiny_search_config(tmp_path)))
    result = CliRunner().invoke(app, ["search", str(path), "--executor", "dask", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--executor" in result.output


# --- on Ray ---------------------------------------------------------------------------------------


def test_search_on_ray_gives_the_inline_results(ray_session: None, tmp_path: Path) -> None:
    file = parse_search_file(tiny_search_config(tmp_path), "tiny.yaml")
    settings = SearchSettings.model_validate(
        {"controller": "random", "max_trials": 4, "objectives": [{"metric": "ndcg@5"}]}
    )
    inline = search(file, settings, out=tmp_path / "inline", device="cpu", executor="inline")
    remote = search(file, settings, out=tmp_path / "ray", device="cpu", executor="ray")

    def by_trial(outcome: Any) -> dict[int, Any]:
        return {r.candidate.trial: r for r in outcome.records}

    inline_records, ray_records = by_trial(inline), by_trial(remote)
    assert inline_records.keys() == ray_records.keys()
    for trial, record in inline_records.items():
        other = ray_records[trial]
        assert other.candidate == record.candidate
        assert other.result.status == record.result.status == "ok", other.result.error
        assert other.result.values == pytest.approx(record.result.values, abs=1e-6)
        assert other.result.epochs == record.result.epochs
        assert record.result.worker is None and other.result.worker is not None
    fresh = [r for r in ray_records.values() if r.cached_from is None]
    assert len({r.result.worker for r in fresh}) == 2  # both workers trained
    assert '"worker": ' in (remote.run_dir / "trials.jsonl").read_text()


def test_trials_run_in_parallel_and_a_killed_worker_costs_only_its_trial(
    ray_session: None, tmp_path: Path
) -> None:
    # trial 3's worker is killed once (retried: ok), trial 4's every time (failed), trial 5 raises
    behaviour = shared(tmp_path, **{"3": "die_once", "4": "die", "5": "raise"})
    executor = RayExecutor(behaviour, synthetic_trial, place, WorkerSettings(max_retries=1), device="cpu")
    control = controller(7)
    try:
        assert executor.slots == 2 and len(set(executor.workers)) == 2
        state = drive(control, executor)
    finally:
        executor.shutdown()
    assert state.stop_reason == "controller finished" and sorted(control.told) == list(range(7))
    results = control.told
    assert all(results[t].status == "ok" and results[t].values for t in (0, 1, 2, 6))
    assert results[3].status == "ok" and results[3].retries == 1
    assert results[4].status == "failed" and results[4].retries == 1
    assert results[4].error is not None and results[4].error.startswith("worker died")
    assert results[5].status == "failed" and results[5].error == "RuntimeError: boom"
    assert results[5].retries == 0  # an error in the trial would come again: no retry
    # trials 0 and 1 started together on the two workers and ran at the same time
    first, second = (next(t for t in executor.timings if t.trial == trial) for trial in (0, 1))
    assert results[0].worker != results[1].worker
    assert max(first.started, second.started) < min(first.finished, second.finished)


def test_a_trial_over_trial_timeout_fails_and_the_search_goes_on(ray_session: None, tmp_path: Path) -> None:
    settings = WorkerSettings(max_concurrent=1, trial_timeout=2)
    executor = RayExecutor(shared(tmp_path, **{"0": "hang"}), synthetic_trial, place, settings, device="cpu")
    control = controller(2)
    try:
        drive(control, executor)
    finally:
        executor.shutdown()
    assert control.told[0].status == "failed"
    assert control.told[0].error is not None and control.told[0].error.startswith("trial_timeout")
    assert control.told[1].status == "ok", control.told[1].error  # on a fresh worker

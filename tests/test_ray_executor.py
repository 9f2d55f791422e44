"""Trials on Ray workers: the same results as in process, in parallel; a worker killed with SIGKILL, a
trial that raises and one over trial_timeout each cost only their own trial; a worker that cannot
start, a dead prune broker, a failed Ray start; worker settings.

Most Ray tests share one local Ray session (starting one costs seconds); one starts its own Ray
instances (as a search does) before that session starts; the rest need no Ray.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import tiny_search_config
from ray_trials import Shared, place, synthetic_trial
from typer.testing import CliRunner

from gnas.cli import app
from gnas.errors import GnasError
from gnas.execution.ray import RayExecutor, slot_count, trial_gpus
from gnas.execution.ray_session import RaySession
from gnas.execution.settings import WorkerSettings
from gnas.search.controllers.fixed import FixedListController
from gnas.search.driver import drive
from gnas.search.executors import executor_name
from gnas.search.objectives import Objectives
from gnas.search.run import search
from gnas.search.settings import ObjectiveSpec, SearchSettings
from gnas.space import load_search_file, parse_search_file, sample_distinct

TESTS = Path(__file__).resolve().parent
QUICK = load_search_file(TESTS.parent / "bench" / "spaces" / "quickstart504.yaml").space
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


def shared(tmp_path: Path, starts: int | None = None, **behaviour: str) -> Shared:
    what = {int(trial): what for trial, what in behaviour.items()}
    return Shared(QUICK, NDCG, tmp_path, what, starts=starts)


def controller(count: int) -> FixedListController:
    return FixedListController(QUICK, NDCG, sample_distinct(QUICK, 7, count))


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


def test_device_settings_no_cluster_can_run_are_refused_before_ray_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_ray(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Ray was started")

    monkeypatch.setattr(RaySession, "open", no_ray)
    for settings, device, message in [
        (
            WorkerSettings(gpus_per_trial=0.5),
            "cpu",
            "workers.gpus_per_trial: 0.5 GPUs per trial, but --device cpu",
        ),
        (WorkerSettings(), "cuda:1", "--device cuda:1: Ray assigns each worker its GPU"),
    ]:
        with pytest.raises(GnasError, match=message):
            RayExecutor(shared(tmp_path), synthetic_trial, place, settings, device=device)


def test_a_local_ray_that_fails_to_start_is_one_line_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ray = pytest.importorskip("ray")
    made: list[str] = []
    shutdowns: list[bool] = []

    def failing_init(**kwargs: Any) -> None:
        made.append(kwargs["_temp_dir"])
        raise RuntimeError("no room for the raylet\nmore detail")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", failing_init)
    monkeypatch.setattr(ray, "shutdown", lambda: shutdowns.append(True))
    with pytest.raises(GnasError) as error:
        RaySession.open(device="cpu")
    assert str(error.value).startswith(
        "--executor ray: cannot start a local Ray instance (RuntimeError: no room"
    )
    assert "\n" not in str(error.value)
    assert shutdowns and made and not Path(made[0]).exists()


def test_each_ray_session_of_a_run_keeps_its_logs_and_a_failure_after_start_stops_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resumed search starts a second Ray session on the same run folder; the second here fails
    after Ray started (a setting the cluster cannot meet) and must stop Ray and remove its folder."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("needs to start Ray itself; another test's Ray session is running")
    made: list[Path] = []
    mkdtemp = tempfile.mkdtemp

    def recorded_mkdtemp(**kwargs: Any) -> str:
        made.append(Path(mkdtemp(**kwargs)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", recorded_mkdtemp)
    logs = tmp_path / "run" / "ray"
    RaySession.open(device="cpu", logs=logs).close()
    too_big = WorkerSettings(cpus_per_trial=10_000)
    with pytest.raises(GnasError, match="workers.cpus_per_trial"):
        RayExecutor(shared(tmp_path), synthetic_trial, place, too_big, device="cpu", logs=logs)
    assert not ray.is_initialized()
    assert len(made) == 2 and not any(folder.exists() for folder in made)
    sessions = sorted(logs.iterdir())
    assert len(sessions) == 2 and all(s.is_dir() and not s.is_symlink() for s in sessions), sessions
    assert all(s.name.startswith("session_") and any(s.iterdir()) for s in sessions)


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
    # trials 0 and 1 each wait until the other runs too (they fail if not run in parallel); trial 3's
    # worker is killed once (retried: ok), trial 4's every time (failed), trial 5 raises
    what = {"0": "barrier", "1": "barrier", "3": "die_once", "4": "die", "5": "raise"}
    behaviour = shared(tmp_path, **what)
    executor = RayExecutor(behaviour, synthetic_trial, place, WorkerSettings(max_retries=1), device="cpu")
    control = controller(7)
    try:
        assert executor.slots == 2 and len(set(executor.workers)) == 2
        state = drive(control, executor)
    finally:
        executor.shutdown()
    assert state.stop_reason == "controller finished" and sorted(control.told) == list(range(7))
    results = control.told
    assert all(results[t].status == "ok" and results[t].values for t in (0, 1, 2, 6)), results
    assert results[3].status == "ok" and results[3].retries == 1
    assert results[4].status == "failed" and results[4].retries == 1
    assert results[4].error is not None and results[4].error.startswith("worker died")
    assert results[5].status == "failed" and results[5].error == "RuntimeError: boom"
    assert results[5].retries == 0  # an error in the trial would come again: no retry
    assert results[0].worker != results[1].worker  # trials 0 and 1 ran at the same time


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


def test_a_worker_that_cannot_start_is_retried_then_its_slot_retired(
    ray_session: None, tmp_path: Path
) -> None:
    # one worker starts; trial 0 kills it and every later start fails in place(): after max_retries + 1
    # failed starts the slot is retired and, with none left, the search fails naming the cause
    settings = WorkerSettings(max_concurrent=1, max_retries=1)
    executor = RayExecutor(
        shared(tmp_path, starts=1, **{"0": "die"}), synthetic_trial, place, settings, device="cpu"
    )
    try:
        executor.submit(controller(1).ask(1)[0])
        with pytest.raises(GnasError) as error:
            executor.next_result()
    finally:
        executor.shutdown()
    message = str(error.value)
    assert message.startswith("workers: no Ray worker could start") and "\n" not in message
    assert message.endswith("failed to start 2 times: RuntimeError: CUDA out of memory (a test's place)")
    assert len(list(tmp_path.glob("placed-*"))) == 3
    with pytest.raises(GnasError, match=r"failed to start: RuntimeError: CUDA out of memory"):
        RayExecutor(
            shared(tmp_path, starts=0), synthetic_trial, place, settings.model_copy(update={"max_retries": 0})
        )


def test_a_dead_prune_broker_means_no_pruning(
    ray_session: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ray = pytest.importorskip("ray")
    from ray.exceptions import RayActorError

    behaviour = shared(tmp_path, **{"0": "prune", "1": "prune"})
    settings = WorkerSettings(max_concurrent=1)
    executor = RayExecutor(behaviour, synthetic_trial, place, settings, device="cpu", prune=lambda *_: True)
    first, second = controller(2).ask(2)
    try:
        executor.submit(first)
        assert executor.next_result()[1].status == "pruned"
        broker = executor._broker
        ray.kill(broker)
        deadline = time.monotonic() + 60
        with pytest.raises(RayActorError):  # wait until Ray knows it is dead
            while time.monotonic() < deadline:
                ray.get(broker.questions.remote(), timeout=30)
                time.sleep(0.1)
        executor.submit(second)
        with caplog.at_level(logging.WARNING, logger="gnas.execution.ray"):
            result = executor.next_result()[1]
    finally:
        executor.shutdown()
    assert result.status == "ok", result.error
    warnings = [r.getMessage() for r in caplog.records if "pruning is off" in r.getMessage()]
    assert len(warnings) == 1, caplog.records

"""Losing Ray nodes under a search: the head node of a local instance (its raylet killed mid-search)
ends the search with one line, exit code 3, every finished trial kept and a run that resumes; a
non-head node leaving a cluster costs only the trials it ran, which go on on the head.

The two marked ``ray`` start their own Ray processes (a search's local instance, a two-node
cluster) on tiny data with one or two workers, and leave none of them behind; the others need no Ray:
the health probe on a closed port, and the search loop and CLI given an executor that loses its cluster.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from conftest import tiny_search_config
from ray_trials import Shared, place, synthetic_trial
from typer.testing import CliRunner

from gnas.cli import app
from gnas.cli.common import EXIT_WORKERS_LOST
from gnas.execution.base import WorkersLost
from gnas.execution.inline import InlineExecutor
from gnas.execution.ray import RayExecutor
from gnas.execution.ray_health import ClusterWatch, Endpoint
from gnas.execution.settings import WorkerSettings
from gnas.search.controllers.fixed import FixedListController
from gnas.search.driver import drive
from gnas.search.objectives import Objectives
from gnas.search.settings import ObjectiveSpec
from gnas.space import load_search_file, sample_distinct

TESTS = Path(__file__).resolve().parent
QUICK = load_search_file(TESTS.parent / "bench" / "spaces" / "quickstart504.yaml").space
NDCG = Objectives.from_specs([ObjectiveSpec(metric="ndcg@20")])
TRIALS = 6


def long_search(folder: Path) -> Path:
    """The tiny search on one Ray worker, with more trials (and distinct architectures: 156) than it
    gets to run before its node is killed and the loss is noticed, and no final stage."""
    config = tiny_search_config(folder, workers={"max_concurrent": 1, "max_retries": 1})
    config["space"].update(embedding_dim=[8, 16, 32, 64], num_layers={"type": "int", "low": 1, "high": 3})
    config["training"]["max_epochs"] = 10
    config["search"].update(max_trials=500, final={"top_k": 0})
    path = folder / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def logged(run: Path) -> list[str]:
    log = run / "trials.jsonl"
    return log.read_text().splitlines() if log.exists() else []


def trained(lines: list[str]) -> list[dict[str, Any]]:
    """The logged trials that trained (not a repeat told an earlier trial's result)."""
    return [record for record in map(json.loads, lines) if record["cached_from"] is None]


def end(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Kill what is still running of ``processes``; the ones that were still running."""
    alive = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                process.kill()
                alive.append(process)
    psutil.wait_procs(alive, timeout=10)
    return alive


@pytest.mark.ray
def test_a_search_whose_head_node_dies_ends_with_one_line_and_resumes(tmp_path: Path) -> None:
    config, run = long_search(tmp_path), tmp_path / "runs" / "lost"
    command = [sys.executable, "-c", "from gnas.cli import main; main()", "search", str(config)]
    command += ["--out", str(run.parent), "--name", run.name, "--device", "cpu", "--executor", "ray"]
    search = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ray_processes: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 150
        while len(logged(run)) < 2 and search.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert search.poll() is None and len(logged(run)) >= 2, "the search did not reach its second trial"
        ray_processes = psutil.Process(search.pid).children(recursive=True)
        raylet = next(process for process in ray_processes if process.name() == "raylet")
        (link,) = (run / "ray").iterdir()  # RUN/ray/<session> links to the session's logs while it runs
        temp_dir = link.resolve().parents[1]
        kept = logged(run)
        raylet.kill()
        killed = time.monotonic()
        out, err = search.communicate(timeout=90)
        seconds = time.monotonic() - killed
        print(f"the search ended {seconds:.1f} s after its raylet was killed")  # Ray alone: exit 1, later
    finally:
        if search.poll() is None:
            search.kill()
            search.wait()
        left = end(ray_processes)
    assert search.returncode == EXIT_WORKERS_LOST, (out[-2000:], err[-2000:])
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], err[-2000:]
    assert "the Ray cluster was lost" in errors[0] and "raylet" in errors[0], errors[0]
    assert errors[0].endswith(f"go on with: gnas search --resume {run}"), errors[0]
    assert "Traceback" not in err
    assert not left, [process.name() for process in left]  # the dead instance's processes were ended
    assert not temp_dir.exists()
    assert (run / "ray" / link.name).is_dir() and not (run / "ray" / link.name).is_symlink()
    after = logged(run)
    assert after[: len(kept)] == kept  # every trial finished before the kill is still logged
    assert f"{len(trained(after))} finished trial(s) are kept in {run / 'trials.jsonl'}" in errors[0]

    # resumed in process, with a budget two trials above what was done (lowering it keeps this short)
    budget = len(trained(after)) + 2
    flags = ["--device", "cpu", "--executor", "inline", "--max-trials", str(budget)]
    resumed = CliRunner().invoke(app, ["search", "--resume", str(run), *flags])
    assert resumed.exit_code == 0, resumed.output
    assert "stopped by max_trials" in resumed.output
    records = [json.loads(line) for line in logged(run)]
    assert logged(run)[: len(after)] == after
    assert sorted(record["trial"] for record in records) == list(range(len(records)))
    assert len(trained(logged(run))) == budget
    assert all(record["status"] == "ok" for record in records), [r.get("error") for r in records]
    assert (run / "best.yaml").exists()


@pytest.fixture
def two_nodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A head and a second node on 127.0.0.1 (one CPU each), this process connected to the head; the
    head counts a node dead after 5 missed health checks a second apart (Ray's default: 3 s apart)."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    temp = tempfile.mkdtemp(prefix="gnas-ray-", dir="/tmp")
    monkeypatch.setenv("RAY_TMPDIR", temp)
    health = {"health_check_period_ms": 1000, "health_check_failure_threshold": 5}
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "num_gpus": 0, "include_dashboard": False, "_system_config": health},
    )
    before = set(psutil.Process().children(recursive=True))
    try:
        cluster.add_node(num_cpus=1, num_gpus=0)
        ray.init(address=cluster.address, runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}})
        yield cluster
    finally:
        ours = [process for process in psutil.Process().children(recursive=True) if process not in before]
        ray.shutdown()
        cluster.shutdown()
        end(ours)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.ray
def test_a_node_that_leaves_the_cluster_costs_only_its_trials(
    two_nodes: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ray = pytest.importorskip("ray")
    cluster = two_nodes
    head = ray.get_runtime_context().get_node_id()
    (other,) = [node for node in cluster.worker_nodes if node.unique_id != head]
    behaviour = Shared(QUICK, NDCG, tmp_path, seconds=2.0)
    executor = RayExecutor(behaviour, synthetic_trial, place, WorkerSettings(max_retries=1))
    control = FixedListController(QUICK, NDCG, sample_distinct(QUICK, 3, TRIALS))
    removed: list[int] = []  # the trials finished when the node left

    def remove_the_other_node(*_: Any) -> None:
        if not removed:
            cluster.remove_node(other, allow_graceful=False)  # SIGKILL: as a crash, not a drain
            removed.append(len(control.told) + 1)

    try:
        assert executor.slots == 2
        with caplog.at_level(logging.WARNING, logger="gnas.execution.ray"):
            state = drive(control, executor, on_result=remove_the_other_node)
        slots = executor.slots
    finally:
        executor.shutdown()
    results = control.told
    assert state.stop_reason == "controller finished" and sorted(results) == list(range(TRIALS))
    assert all(result.status == "ok" and result.values for result in results.values()), results
    assert slots == 1  # the slot the lost node held was retired, not left waiting for room
    retired = [r.getMessage() for r in caplog.records if "slot(s) left" in r.getMessage()]
    assert retired == [
        "workers: a Ray worker lost its node: the cluster has room for 1 trial(s) now; 1 slot(s) left"
    ]
    assert any(result.retries == 1 for result in results.values())  # the one it was running went on
    nodes = [result.worker.split(" node ")[1].split()[0] for result in results.values() if result.worker]
    assert nodes.count(other.unique_id[:8]) <= removed[0]  # after it left, every trial ran on the head
    assert nodes.count(head[:8]) >= TRIALS - removed[0]


# --- without Ray ----------------------------------------------------------------------------------


def test_a_service_counts_as_gone_only_after_failed_probes_in_a_row() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        watch = ClusterWatch([Endpoint("the test's GCS", "127.0.0.1", port)], interval=0.0, strikes=3)
        assert watch.lost() is None and watch.lost(now=True) is None
    # the port is closed now: refused, as when the process behind it died
    assert watch.lost() is None and watch.lost() is None  # two strikes
    assert watch.lost() == f"the test's GCS at 127.0.0.1:{port} stopped answering"
    assert ClusterWatch([Endpoint("x", "127.0.0.1", port)], interval=0.0).lost(now=True) is not None
    assert ClusterWatch([]).lost(now=True) is None  # nothing known to probe: never lost


class LosesItsCluster(InlineExecutor):
    """Runs ``before`` trials in process, then the cluster is gone."""

    def __init__(self, trial: Any, before: int) -> None:
        super().__init__(trial)
        self.before = before

    def next_result(self) -> Any:
        if self.before == 0:
            raise WorkersLost("the Ray cluster was lost: the test's GCS stopped answering")
        self.before -= 1
        return super().next_result()


def test_a_lost_executor_keeps_the_run_and_says_how_to_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gnas.search.run as run_module

    build = run_module.build_executor

    def losing(name: str, context: Any, controller: Any, *args: Any, **kwargs: Any) -> Any:
        inline = build("inline", context, controller, *args, **kwargs)
        return LosesItsCluster(inline.trial, before=2)

    config = tiny_search_config(tmp_path)
    config["search"].update(max_trials=4, final={"top_k": 0})
    path = tmp_path / "search.yaml"
    path.write_text(yaml.safe_dump(config))
    run = tmp_path / "runs" / "lost"
    monkeypatch.setattr(run_module, "build_executor", losing)
    flags = ["--device", "cpu", "--executor", "inline"]
    result = CliRunner().invoke(
        app, ["search", str(path), "--out", str(run.parent), "--name", "lost", *flags]
    )
    assert result.exit_code == EXIT_WORKERS_LOST, result.output
    assert result.output.strip().splitlines()[-1].startswith("error: the Ray cluster was lost")
    assert f"the 2 finished trial(s) are kept in {run / 'trials.jsonl'}" in result.output
    assert len(trained(logged(run))) == 2
    monkeypatch.setattr(run_module, "build_executor", build)
    resumed = CliRunner().invoke(app, ["search", "--resume", str(run), *flags])
    assert resumed.exit_code == 0 and "stopped by max_trials" in resumed.output, resumed.output
    assert len(trained(logged(run))) == 4

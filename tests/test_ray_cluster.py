"""A search on a two-node Ray cluster on 127.0.0.1 (one CPU each): trials run on both nodes, none is lost."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_trials import Shared, place, synthetic_trial

from gnas.execution.ray import RayExecutor
from gnas.execution.settings import WorkerSettings
from gnas.search.controllers.fixed import FixedListController
from gnas.search.driver import drive
from gnas.search.objectives import Objectives
from gnas.search.settings import ObjectiveSpec
from gnas.space import load_search_file, sample_distinct

TESTS = Path(__file__).resolve().parent
QUICK = load_search_file(TESTS.parent / "bench" / "spaces" / "quickstart504.yaml").space
NDCG = Objectives.from_specs([ObjectiveSpec(metric="ndcg@20")])


@pytest.fixture
def two_nodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    temp = tempfile.mkdtemp(prefix="gnas-ray-", dir="/tmp")
    monkeypatch.setenv("RAY_TMPDIR", temp)  # the cluster's files (and its address file) stay in here
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "num_gpus": 0, "include_dashboard": False}
    )
    cluster.add_node(num_cpus=1, num_gpus=0)
    try:
        ray.init(address=cluster.address, runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}})
        yield
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def test_trials_run_on_both_nodes_and_every_result_comes_back(two_nodes: None, tmp_path: Path) -> None:
    executor = RayExecutor(Shared(QUICK, NDCG, tmp_path), synthetic_trial, place, WorkerSettings())
    control = FixedListController(QUICK, NDCG, sample_distinct(QUICK, 3, 6))
    try:
        assert executor.slots == 2  # one CPU per node, one CPU per trial
        state = drive(control, executor)
    finally:
        executor.shutdown()
    assert state.stop_reason == "controller finished"
    assert sorted(control.told) == list(range(6))
    assert all(result.status == "ok" and result.values for result in control.told.values())
    nodes = {result.worker.split(" node ")[1].split()[0] for result in control.told.values() if result.worker}
    assert len(nodes) == 2, [result.worker for result in control.told.values()]

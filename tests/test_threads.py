"""The thread policy (gnas/threads.py): its decision as a pure function, the flag's errors, the record."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

from gnas import threads
from gnas.cli import app
from gnas.errors import GnasError
from gnas.threads import SMALL_WORK, ThreadInputs, cgroup_quota, decide, parse_threads

runner = CliRunner()
BIG = SMALL_WORK * 4


@pytest.fixture(autouse=True)
def _restore_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in (threads.ENV, "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # restored after (--threads sets one)
        monkeypatch.setenv(key, "")
        monkeypatch.delenv(key)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("inputs", "expected", "source"),
    [
        (ThreadInputs(affinity=2, work=BIG), 2, "auto"),  # idle, big enough: every CPU
        (ThreadInputs(affinity=2, busy=0.1, work=BIG), 2, "auto"),  # a little noise keeps both
        (ThreadInputs(affinity=2, busy=1.0, work=BIG), 1, "auto"),  # one core taken: one thread
        (ThreadInputs(affinity=8, busy=3.2, work=BIG), 5, "auto"),  # the idle CPUs, rounded
        (ThreadInputs(affinity=4, busy=9.0, work=BIG), 1, "auto"),  # overloaded: never below one
        (ThreadInputs(affinity=2, work=SMALL_WORK - 1), 1, "auto"),  # a tiny graph: one thread
        (ThreadInputs(affinity=2, work=None), 2, "auto"),  # size not known yet
        (ThreadInputs(affinity=8, quota=1.5, work=BIG), 1, "auto"),  # cgroup quota below affinity
        (ThreadInputs(affinity=8, quota=4.0, work=BIG), 4, "auto"),
        (ThreadInputs(affinity=8, limit=2.0, work=BIG), 2, "auto"),  # a Ray worker's cpus_per_trial
        (ThreadInputs(affinity=8, limit=0.5, work=BIG), 1, "auto"),
        (ThreadInputs(requested=3, affinity=2, busy=2.0, work=10), 3, "requested"),  # the user wins
        (ThreadInputs(requested=4, affinity=8, limit=1.0), 1, "requested"),  # within the reservation
        (ThreadInputs(env={"OMP_NUM_THREADS": "3"}, affinity=2, busy=2.0), 3, "environment"),
        (ThreadInputs(env={"OMP_NUM_THREADS": "4,2"}, affinity=8), 4, "environment"),
        (ThreadInputs(env={"MKL_NUM_THREADS": "2"}, affinity=8), 2, "environment"),
        (ThreadInputs(requested=2, env={"OMP_NUM_THREADS": "5"}, affinity=8), 2, "requested"),
    ],
)
def test_decision(inputs: ThreadInputs, expected: int, source: str) -> None:
    decision = decide(inputs)
    assert (decision.intra_op, decision.inter_op, decision.source) == (expected, expected, source)
    assert decision.reason


def test_reason_says_why() -> None:
    assert "kept busy" in decide(ThreadInputs(affinity=2, busy=1.0, work=BIG)).reason
    assert f"< {SMALL_WORK}" in decide(ThreadInputs(affinity=2, work=10)).reason
    assert "cgroup quota 1.5" in decide(ThreadInputs(affinity=8, quota=1.5)).reason
    assert decide(ThreadInputs(env={"OMP_NUM_THREADS": "3"})).reason == "OMP_NUM_THREADS=3"


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "x", ""])
def test_bad_values_name_their_key(value: str) -> None:
    with pytest.raises(GnasError, match="^--threads: "):
        parse_threads(value, "--threads")
    with pytest.raises(GnasError, match="^OMP_NUM_THREADS: "):
        decide(ThreadInputs(env={"OMP_NUM_THREADS": value or ","}))


def test_parse() -> None:
    assert parse_threads("auto", "k") is None
    assert parse_threads(" AUTO ", "k") is None
    assert parse_threads("3", "k") == 3


def _cgroup(tmp_path: Path, membership: str, files: dict[str, str]) -> float | None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "self_cgroup").write_text(membership)
    return cgroup_quota(tmp_path, tmp_path / "self_cgroup")


def test_cgroup_v2_quota(tmp_path: Path) -> None:
    assert _cgroup(tmp_path, "0::/job\n", {"job/cpu.max": "150000 100000\n"}) == 1.5
    assert _cgroup(tmp_path / "b", "0::/job\n", {"job/cpu.max": "max 100000\n"}) is None


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    files = {"cpu,cpuacct/job/cpu.cfs_quota_us": "200000\n", "cpu,cpuacct/job/cpu.cfs_period_us": "100000\n"}
    assert _cgroup(tmp_path, "4:cpu,cpuacct:/job\n", files) == 2.0
    unlimited = {"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}
    assert _cgroup(tmp_path / "b", "1:cpu:/\n", unlimited) is None
    assert _cgroup(tmp_path / "c", "", {}) is None


def test_configure_applies_and_off_leaves_torch_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(threads.ENV, "2")
    assert threads.configure().intra_op == 2 == torch.get_num_threads()
    assert threads.current().source == "requested"
    monkeypatch.setenv(threads.ENV, "off")
    torch.set_num_threads(1)
    decision = threads.configure()
    assert (decision.intra_op, decision.source) == (1, "torch")
    torch.set_num_threads(2)
    assert threads.configure(limit=1.0).intra_op == 1  # a Ray worker keeps one thread per reserved CPU


def _train_file(tmp_path: Path) -> Path:
    config: dict[str, Any] = tiny_search_config(tmp_path)
    for key in ("space", "search"):
        config.pop(key)
    config["architecture"] = {"embedding_dim": 8, "num_layers": 1}
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("flag", "line"),
    [
        (["--threads", "two"], "--threads: 'two' is not a positive whole number"),
        (["--threads", "0"], "--threads: '0' is not"),
    ],
)
def test_bad_flag_is_one_line_exit_2_and_no_run(tmp_path: Path, flag: list[str], line: str) -> None:
    out = tmp_path / "runs"
    result = runner.invoke(app, [*flag, "train", str(_train_file(tmp_path)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert line in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_environment_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(_train_file(tmp_path)), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "OMP_NUM_THREADS: 'many'" in result.output
    assert not out.exists()


def test_train_records_the_decision_in_config_yaml(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(_train_file(tmp_path)), "--out", str(out), "--name", "auto"])
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((out / "auto" / "config.yaml").read_text())["threads"]
    assert (recorded["intra_op"], recorded["source"]) == (1, "auto")  # 300 interactions: a tiny graph
    assert f"< {SMALL_WORK}" in recorded["reason"] and "versions" in yaml.safe_load(
        (out / "auto" / "config.yaml").read_text()
    )
    result = runner.invoke(
        app, ["--threads", "2", "train", str(_train_file(tmp_path)), "--out", str(out), "--name", "two"]
    )
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((out / "two" / "config.yaml").read_text())["threads"]
    assert (recorded["intra_op"], recorded["source"]) == (2, "requested")


def test_search_records_the_decision_in_spec_yaml(tmp_path: Path) -> None:
    path = tmp_path / "search.yaml"
    config = tiny_search_config(tmp_path)
    config["search"]["max_trials"] = 1
    path.write_text(yaml.safe_dump(config))
    out = tmp_path / "runs"
    result = runner.invoke(
        app, ["--threads", "1", "search", str(path), "--out", str(out), "--name", "s", "--executor", "inline"]
    )
    assert result.exit_code == 0, result.output
    recorded = yaml.safe_load((out / "s" / "spec.yaml").read_text())["threads"]
    assert (recorded["intra_op"], recorded["source"]) == (1, "requested")

"""How many torch threads a gnas process uses, decided in one place for every entry point.

torch's intra-op pool takes every core by default, and its OpenMP threads spin while they wait for
each other. When another process keeps a core busy, each parallel step waits for the thread that
shares that core, many times per epoch: a 20-epoch LightGCN on a 2-core machine ran 12x slower beside
one busy process, against 1.5x with one thread. So the policy:

- the user's choice wins: ``gnas --threads N`` (or ``GNAS_THREADS``), else ``OMP_NUM_THREADS`` /
  ``MKL_NUM_THREADS``;
- otherwise one thread per CPU this process may use (affinity, cgroup v2 ``cpu.max`` or v1
  ``cpu.cfs_quota_us``) that other processes leave idle when it starts (``/proc/stat``), and one
  thread for a graph too small to gain from a second;
- OpenMP's wait policy is left as it is: ``OMP_WAIT_POLICY=PASSIVE`` (threads sleep instead of spinning)
  would soften load that arrives after the start, but it made the idle 2-thread run 1.2-1.6x slower
  (bench/threads.py, BENCHMARKS.md), so it is the user's to set.

``GNAS_THREADS=off`` leaves all of it to torch and OpenMP (today's defaults, for benchmarks).
:func:`decide` is a pure function of :class:`ThreadInputs`; :func:`configure` reads the machine,
applies the decision and keeps it, so that runs record it (:func:`current`) in their ``config.yaml``.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gnas.errors import GnasError

ENV = "GNAS_THREADS"
OFF = "off"
AUTO = "auto"
# Below this many training interactions one LightGCN epoch gains nothing from a second thread
# (bench/threads.py --crossover; see BENCHMARKS.md).
SMALL_WORK = 20_000
_SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class ThreadInputs:
    """What the decision depends on.

    ``requested``: ``--threads`` / ``GNAS_THREADS`` (``None``: auto); ``env``: the OpenMP/MKL variables;
    ``affinity``: CPUs the process may run on; ``quota``: the cgroup's CPUs (``None``: no quota);
    ``busy``: CPUs other processes kept busy at start (``None``: unknown); ``work``: training
    interactions (``None``: not known yet); ``limit``: CPUs reserved for this process (a Ray worker's
    ``cpus_per_trial``).
    """

    requested: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    affinity: int = 1
    quota: float | None = None
    busy: float | None = None
    work: int | None = None
    limit: float | None = None


@dataclass(frozen=True)
class ThreadDecision:
    """torch's intra-op and inter-op thread counts and why (``source``: requested, environment, auto)."""

    intra_op: int
    inter_op: int
    source: str
    reason: str
    wait_policy: str = ""

    def record(self) -> dict[str, Any]:
        """What a run's ``config.yaml`` keeps under ``threads``."""
        return asdict(self)


def parse_threads(value: str, key: str) -> int | None:
    """``auto`` -> ``None``; a positive whole number -> itself; anything else is a one-line error."""
    text = value.strip().lower()
    if text == AUTO:
        return None
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise GnasError(f"{key}: {value!r} is not a positive whole number of threads or 'auto'")


def _env_threads(env: Mapping[str, str]) -> tuple[str, int] | None:
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        value = env.get(key, "").strip()
        if value:
            first = value.split(",")[0]  # OpenMP allows a list for nested levels; the first is the outer
            if not first.isdigit() or int(first) < 1:
                raise GnasError(f"{key}: {value!r} is not a positive whole number of threads")
            return key, int(first)
    return None


def usable_cpus(inputs: ThreadInputs) -> int:
    """CPUs this process may use: its affinity, cut by the cgroup quota and the reserved ``limit``."""
    cpus = float(max(1, inputs.affinity))
    for cap in (inputs.quota, inputs.limit):
        if cap is not None:
            cpus = min(cpus, cap)
    return max(1, math.floor(cpus))


def decide(inputs: ThreadInputs) -> ThreadDecision:
    """The thread counts for ``inputs`` (pure: no clock, no files)."""
    cpus = usable_cpus(inputs)
    chosen = None
    if inputs.requested is not None:
        chosen = ("requested", inputs.requested, f"{ENV} / --threads {inputs.requested}")
    elif (from_env := _env_threads(inputs.env)) is not None:
        chosen = ("environment", from_env[1], f"{from_env[0]}={from_env[1]}")
    if chosen is not None:
        source, count, reason = chosen
        if inputs.limit is not None and count > cpus:
            count, reason = cpus, f"{reason}, cut to the {inputs.limit:g} CPU(s) reserved"
        return _decision(count, source, reason)
    where = f"{cpus} CPU(s) usable (affinity {inputs.affinity}"
    where += f", cgroup quota {inputs.quota:g}" if inputs.quota is not None else ", no cgroup quota"
    where += f", {inputs.limit:g} reserved)" if inputs.limit is not None else ")"
    if inputs.work is not None and inputs.work < SMALL_WORK and cpus > 1:
        return _decision(1, "auto", f"{where}; {inputs.work} interactions < {SMALL_WORK}: one thread")
    count = cpus
    if inputs.busy is not None and cpus > 1:
        count = max(1, min(cpus, math.floor(cpus - inputs.busy + 0.5)))
        where += f"; {inputs.busy:.1f} kept busy by other processes"
    return _decision(count, "auto", f"{where}: {count} thread(s)")


def _decision(count: int, source: str, reason: str) -> ThreadDecision:
    return ThreadDecision(intra_op=count, inter_op=count, source=source, reason=reason)


def wait_policy(environ: Mapping[str, str] = os.environ) -> str:
    """The OpenMP wait policy in force, as a run records it."""
    return environ.get("OMP_WAIT_POLICY", "unset (OpenMP default: spin, then sleep)")


def affinity_cpus() -> int:
    """CPUs the scheduler lets this process run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cgroup_quota(
    root: Path = Path("/sys/fs/cgroup"), membership: Path = Path("/proc/self/cgroup")
) -> float | None:
    """The CPUs this process's cgroup may use (v2 ``cpu.max``, else v1 ``cpu.cfs_quota_us``), or ``None``."""
    paths: dict[str, str] = {}
    try:
        for line in membership.read_text().splitlines():
            _, controllers, where = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = where.lstrip("/")
    except (OSError, ValueError):
        pass
    for path in (root / paths.get("", "") / "cpu.max", root / "cpu.max"):
        if path.is_file():
            quota, _, period = path.read_text().strip().partition(" ")
            return None if quota == "max" else int(quota) / int(period or 100_000)
    for folder in ("cpu", "cpu,cpuacct"):
        for path in (
            root / folder / paths.get("cpu", "") / "cpu.cfs_quota_us",
            root / folder / "cpu.cfs_quota_us",
        ):
            if path.is_file():
                quota_us = int(path.read_text())
                period_path = path.with_name("cpu.cfs_period_us")
                period_us = int(period_path.read_text()) if period_path.is_file() else 100_000
                return quota_us / period_us if quota_us > 0 else None
    return None


def _cpu_times() -> tuple[float, float] | None:
    """(busy, total) jiffies of the whole machine from ``/proc/stat``."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return float(sum(fields[:8]) - idle), float(sum(fields[:8]))


def busy_cpus(seconds: float = _SAMPLE_SECONDS) -> float | None:
    """CPUs other processes keep busy, sampled over ``seconds`` (this process's own use left out)."""
    start, own = _cpu_times(), time.process_time()
    if start is None:
        return None
    time.sleep(seconds)
    end, own = _cpu_times(), time.process_time() - own
    if end is None or end[1] <= start[1]:
        return None
    cpus = os.cpu_count() or 1
    share = (end[0] - start[0]) / (end[1] - start[1])
    return max(0.0, share * cpus - own / seconds)


_current: ThreadDecision | None = None


def read_inputs(work: int | None = None, limit: float | None = None) -> ThreadInputs:
    """This process's inputs: ``GNAS_THREADS``, the OpenMP variables, affinity, quota and current load."""
    requested = parse_threads(os.environ[ENV], ENV) if os.environ.get(ENV) else None
    env = {key: os.environ[key] for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS") if key in os.environ}
    base = ThreadInputs(requested, env, affinity_cpus(), cgroup_quota(), None, work, limit)
    if requested is None and not _env_threads(env) and usable_cpus(base) > 1:
        return ThreadInputs(requested, env, base.affinity, base.quota, busy_cpus(), work, limit)
    return base


def configure(work: int | None = None, limit: float | None = None) -> ThreadDecision:
    """Decide and apply torch's threads for this process; ``work``: training interactions, when known.

    With ``GNAS_THREADS=off`` torch keeps its own defaults (a Ray worker: one thread per reserved CPU).
    """
    global _current
    import torch

    if os.environ.get(ENV, "").strip().lower() == OFF:
        reason = f"{ENV}=off: torch's defaults"
        if limit is not None:  # as Ray workers did before this policy: one thread per reserved CPU
            torch.set_num_threads(max(1, int(limit)))
            reason = f"{ENV}=off: {limit:g} CPU(s) reserved"
        decision = ThreadDecision(torch.get_num_threads(), torch.get_num_interop_threads(), "torch", reason)
    else:
        decision = decide(read_inputs(work, limit))
        torch.set_num_threads(decision.intra_op)
        with contextlib.suppress(RuntimeError):  # settable once only, before any inter-op work
            torch.set_num_interop_threads(decision.inter_op)
        decision = ThreadDecision(
            torch.get_num_threads(), torch.get_num_interop_threads(), decision.source, decision.reason
        )
    _current = ThreadDecision(**{**asdict(decision), "wait_policy": wait_policy()})
    return _current


def current() -> ThreadDecision:
    """The decision in force (configured now if nothing configured it yet)."""
    return _current if _current is not None else configure()

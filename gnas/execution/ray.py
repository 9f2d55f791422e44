"""Trials on Ray workers: one actor per slot, each holding the shared trial data on its own device.

The shared data (a search's graph and validation evaluator) goes into Ray's object store once; each
actor reads it from there when it starts (and again only if Ray restarts it) and moves it to its
device, so nothing large travels with a trial. Actors rather than tasks because a GPU share is fixed
for an actor's life: CUDA sees the device Ray assigned when the actor started, and the graph stays
there. Ray schedules the actors by their resources (``cpus_per_trial``, fractional
``gpus_per_trial``), on any node; when one dies (or a trial outlives ``trial_timeout``) this executor
starts a fresh actor for the slot and decides what it means for the trial: re-run it (a dead worker,
up to ``max_retries``) or record it failed with the reason.

A node that leaves a cluster takes its workers with it: their trials are re-run (or failed) as for
any dead worker, on the nodes that remain, and the slots those no longer have room for are retired.
Losing the head node (its GCS) or the node this process is connected to ends every trial: the
executor notices within seconds (:mod:`gnas.execution.ray_health`) and raises
:class:`~gnas.execution.base.WorkersLost` rather than waiting for Ray to end this process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ray
import torch
from ray.exceptions import RayError, RayTaskError

from gnas.errors import GnasError
from gnas.execution.base import WorkersLost
from gnas.execution.ray_health import CHECK_SECONDS, ClusterWatch
from gnas.execution.ray_prune import RemotePruneCheck, start_broker
from gnas.execution.ray_session import RaySession
from gnas.execution.settings import DEFAULT_GPUS_PER_TRIAL, WorkerSettings
from gnas.runtime import tune_allocator
from gnas.search.candidate import Candidate, TrialResult
from gnas.threads import configure as configure_threads

PruneCheck = Callable[[Candidate, int, float], bool]
RemoteTrial = Callable[[Any, Candidate, "PruneCheck | None"], TrialResult]
Place = Callable[[Any, torch.device], Any]

_POLL_SECONDS = 0.02  # how often pruning questions are answered while trials run
# the last line of a Python traceback: the exception (e.g. "torch.OutOfMemoryError: CUDA out of memory")
_EXCEPTION_LINE = re.compile(r"(?:\w+\.)*\w*(?:Error|Exception|Exit|Interrupt)(?:: .*)?")

log = logging.getLogger(__name__)


class TrialWorker:
    """The Ray actor behind one slot: places the shared data on its device once, then runs trials."""

    def __init__(self, shared: Any, place: Place, trial: RemoteTrial, threads: float, prune: Any) -> None:
        tune_allocator()
        configure_threads(limit=threads)  # the policy, within the CPUs Ray reserved for this worker
        gpus = ray.get_gpu_ids()  # Ray set CUDA_VISIBLE_DEVICES to these, so the first is cuda:0
        self.device = torch.device("cuda:0" if gpus else "cpu")
        self.shared = place(shared, self.device)
        self.trial = trial
        self.prune = prune
        self.node = ray.get_runtime_context().get_node_id()
        self.name = f"{ray.util.get_node_ip_address()} node {self.node[:8]} pid {os.getpid()}"
        if gpus:
            self.name += f" gpu {','.join(str(gpu) for gpu in gpus)}"

    def ready(self) -> tuple[str, str]:
        """The worker's name and its node's id."""
        return self.name, self.node

    def run(self, candidate: Candidate) -> tuple[TrialResult, float, float]:
        """The trial's result (naming this worker) with its start and end times (``time.time()``)."""
        started = time.time()
        result = self.trial(self.shared, candidate, self.prune)
        return replace(result, worker=self.name), started, time.time()


@dataclass(frozen=True)
class Timing:
    """One trial's clock (``time.time()``): submitted by the driver, started and finished in the worker,
    handed back to the search loop. Overheads: ``started - submitted`` and ``returned - finished``."""

    trial: int
    submitted: float
    started: float
    finished: float
    returned: float


@dataclass
class _Job:
    candidate: Candidate
    slot: int = -1
    submitted: float = 0.0
    attempt: int = 0


def check_device(settings: WorkerSettings, device: str) -> None:
    """Refuse, before Ray starts, what no cluster could run: GPUs per trial with ``--device cpu``, and
    a GPU index (Ray gives each worker its GPU share; it appears there as ``cuda:0``)."""
    if device == "cpu" and settings.gpus_per_trial:
        raise GnasError(
            f"workers.gpus_per_trial: {settings.gpus_per_trial} GPUs per trial, but --device cpu was given"
        )
    try:
        parsed = torch.device(device) if device != "auto" else None
    except RuntimeError:  # not a device name: the device check names it
        parsed = None
    if parsed is not None and parsed.type == "cuda" and parsed.index is not None:
        raise GnasError(
            f"--device {device}: Ray assigns each worker its GPU, so none can be chosen by index; "
            "use --device cuda with workers.gpus_per_trial (CUDA_VISIBLE_DEVICES limits the GPUs Ray sees)"
        )


def trial_gpus(settings: WorkerSettings, cluster_gpus: float, device: str) -> float:
    """The GPU share each trial reserves: ``workers.gpus_per_trial``, or 0.25 when the cluster has GPUs."""
    check_device(settings, device)
    if device == "cpu":
        return 0.0
    wanted = settings.gpus_per_trial
    if wanted is None:
        wanted = DEFAULT_GPUS_PER_TRIAL if cluster_gpus > 0 else 0.0
    if wanted > 0 and cluster_gpus <= 0:
        raise GnasError(f"workers.gpus_per_trial: {wanted} GPUs per trial, but the Ray cluster has no GPU")
    if device.startswith("cuda") and wanted == 0:
        raise GnasError(f"--device {device}: the trials reserve no GPU; set workers.gpus_per_trial above 0")
    return wanted


def room(resources: dict[str, float], settings: WorkerSettings, gpus_per_trial: float) -> int:
    """How many trials the resources hold at once (CPUs and, when trials reserve them, GPUs)."""
    slots = math.floor(resources.get("CPU", 0.0) / settings.cpus_per_trial + 1e-9)
    if gpus_per_trial > 0:
        slots = min(slots, math.floor(resources.get("GPU", 0.0) / gpus_per_trial + 1e-9))
    return slots


def slot_count(resources: dict[str, float], settings: WorkerSettings, gpus_per_trial: float) -> int:
    """How many trials fit at once in the cluster's resources, at most ``workers.max_concurrent``."""
    cpus = resources.get("CPU", 0.0)
    if math.floor(cpus / settings.cpus_per_trial + 1e-9) < 1:
        raise GnasError(
            f"workers.cpus_per_trial: {settings.cpus_per_trial} CPUs per trial, "
            f"but the Ray cluster has {cpus:g}"
        )
    slots = room(resources, settings, gpus_per_trial)
    if settings.max_concurrent is not None:
        slots = min(slots, settings.max_concurrent)
    return max(slots, 1)


class RayExecutor:
    """Runs ``trial(shared, candidate, should_prune)`` on Ray actors, ``slots`` at a time.

    ``place(shared, device)`` moves the shared data to a worker's device. ``prune`` (the controller's
    ``should_prune``) is answered in this process for remote trials; None: trials are never pruned.
    Starts a local Ray instance (its logs kept under the folder ``logs``) unless Ray is connected or
    ``address`` names a cluster. ``timings`` records each trial's clock, for the overhead benchmark.

    A worker that fails to start (its ``place`` raised, CUDA ran out of memory, gnas is missing on its
    node) is started again up to ``max_retries`` times in a row, then its slot is retired; so is one
    that is not up within ``start_timeout`` seconds. With no slot left the search fails with the cause.
    """

    def __init__(
        self,
        shared: Any,
        trial: RemoteTrial,
        place: Place,
        settings: WorkerSettings,
        *,
        address: str | None = None,
        device: str = "auto",
        logs: Path | None = None,
        prune: PruneCheck | None = None,
        start_timeout: float = 600.0,
    ) -> None:
        check_device(settings, device)  # needs no Ray: refused before it starts
        self.settings = settings
        self.timings: list[Timing] = []
        self.slots = 0
        self.workers: list[str] = []  # the name of each slot's worker
        self._nodes: list[str] = []  # the id of each slot's worker's node
        self._prune = prune
        self._running: dict[Any, _Job] = {}  # run() of a started worker -> its trial
        self._booting: dict[int, Any] = {}  # slot -> ready() of a worker starting
        self._boot_due: dict[int, float] = {}  # slot -> when that worker should be up (else retired)
        self._held: dict[int, _Job] = {}  # slot -> the trial to re-run there once its new worker is up
        self._start_failures: dict[int, int] = {}  # slot -> failed starts in a row
        self._start_timeout = start_timeout
        self._queue: deque[_Job] = deque()
        self._idle: deque[int] = deque()
        self._retired: set[int] = set()
        self._closed = False
        self._lost: str | None = None  # why the cluster is gone, once it is
        self._next_fit = 0.0  # when to compare the slots with the cluster's resources again
        self._actors: list[Any] = []
        self._broker: Any = None
        self._session = RaySession.open(address, device=device, dashboard=settings.dashboard, logs=logs)
        self._watch = ClusterWatch([])
        try:
            self._watch = ClusterWatch.connected()
            resources = ray.cluster_resources()
            self.gpus_per_trial = trial_gpus(settings, resources.get("GPU", 0.0), device)
            slots = slot_count(resources, settings, self.gpus_per_trial)
            self._broker = start_broker() if prune is not None else None
            check = None if self._broker is None else RemotePruneCheck(self._broker)
            self._shared = ray.put(shared)  # once; actors read it from the object store
            threads = settings.cpus_per_trial
            self._worker_class = ray.remote(TrialWorker).options(
                num_cpus=settings.cpus_per_trial, num_gpus=self.gpus_per_trial
            )
            self._worker_args = (self._shared, place, trial, threads, check)
            self.slots, self._actors, self.workers = slots, [None] * slots, [""] * slots
            self._nodes = [""] * slots
            for slot in range(slots):
                self._boot(slot)
            self._wait_ready()
        except RayError as exc:
            self.shutdown()
            raise GnasError(f"workers: Ray failed while starting the workers: {_worker_error(exc)}") from None
        except BaseException:
            self.shutdown()
            raise

    def _wait_ready(self) -> None:
        """Wait until every slot's worker is up or retired."""
        while self._booting:
            wait = min(max(0.0, min(self._boot_due.values()) - time.time()), CHECK_SECONDS)
            ready, _ = ray.wait(list(self._booting.values()), num_returns=1, timeout=wait)
            if ready:
                self._booted(ready[0])
            else:
                self._check_cluster()
            self._retire_stalled_workers()

    def submit(self, candidate: Candidate) -> None:
        """Start the candidate on a free worker (or queue it until one frees up)."""
        job = _Job(candidate)
        if self._idle:
            self._start(job, self._idle.popleft())
        else:
            self._queue.append(job)

    def _start(self, job: _Job, slot: int) -> None:
        job.slot, job.submitted = slot, time.time()
        self._running[self._actors[slot].run.remote(job.candidate)] = job

    def next_result(self) -> tuple[Candidate, TrialResult]:
        """Block until a trial finishes, fails or times out; a trial whose worker died is re-run first
        (up to ``max_retries``) once a new worker is up."""
        if not (self._running or self._held or self._queue):
            raise RuntimeError("next_result() with no trial submitted")
        while True:
            self._check_cluster()  # also between results: a dead raylet's workers may go on a while
            waiting = [*self._running, *self._booting.values()]
            ready, _ = ray.wait(waiting, num_returns=1, timeout=self._wait_seconds())
            if ready and ready[0] in self._running:
                job = self._running.pop(ready[0])
                finished = self._collect(ready[0], job)
                if finished is not None:
                    return self._finish(job, *finished)
                continue
            if ready:
                self._booted(ready[0])
            self._fit_cluster_now_and_then()
            self._answer_prune_questions()
            self._retire_stalled_workers()
            expired = self._expired()
            if expired is not None:
                ref, job = expired
                del self._running[ref]
                self._replace_worker(job.slot)
                timeout = self.settings.trial_timeout
                error = f"trial_timeout: still running after {timeout:g} s; its worker was stopped"
                now = time.time()
                result = TrialResult("failed", seconds=now - job.submitted, error=error)
                return self._finish(job, result, job.submitted, now)

    def _collect(self, ref: Any, job: _Job) -> tuple[TrialResult, float, float] | None:
        """The finished trial's result, a failed result, or None when it will run again."""
        try:
            result, started, finished = ray.get(ref)
            return result, started, finished
        except RayTaskError as exc:  # the trial code raised: it would raise again, so no retry
            cause = exc.cause if exc.cause is not None else exc
            error = f"{type(cause).__name__}: {_first_line(cause)}"
        except RayError as exc:  # the worker process died (crash, SIGKILL, out of memory) or its node left
            self._check_cluster(now=True)  # the whole cluster, rather: nothing to re-run it on
            gone = self._node_gone(self._nodes[job.slot])
            retry = job.attempt < self.settings.max_retries
            if retry:
                job.attempt += 1
                self._held[job.slot] = job  # re-run once the new worker is up
            self._replace_worker(job.slot)
            self._fit_cluster()
            if retry:
                return None
            where = f" with its node {self.workers[job.slot].split()[0]}" if gone else ""
            error = f"worker died{where} ({type(exc).__name__}): {_first_line(exc)}"
        now = time.time()
        return TrialResult("failed", seconds=now - job.submitted, error=error), job.submitted, now

    def _boot(self, slot: int) -> None:
        """Start a worker for the slot, wherever Ray finds room; the slot is busy until it is up."""
        self._actors[slot] = self._worker_class.remote(*self._worker_args)
        self._booting[slot] = self._actors[slot].ready.remote()
        self._boot_due[slot] = time.time() + self._start_timeout

    def _replace_worker(self, slot: int) -> None:
        """Stop the slot's worker (stuck or dead) and start a fresh one."""
        ray.kill(self._actors[slot])
        self._boot(slot)

    def _booted(self, ref: Any) -> None:
        """A worker is up (it takes the trial held for its slot, else the next queued one) or failed to
        start (it is started again, up to ``max_retries`` times in a row, else its slot is retired)."""
        slot = next(slot for slot, booting in self._booting.items() if booting == ref)
        del self._booting[slot], self._boot_due[slot]
        try:
            self.workers[slot], self._nodes[slot] = ray.get(ref)
        except RayError as exc:  # its __init__ raised (place(), CUDA OOM, gnas missing) or its node left
            self._check_cluster(now=True)
            failures = self._start_failures.get(slot, 0) + 1
            self._start_failures[slot] = failures
            if failures <= self.settings.max_retries:
                self._replace_worker(slot)
                self._fit_cluster()
            else:
                times = "" if failures == 1 else f" {failures} times"
                self._retire(slot, f"failed to start{times}: {_worker_error(exc)}")
            return
        self._session.track()  # the new worker's process, to end should the local instance die
        self._start_failures.pop(slot, None)
        held = self._held.pop(slot, None)
        if held is not None:
            self._start(held, slot)
        else:
            self._release(slot)

    def _retire_stalled_workers(self) -> None:
        """A worker that cannot start (its node left and no other has room) gives up its slot."""
        now = time.time()
        for slot in [slot for slot, due in self._boot_due.items() if now >= due]:
            self._retire(
                slot,
                f"did not start within {self._start_timeout:g} s "
                "(does the cluster have the CPUs/GPUs it reserves?)",
            )

    def _retire(self, slot: int, why: str, lost: bool = False) -> None:
        """Give up the slot; its held trial moves to another. The search fails when no slot is left
        (``lost``: because the nodes left, so the run can go on once the cluster is back)."""
        ray.kill(self._actors[slot])
        self._booting.pop(slot, None)
        self._boot_due.pop(slot, None)
        self._retired.add(slot)
        self.slots -= 1
        if slot in self._idle:
            self._idle.remove(slot)
        if self.slots == 0 and lost:
            self._lost = why
            raise WorkersLost(f"the Ray cluster was lost: the last Ray worker {why}")
        if self.slots == 0:
            raise GnasError(f"workers: no Ray worker could start; the last one {why}")
        log.warning("workers: a Ray worker %s; %d slot(s) left", why, self.slots)
        held = self._held.pop(slot, None)
        if held is not None:
            if self._idle:
                self._start(held, self._idle.popleft())
            else:
                self._queue.appendleft(held)

    def _release(self, slot: int) -> None:
        """The slot's worker is free: it takes the next queued trial (a slot still starting waits)."""
        if slot in self._booting or slot in self._retired:
            return
        if self._queue:
            self._start(self._queue.popleft(), slot)
        else:
            self._idle.append(slot)

    def _finish(
        self, job: _Job, result: TrialResult, started: float, finished: float
    ) -> tuple[Candidate, TrialResult]:
        self.timings.append(Timing(job.candidate.trial, job.submitted, started, finished, time.time()))
        if result.worker is None:
            result = replace(result, worker=self.workers[job.slot])
        if job.attempt:
            result = replace(result, retries=job.attempt)
        self._release(job.slot)
        return job.candidate, result

    def _check_cluster(self, now: bool = False) -> None:
        """Raise :class:`WorkersLost` once the head node or this process's node is gone (``now``:
        probe at once, and until it is clear, rather than at most once a second)."""
        reason = self._watch.lost(now=now)
        if reason is not None:
            self._lost = reason
            raise WorkersLost(f"the Ray cluster was lost: {reason}")

    def _fit_cluster(self) -> None:
        """When nodes left and the cluster no longer holds every slot's worker, the slots whose
        workers wait to start are retired (their trials go to the others) instead of waiting
        ``start_timeout`` for room that will not come."""
        if not self._booting:
            return
        try:
            fits = room(ray.cluster_resources(), self.settings, self.gpus_per_trial)
        except RayError:
            return
        for slot in list(self._booting)[: max(0, self.slots - fits)]:
            self._retire(slot, f"lost its node: the cluster has room for {fits} trial(s) now", lost=True)

    def _fit_cluster_now_and_then(self) -> None:
        """:meth:`_fit_cluster` at most once a second: Ray may count a node's resources out a little
        after its workers were reported dead."""
        if self._booting and time.monotonic() >= self._next_fit:
            self._next_fit = time.monotonic() + CHECK_SECONDS
            self._fit_cluster()

    def _node_gone(self, node: str) -> bool:
        """Whether Ray counts the node dead (a worker that died with its node, not alone)."""
        try:
            return any(entry["NodeID"] == node and not entry["Alive"] for entry in ray.nodes())
        except RayError:
            return False

    def _wait_seconds(self) -> float:
        """Until the next thing to do: a trial's timeout, a start's deadline, a prune question or the
        cluster's health check, whichever comes first."""
        now = time.time()
        waits = [CHECK_SECONDS]
        started = [job.submitted for job in self._running.values()]
        if self.settings.trial_timeout is not None and started:
            waits.append(min(started) + self.settings.trial_timeout - now)
        if self._boot_due:
            waits.append(min(self._boot_due.values()) - now)
        if self._broker is not None:
            waits.append(_POLL_SECONDS)
        return max(0.0, min(waits))

    def _expired(self) -> tuple[Any, _Job] | None:
        timeout = self.settings.trial_timeout
        if timeout is None:
            return None
        now = time.time()
        expired = ((ref, job) for ref, job in self._running.items() if now - job.submitted >= timeout)
        return next(expired, None)

    def _answer_prune_questions(self) -> None:
        if self._broker is None or self._prune is None:
            return
        try:
            questions = ray.get(self._broker.questions.remote())
        except RayError as exc:  # the broker died: trials go on unpruned (they get "no" when they ask)
            self._check_cluster(now=True)  # or the node it ran on, the head
            log.warning(
                "pruning is off for the rest of this search: its Ray actor died (%s)", _first_line(exc)
            )
            self._broker = None
            return
        running = {job.candidate.trial: job.candidate for job in self._running.values()}
        answers = [
            (trial, step, trial in running and self._prune(running[trial], step, value))
            for trial, step, value in questions
        ]
        if answers:
            self._broker.answer.remote(answers)

    def shutdown(self) -> None:
        """Stop the workers (cancelling what runs) and end the Ray session if this executor started it."""
        if self._closed:
            return
        self._closed = True
        for handle in [*self._actors, self._broker] if self._lost is None else []:  # a dead GCS would block
            if handle is not None:
                with contextlib.suppress(Exception):  # already dead, or Ray is going down
                    ray.kill(handle)
        self._running.clear()
        self._booting.clear()
        self._boot_due.clear()
        self._held.clear()
        self._queue.clear()
        self._session.close(lost=self._lost is not None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _worker_error(exc: BaseException) -> str:
    """The exception a worker raised (``RuntimeError: CUDA out of memory ...``), out of Ray's error whose
    text holds the worker's traceback; else the error's type and first line."""
    lines = str(exc).strip().splitlines()
    found = next((line for line in reversed(lines) if _EXCEPTION_LINE.fullmatch(line)), None)
    return found if found is not None else f"{type(exc).__name__}: {_first_line(exc)}"

"""Trials on Ray workers: one actor per slot, each holding the shared trial data on its own device.

The shared data (a search's graph and validation evaluator) goes into Ray's object store once; each
actor reads it from there when it starts (and again only if Ray restarts it) and moves it to its
device, so nothing large travels with a trial. Actors rather than tasks because a GPU share is fixed
for an actor's life: CUDA sees the device Ray assigned when the actor started, and the graph stays
there. Ray schedules the actors by their resources (``cpus_per_trial``, fractional
``gpus_per_trial``), on any node; when one dies (or a trial outlives ``trial_timeout``) this executor
starts a fresh actor for the slot and decides what it means for the trial: re-run it (a dead worker,
up to ``max_retries``) or record it failed with the reason.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import ray
import torch
from ray.exceptions import GetTimeoutError, RayError, RayTaskError

from gnas.errors import GnasError
from gnas.execution.ray_prune import RemotePruneCheck, start_broker
from gnas.execution.ray_session import RaySession
from gnas.execution.settings import DEFAULT_GPUS_PER_TRIAL, WorkerSettings
from gnas.runtime import tune_allocator
from gnas.search.base import Candidate, TrialResult

PruneCheck = Callable[[Candidate, int, float], bool]
RemoteTrial = Callable[[Any, Candidate, "PruneCheck | None"], TrialResult]
Place = Callable[[Any, torch.device], Any]

_POLL_SECONDS = 0.02  # how often pruning questions are answered while trials run


class TrialWorker:
    """The Ray actor behind one slot: places the shared data on its device once, then runs trials."""

    def __init__(self, shared: Any, place: Place, trial: RemoteTrial, threads: int, prune: Any) -> None:
        tune_allocator()
        torch.set_num_threads(threads)
        gpus = ray.get_gpu_ids()  # Ray set CUDA_VISIBLE_DEVICES to these, so the first is cuda:0
        self.device = torch.device("cuda:0" if gpus else "cpu")
        self.shared = place(shared, self.device)
        self.trial = trial
        self.prune = prune
        node = ray.get_runtime_context().get_node_id()[:8]
        self.name = f"{ray.util.get_node_ip_address()} node {node} pid {os.getpid()}"
        if gpus:
            self.name += f" gpu {','.join(str(gpu) for gpu in gpus)}"

    def ready(self) -> str:
        return self.name

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


def trial_gpus(settings: WorkerSettings, cluster_gpus: float, device: str) -> float:
    """The GPU share each trial reserves: ``workers.gpus_per_trial``, or 0.25 when the cluster has GPUs."""
    wanted = settings.gpus_per_trial
    if device == "cpu":
        if wanted:
            raise GnasError(f"workers.gpus_per_trial: {wanted} GPUs per trial, but --device cpu was given")
        return 0.0
    if wanted is None:
        wanted = DEFAULT_GPUS_PER_TRIAL if cluster_gpus > 0 else 0.0
    if wanted > 0 and cluster_gpus <= 0:
        raise GnasError(f"workers.gpus_per_trial: {wanted} GPUs per trial, but the Ray cluster has no GPU")
    if device.startswith("cuda") and wanted == 0:
        raise GnasError(f"--device {device}: the trials reserve no GPU; set workers.gpus_per_trial above 0")
    return wanted


def slot_count(resources: dict[str, float], settings: WorkerSettings, gpus_per_trial: float) -> int:
    """How many trials fit at once in the cluster's resources, at most ``workers.max_concurrent``."""
    cpus = resources.get("CPU", 0.0)
    slots = math.floor(cpus / settings.cpus_per_trial + 1e-9)
    if slots < 1:
        raise GnasError(
            f"workers.cpus_per_trial: {settings.cpus_per_trial} CPUs per trial, "
            f"but the Ray cluster has {cpus:g}"
        )
    if gpus_per_trial > 0:
        slots = min(slots, math.floor(resources.get("GPU", 0.0) / gpus_per_trial + 1e-9))
    if settings.max_concurrent is not None:
        slots = min(slots, settings.max_concurrent)
    return max(slots, 1)


class RayExecutor:
    """Runs ``trial(shared, candidate, should_prune)`` on Ray actors, ``slots`` at a time.

    ``place(shared, device)`` moves the shared data to a worker's device. ``prune`` (the controller's
    ``should_prune``) is answered in this process for remote trials; None: trials are never pruned.
    Starts a local Ray instance (logs linked at ``logs``) unless Ray is connected or ``address``
    names a cluster. ``timings`` records each trial's clock, for the overhead benchmark.
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
        self.settings = settings
        self.timings: list[Timing] = []
        self._prune = prune
        self._running: dict[Any, _Job] = {}
        self._booting: dict[int, Any] = {}  # slot -> ready() of a worker started in place of another
        self._boot_due: dict[int, float] = {}  # slot -> when that worker should be up (else retired)
        self._start_timeout = start_timeout
        self._queue: deque[_Job] = deque()
        self._closed = False
        self._session = RaySession.open(address, device=device, dashboard=settings.dashboard, logs=logs)
        self._actors: list[Any] = []
        self._broker: Any = None
        try:
            resources = ray.cluster_resources()
            self.gpus_per_trial = trial_gpus(settings, resources.get("GPU", 0.0), device)
            self.slots = slot_count(resources, settings, self.gpus_per_trial)
            self._broker = start_broker() if prune is not None else None
            check = None if self._broker is None else RemotePruneCheck(self._broker)
            self._shared = ray.put(shared)  # once; actors read it from the object store
            threads = max(1, int(settings.cpus_per_trial))
            self._worker_class = ray.remote(TrialWorker).options(
                num_cpus=settings.cpus_per_trial, num_gpus=self.gpus_per_trial
            )
            self._worker_args = (self._shared, place, trial, threads, check)
            self._actors = [self._new_worker() for _ in range(self.slots)]
            self.workers: list[str] = self._wait_ready(start_timeout)
        except BaseException:
            self.shutdown()
            raise
        self._idle: deque[int] = deque(range(self.slots))

    def _wait_ready(self, timeout: float) -> list[str]:
        try:
            return list(ray.get([actor.ready.remote() for actor in self._actors], timeout=timeout))
        except GetTimeoutError:
            raise GnasError(
                f"workers: {self.slots} Ray workers did not start within {timeout:.0f} s "
                "(does the cluster have the CPUs/GPUs they reserve?)"
            ) from None

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
        (up to ``max_retries``)."""
        if not self._running:
            raise RuntimeError("next_result() with no trial submitted")
        while True:
            waiting = [*self._running, *self._booting.values()]
            ready, _ = ray.wait(waiting, num_returns=1, timeout=self._wait_seconds())
            if ready and ready[0] not in self._running:
                self._booted(ready[0])
            elif ready:
                job = self._running.pop(ready[0])
                finished = self._collect(ready[0], job)
                if finished is not None:
                    return self._finish(job, *finished)
                continue
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
        """The finished trial's result, a failed result, or None when it was submitted again."""
        try:
            result, started, finished = ray.get(ref)
            return result, started, finished
        except RayTaskError as exc:  # the trial code raised: it would raise again, so no retry
            cause = exc.cause if exc.cause is not None else exc
            error = f"{type(cause).__name__}: {_first_line(cause)}"
        except RayError as exc:  # the worker process died (crash, SIGKILL, out of memory) or its node left
            self._replace_worker(job.slot)
            if job.attempt < self.settings.max_retries:
                job.attempt += 1
                self._start(job, job.slot)  # the call waits while Ray starts the new worker
                return None
            error = f"worker died ({type(exc).__name__}): {_first_line(exc)}"
        now = time.time()
        return TrialResult("failed", seconds=now - job.submitted, error=error), job.submitted, now

    def _new_worker(self) -> Any:
        return self._worker_class.remote(*self._worker_args)

    def _replace_worker(self, slot: int) -> None:
        """Stop the slot's worker (stuck or dead) and start a fresh one, wherever Ray finds room."""
        ray.kill(self._actors[slot])
        self._actors[slot] = self._new_worker()
        self._booting[slot] = self._actors[slot].ready.remote()
        self._boot_due[slot] = time.time() + self._start_timeout

    def _retire_stalled_workers(self) -> None:
        """A worker that cannot start again (its node left and no other has room) gives up its slot;
        its trial moves to another slot. The search fails only when no slot is left."""
        now = time.time()
        for slot in [slot for slot, due in self._boot_due.items() if now >= due]:
            ray.kill(self._actors[slot])
            del self._booting[slot], self._boot_due[slot]
            self.slots -= 1
            if slot in self._idle:
                self._idle.remove(slot)
            if self.slots == 0:
                raise GnasError(
                    f"workers: no Ray worker could start within {self._start_timeout:g} s "
                    "(the cluster lost the CPUs/GPUs they reserve)"
                )
            moved = [(ref, job) for ref, job in self._running.items() if job.slot == slot]
            for ref, job in moved:
                del self._running[ref]
                if self._idle:
                    self._start(job, self._idle.popleft())
                else:
                    self._queue.appendleft(job)

    def _booted(self, ref: Any) -> None:
        """A fresh worker is up: its trial's clock (for ``trial_timeout``) starts now."""
        slot = next(slot for slot, booting in self._booting.items() if booting == ref)
        del self._booting[slot], self._boot_due[slot]
        try:
            self.workers[slot] = ray.get(ref)
        except RayError:  # it died while starting (its node left?): try again elsewhere
            self._replace_worker(slot)
            return
        for job in self._running.values():
            if job.slot == slot:
                job.submitted = time.time()

    def _finish(
        self, job: _Job, result: TrialResult, started: float, finished: float
    ) -> tuple[Candidate, TrialResult]:
        self.timings.append(Timing(job.candidate.trial, job.submitted, started, finished, time.time()))
        if result.worker is None:
            result = replace(result, worker=self.workers[job.slot])
        if job.attempt:
            result = replace(result, retries=job.attempt)
        if self._queue:
            self._start(self._queue.popleft(), job.slot)
        else:
            self._idle.append(job.slot)
        return job.candidate, result

    def _wait_seconds(self) -> float | None:
        wait: float | None = None
        started = [job.submitted for job in self._running.values() if job.slot not in self._booting]
        if self.settings.trial_timeout is not None and started:
            wait = max(0.0, min(started) + self.settings.trial_timeout - time.time())
        if self._boot_due:
            boot = max(0.0, min(self._boot_due.values()) - time.time())
            wait = boot if wait is None else min(wait, boot)
        if self._broker is not None:
            wait = _POLL_SECONDS if wait is None else min(wait, _POLL_SECONDS)
        return wait

    def _expired(self) -> tuple[Any, _Job] | None:
        timeout = self.settings.trial_timeout
        if timeout is None:
            return None
        now = time.time()
        return next(
            (
                (ref, job)
                for ref, job in self._running.items()
                if job.slot not in self._booting and now - job.submitted >= timeout
            ),
            None,
        )

    def _answer_prune_questions(self) -> None:
        if self._broker is None or self._prune is None:
            return
        running = {job.candidate.trial: job.candidate for job in self._running.values()}
        answers = [
            (trial, step, trial in running and self._prune(running[trial], step, value))
            for trial, step, value in ray.get(self._broker.questions.remote())
        ]
        if answers:
            self._broker.answer.remote(answers)

    def shutdown(self) -> None:
        """Stop the workers (cancelling what runs) and end the Ray session if this executor started it."""
        if self._closed:
            return
        self._closed = True
        for handle in [*self._actors, *([self._broker] if self._broker is not None else [])]:
            ray.kill(handle)
        self._running.clear()
        self._booting.clear()
        self._boot_due.clear()
        self._queue.clear()
        self._session.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

"""Start a local Ray instance (or join a cluster) for a search, and keep its logs with the run.

Ray's Unix sockets live under its temporary folder, whose path must stay short (about 100 bytes), so
a local instance gets a fresh ``/tmp/gnas-ray-*`` folder; ``RUN/ray/<Ray session>`` links to its
logs while the search runs and becomes a copy of them when it ends (a resumed search adds a folder
beside the first). A failure after Ray started stops it and removes the folder. A Ray session that is
already connected (a notebook's, a test fixture's) is used as it is and left running.

A local instance whose head died under the search (its raylet or GCS killed, ``ray stop``) leaves
processes that would go on for a minute or more (workers still training, Ray's agents waiting for
the GCS): the session remembers the processes the instance started and ends them when it closes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import ray

from gnas.errors import GnasError


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_gpus(device: str) -> int:
    """GPUs a local Ray instance may hand out: none when the user asked for the CPU."""
    if device == "cpu":
        return 0
    import torch

    return torch.cuda.device_count()


@dataclass
class RaySession:
    """A connection to Ray; ``owned`` when this search started (or connected) it and must end it."""

    owned: bool
    temp_dir: Path | None = None
    log_link: Path | None = None
    processes: list[psutil.Process] = field(default_factory=list)  # a local instance's, see track()
    _earlier: set[int] = field(default_factory=set)  # this process's children from before Ray started

    @classmethod
    def open(
        cls,
        address: str | None = None,
        *,
        device: str = "auto",
        dashboard: bool = False,
        logs: Path | None = None,
    ) -> RaySession:
        """Connect to ``address`` (``auto`` or ``host:port``), or start a local instance sized to this
        machine with its logs linked at ``logs``."""
        if ray.is_initialized():
            return cls(owned=False)
        quiet = {"log_to_driver": False, "logging_level": logging.ERROR, "configure_logging": True}
        if address is not None:
            try:
                ray.init(address=address, **quiet)  # type: ignore[arg-type]
            except (ConnectionError, ValueError, RuntimeError) as exc:
                with contextlib.suppress(Exception):  # half connected
                    ray.shutdown()
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                message = f"--ray-address: cannot join the Ray cluster at {address!r}: {reason}"
                raise GnasError(message) from None
            return cls(owned=True)
        base = "/tmp" if Path("/tmp").is_dir() else None
        temp_dir = Path(tempfile.mkdtemp(prefix="gnas-ray-", dir=base))
        session = cls(owned=True, temp_dir=temp_dir, _earlier=_children())
        try:
            ray.init(
                num_cpus=usable_cpus(),
                num_gpus=local_gpus(device),
                include_dashboard=dashboard,
                _temp_dir=str(temp_dir),
                **quiet,  # type: ignore[arg-type]
            )
            if logs is not None:
                session.log_link = _link_logs(temp_dir, logs)
            session.track()
        except BaseException as exc:
            session.close()
            if not isinstance(exc, Exception):  # Ctrl-C
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GnasError(
                f"--executor ray: cannot start a local Ray instance ({type(exc).__name__}: {reason}); "
                "--executor inline runs the trials in this process"
            ) from None
        return session

    def track(self) -> None:
        """Remember the processes a local instance has started so far (Ray's services, the workers
        the raylet forked): while the instance is healthy they are this process's descendants; once
        its raylet is dead they are orphans no one could find."""
        if self.temp_dir is None:
            return
        known = {process.pid for process in self.processes} | self._earlier
        with contextlib.suppress(psutil.Error):
            children = psutil.Process().children(recursive=True)
            self.processes += [process for process in children if process.pid not in known]

    def close(self, lost: bool = False) -> None:
        """Disconnect (and stop a local instance); its logs are copied into the run folder. ``lost``:
        the instance died under the search, so what is left of its processes is ended too."""
        if not self.owned:
            return
        with contextlib.suppress(Exception):  # already down
            ray.shutdown()
        if lost:
            _end(self.processes)
        if self.log_link is not None and self.log_link.is_symlink():
            source = self.log_link.resolve()
            self.log_link.unlink()
            with contextlib.suppress(OSError, shutil.Error):  # logs help; they never fail a search
                shutil.copytree(source, self.log_link, symlinks=True, ignore_dangling_symlinks=True)
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def _end(processes: list[psutil.Process]) -> None:
    """SIGKILL those still running (``is_running`` also checks the start time: a reused pid is spared)."""
    killed = []
    for process in processes:
        with contextlib.suppress(psutil.Error):  # gone meanwhile
            if process.is_running():
                process.kill()
                killed.append(process)
    with contextlib.suppress(psutil.Error):
        psutil.wait_procs(killed, timeout=5)


def _children() -> set[int]:
    with contextlib.suppress(psutil.Error):
        return {process.pid for process in psutil.Process().children(recursive=True)}
    return set()


def _link_logs(temp_dir: Path, logs: Path) -> Path | None:
    """Link ``logs/<Ray session>`` to the session's logs; None (no link) when that fails, since logs
    never fail a search."""
    try:
        if logs.is_symlink():  # an older layout's link, left by a search that was killed
            logs.unlink()
        logs.mkdir(parents=True, exist_ok=True)
        session = (temp_dir / "session_latest").resolve()
        link = logs / session.name
        link.symlink_to(session / "logs", target_is_directory=True)
        return link
    except OSError as exc:
        logging.getLogger(__name__).warning("Ray's logs are not kept in %s: %s", logs, exc)
        return None

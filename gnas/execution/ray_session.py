"""Start a local Ray instance (or join a cluster) for a search, and keep its logs with the run.

Ray's Unix sockets live under its temporary folder, whose path must stay short (about 100 bytes), so
a local instance gets a fresh ``/tmp/gnas-ray-*`` folder; ``RUN/ray`` links to its logs while the
search runs and becomes a copy of them when it ends. A Ray session that is already connected (a
notebook's, a test fixture's) is used as it is and left running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                message = f"--ray-address: cannot join the Ray cluster at {address!r}: {reason}"
                raise GnasError(message) from None
            return cls(owned=True)
        base = "/tmp" if Path("/tmp").is_dir() else None
        temp_dir = Path(tempfile.mkdtemp(prefix="gnas-ray-", dir=base))
        ray.init(
            num_cpus=usable_cpus(),
            num_gpus=local_gpus(device),
            include_dashboard=dashboard,
            _temp_dir=str(temp_dir),
            **quiet,  # type: ignore[arg-type]
        )
        session = cls(owned=True, temp_dir=temp_dir)
        if logs is not None:
            logs.symlink_to(temp_dir / "session_latest" / "logs", target_is_directory=True)
            session.log_link = logs
        return session

    def close(self) -> None:
        """Disconnect (and stop a local instance); its logs are copied into the run folder."""
        if not self.owned:
            return
        ray.shutdown()
        if self.log_link is not None and self.log_link.is_symlink():
            source = self.log_link.resolve()
            self.log_link.unlink()
            with contextlib.suppress(OSError, shutil.Error):  # logs help; they never fail a search
                shutil.copytree(source, self.log_link, symlinks=True, ignore_dangling_symlinks=True)
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

"""A search run folder as a report sees it: the run (spec and finished trials) plus what is derived
once: the controller, how many trials are fresh, and a one-line error when there is nothing to show."""

from __future__ import annotations

import fcntl
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from gnas.errors import GnasError
from gnas.search.export import SearchRun, load_search_run
from gnas.search.runlog import TrialRecord


@dataclass(frozen=True)
class ReportRun:
    """One run: its folder name, controller, objectives and trial records (those finished so far)."""

    run: SearchRun

    @property
    def name(self) -> str:
        return self.run.path.name

    @property
    def path(self) -> Path:
        return self.run.path

    @property
    def controller(self) -> str:
        return self.run.file.search.controller

    @property
    def records(self) -> list[TrialRecord]:
        return self.run.records

    @property
    def fresh(self) -> list[TrialRecord]:
        """The trials that were trained (a cached trial repeats an earlier result and costs nothing)."""
        return [r for r in self.records if r.cached_from is None]

    @property
    def label(self) -> str:
        return f"{self.name} ({self.controller})"

    @property
    def running(self) -> bool:
        """Whether a search process holds the run folder now."""
        lock = self.path / ".lock"
        if not lock.is_file():
            return False
        with open(lock, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


def load_report_run(path: Path) -> ReportRun:
    """Read a search run folder, finished or still running; a folder that is not a search run, or
    one without a successful trial yet, is a one-line :class:`GnasError`."""
    if (path / "metrics.json").is_file() and not (path / "spec.yaml").is_file():
        raise GnasError(f"{path}: a `gnas train` run folder; `gnas report` takes a `gnas search` run folder")
    run = ReportRun(load_search_run(path))
    if not any(r.result.status == "ok" for r in run.records):
        if not run.records:
            raise GnasError(f"{path}: no trial has finished yet; nothing to report")
        reasons = Counter(r.result.error or r.result.status for r in run.records)
        reason, count = reasons.most_common(1)[0]
        raise GnasError(
            f"{path}: no trial finished ok ({len(run.records)} did not; most often {count}x: {reason})"
        )
    return run

"""A search's trial log, ``trials.jsonl``: one line per finished trial, appended, flushed and fsynced."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnas.errors import GnasError
from gnas.search.candidate import Candidate, TrialResult

TRIALS = "trials.jsonl"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial as written to ``trials.jsonl``; ``logged_at`` is the search's wall-clock
    seconds (time before a resume included) when it was logged."""

    candidate: Candidate
    result: TrialResult
    architecture: dict[str, Any]
    cached_from: int | None = None
    logged_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.candidate.to_json(),
            "architecture": self.architecture,
            **self.result.to_json(),
            "cached_from": self.cached_from,
            "logged_at": self.logged_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRecord:
        """The record of one ``trials.jsonl`` line (as :meth:`to_json` wrote it)."""
        candidate = Candidate.from_json(data)
        result = TrialResult.from_json({k: data[k] for k in TrialResult.__dataclass_fields__ if k in data})
        return cls(candidate, result, data["architecture"], data.get("cached_from"), data.get("logged_at"))


class RunLog:
    """Appends every finished trial before the controller hears of it, so a crash loses no result."""

    def __init__(self, path: Path, name: str = TRIALS) -> None:
        self.path = path
        self._trials = open(path / name, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def append(self, record: TrialRecord, **extra: Any) -> None:
        """Write the record (and ``extra`` keys on its line) and make it durable before returning."""
        self._trials.write(json.dumps({**record.to_json(), **extra}, sort_keys=True) + "\n")
        self._trials.flush()
        os.fsync(self._trials.fileno())

    def close(self) -> None:
        self._trials.close()


def read_trials(path: Path, name: str = TRIALS) -> list[dict[str, Any]]:
    """The trial records of a run folder (``name``: its trial log, or the final stage's). A last line
    cut short (a crash mid-write) is left out with a warning; a bad line before it is an error."""
    return _read_lines(path / name)[0]


def repair_trials(path: Path, name: str = TRIALS) -> None:
    """Cut a last line left short by a crash off the log ``name``, so that appending goes on after
    the last complete record."""
    _, good_bytes = _read_lines(path / name)
    with open(path / name, "r+b") as handle:
        if handle.seek(0, os.SEEK_END) != good_bytes:
            handle.truncate(good_bytes)
            handle.flush()
            os.fsync(handle.fileno())


def _read_lines(file: Path) -> tuple[list[dict[str, Any]], int]:
    """The records and the length in bytes of the complete lines that hold them."""
    data = file.read_bytes()
    records: list[dict[str, Any]] = []
    good_bytes = start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        line = data[start : len(data) if end < 0 else end]
        try:
            record = json.loads(line) if line.strip() else None
        except ValueError:
            if end >= 0 and data[end + 1 :].strip():
                raise GnasError(f"{file}: line {len(records) + 1} is not a trial record") from None
            record = None
            end = -1  # fall through to the truncated-tail warning
        if end < 0:
            if line.strip():
                log.warning("%s: dropped a last line cut short by a crash (that trial runs again)", file)
            break
        if record is not None:
            records.append(record)
        good_bytes = start = end + 1
    return records, good_bytes

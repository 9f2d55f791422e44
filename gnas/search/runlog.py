"""A search's run folder: the resolved spec, the trial log (append + flush + fsync) and the checkpoints."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnas.runs import write_json
from gnas.search.base import Candidate, TrialResult

TRIALS = "trials.jsonl"
CONTROLLER_STATE = "controller.json"


@dataclass(frozen=True)
class TrialRecord:
    """One finished trial as written to ``trials.jsonl``."""

    candidate: Candidate
    result: TrialResult
    architecture: dict[str, Any]
    cached_from: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.candidate.to_json(),
            "architecture": self.architecture,
            **self.result.to_json(),
            "cached_from": self.cached_from,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRecord:
        """The record of one ``trials.jsonl`` line (as :meth:`to_json` wrote it)."""
        candidate = Candidate.from_json(data)
        result = TrialResult.from_json({k: data[k] for k in TrialResult.__dataclass_fields__ if k in data})
        return cls(candidate, result, data["architecture"], data.get("cached_from"))


class RunLog:
    """Appends every finished trial before the controller hears of it, so a crash loses no result."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._trials = open(path / TRIALS, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def append(self, record: TrialRecord) -> None:
        self._trials.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
        self._trials.flush()
        os.fsync(self._trials.fileno())

    def checkpoint(self, controller_state: dict[str, Any]) -> None:
        write_json(self.path / CONTROLLER_STATE, controller_state)

    def close(self) -> None:
        self._trials.close()


def read_trials(path: Path) -> list[dict[str, Any]]:
    """The trial records of a run folder."""
    with open(path / TRIALS, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]

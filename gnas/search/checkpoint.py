"""The search's checkpoint: the controller's state, the search time spent so far and the global RNGs.

Written atomically after every ask and tell (``controller.json``), so a search killed at any point
resumes from its last ask or tell: the controller's in-flight candidates are asked again, and those
whose results reached ``trials.jsonl`` before the crash are told from there instead of retrained.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gnas.errors import GnasError
from gnas.runs import write_json
from gnas.search.controllers.base import rng_from_json, rng_to_json

FORMAT = 1
CONTROLLER_STATE = "controller.json"


def capture_rng() -> dict[str, Any]:
    """JSON-safe states of Python's, NumPy's and torch's global generators."""
    kind, keys, position, has_gauss, cached = np.random.get_state(legacy=True)
    return {
        "python": rng_to_json(random),
        "numpy": [kind, np.asarray(keys).tolist(), position, has_gauss, cached],
        "torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode("ascii"),
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Put Python's, NumPy's and torch's global generators back where :func:`capture_rng` found them."""
    rng_from_json(random, state["python"])
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
    raw = np.frombuffer(base64.b64decode(state["torch"]), dtype=np.uint8).copy()
    torch.set_rng_state(torch.from_numpy(raw))


@dataclass(frozen=True)
class Checkpoint:
    """The controller's JSON state, the search seconds spent and the global RNG states; ``stopped``
    is why the search loop ended, once it has (then only the final stage may be left to do)."""

    controller: dict[str, Any]
    elapsed: float
    rng: dict[str, Any]
    stopped: str = ""

    @classmethod
    def now(cls, controller: dict[str, Any], elapsed: float, stopped: str = "") -> Checkpoint:
        return cls(controller, elapsed, capture_rng(), stopped)

    def write(self, run_dir: Path) -> None:
        payload = {"format": FORMAT, "controller": self.controller, "elapsed": self.elapsed, "rng": self.rng}
        if self.stopped:
            payload["stopped"] = self.stopped
        write_json(run_dir / CONTROLLER_STATE, payload)


def load_checkpoint(run_dir: Path) -> Checkpoint:
    """The run's last checkpoint (one-line errors for a missing, foreign or damaged file)."""
    file = run_dir / CONTROLLER_STATE
    if not file.is_file():
        raise GnasError(f"{file}: missing (the search stopped before its first candidate was asked)")
    try:
        data = json.loads(file.read_text())
    except ValueError:
        raise GnasError(f"{file}: damaged (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise GnasError(f"{file}: checkpoint format {found!r}, this gnas reads format {FORMAT}")
    try:
        stopped = str(data.get("stopped", ""))
        return Checkpoint(dict(data["controller"]), float(data["elapsed"]), dict(data["rng"]), stopped)
    except (KeyError, TypeError, ValueError):
        raise GnasError(f"{file}: damaged (missing controller, elapsed or rng)") from None

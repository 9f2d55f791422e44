"""What Ray workers run in the Ray tests: synthetic trials that sleep, die, hang, raise, wait for each
other or ask to be pruned on request, and a ``place`` that can fail (a worker that cannot start)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthetic_search import synthetic_metrics

from gnas.search.candidate import Candidate, TrialResult
from gnas.search.objectives import Objectives
from gnas.space import SearchSpace, decode, sample

BARRIER_SECONDS = 120.0  # how long a "barrier" trial waits for the others before it fails


@dataclass(frozen=True)
class Shared:
    """The shared trial data of a test: the space, what trial ``n`` should do (``behaviour``) and how
    many workers may start (``starts``; None: any number), the later ones fail in ``place``."""

    space: SearchSpace
    objectives: Objectives
    markers: Path  # a folder for "died once already", "started" and "placed" marks
    behaviour: dict[int, str] = field(default_factory=dict)  # die_once | die | hang | raise | barrier | prune
    seconds: float = 0.5
    starts: int | None = None


def place(shared: Shared, device: Any) -> Shared:
    """Decode once when the worker starts: the first decode in a process costs seconds (imports)."""
    if shared.starts is not None:
        (shared.markers / f"placed-{uuid.uuid4().hex}").touch()
        if len(list(shared.markers.glob("placed-*"))) > shared.starts:
            raise RuntimeError("CUDA out of memory (a test's place)")
    decode(shared.space, sample(shared.space, 0))
    return shared


def synthetic_trial(shared: Shared, candidate: Candidate, prune: Any) -> TrialResult:
    what = shared.behaviour.get(candidate.trial)
    mark = shared.markers / f"died-{candidate.trial}"
    if what == "die" or (what == "die_once" and not mark.exists()):
        mark.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    if what == "hang":
        time.sleep(600)
    if what == "raise":
        raise RuntimeError("boom")
    if what == "barrier":  # every "barrier" trial must be running at once, else this one fails
        parties = sum(1 for behaviour in shared.behaviour.values() if behaviour == "barrier")
        (shared.markers / f"barrier-{candidate.trial}").touch()
        deadline = time.monotonic() + BARRIER_SECONDS
        while len(list(shared.markers.glob("barrier-*"))) < parties:
            if time.monotonic() > deadline:
                raise RuntimeError(f"barrier: the other trials did not start within {BARRIER_SECONDS:g} s")
            time.sleep(0.05)
    if what == "prune" and prune is not None and prune(candidate, 1, 0.5):
        return TrialResult("pruned", epochs=1)
    time.sleep(shared.seconds)
    metrics = synthetic_metrics(shared.space, candidate)
    return TrialResult("ok", metrics, shared.objectives.values(metrics), epochs=1, seconds=shared.seconds)

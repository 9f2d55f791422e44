"""The ask/tell contract between a search controller and the search loop (modelled on Optuna's samplers).

A controller proposes :class:`~gnas.search.candidate.Candidate` s (a canonical genotype of the space plus
the training budget to spend on it) and is told each one's
:class:`~gnas.search.candidate.TrialResult`. It never trains anything itself, and it never sees test
data: results carry validation metrics only. ``state_dict`` must be JSON-safe so that a search can be
checkpointed and resumed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Protocol

from gnas.search.candidate import Candidate, TrialResult
from gnas.search.objectives import Objectives
from gnas.space import SearchSpace


class PythonRandom(Protocol):
    """A ``random.Random``, or the ``random`` module itself (its global generator)."""

    def getstate(self) -> Any: ...
    def setstate(self, state: Any) -> None: ...


def rng_to_json(rng: PythonRandom) -> list[Any]:
    """A Python generator's state as JSON: ``[version, [internal...], gauss]``."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def rng_from_json(rng: PythonRandom, state: list[Any]) -> None:
    """Put ``rng`` back in the state :func:`rng_to_json` wrote."""
    version, internal, gauss = state
    rng.setstate((version, tuple(internal), gauss))


class Controller(ABC):
    """Proposes candidates and learns from their results.

    ``ask(n)`` returns at most ``n`` new candidates; it may return fewer (or none) while it waits for
    results it needs, e.g. the rest of a generation. ``finished`` is true when the controller has
    nothing more to propose (e.g. its last generation is done).
    """

    name: str = "controller"
    finished_reason: str = "controller finished"  # why the search stopped, once ``finished``

    def __init__(self, space: SearchSpace, objectives: Objectives, seed: int) -> None:
        self.space = space
        self.objectives = objectives
        self.seed = seed
        self.next_trial = 0

    def _new_trial(self) -> int:
        self.next_trial += 1
        return self.next_trial - 1

    @abstractmethod
    def ask(self, n: int) -> list[Candidate]: ...

    @abstractmethod
    def tell(self, candidate: Candidate, result: TrialResult) -> None: ...

    @property
    def finished(self) -> bool:
        return False

    def should_prune(self, candidate: Candidate, step: int, value: float) -> bool:
        """Called after each validation pass of a trial; True stops that trial early (default: never)."""
        return False

    def state_dict(self) -> dict[str, Any]:
        """JSON-safe state: enough, with the space and seed, to continue exactly where it stopped."""
        return {"next_trial": self.next_trial}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.next_trial = int(state["next_trial"])

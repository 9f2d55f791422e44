"""The ask/tell contract between a search controller and the search loop (modelled on Optuna's samplers).

A controller proposes :class:`Candidate` s (a canonical genotype of the space plus the training
budget to spend on it) and is told each one's :class:`TrialResult`. It never trains anything itself,
and it never sees test data: results carry validation metrics only. ``state_dict`` must be JSON-safe
so that a search can be checkpointed and resumed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from gnas.search.objectives import Objectives
from gnas.space import Genotype, SearchSpace

Status = Literal["ok", "failed", "pruned", "infeasible"]
Stage = Literal["search", "final"]


@dataclass(frozen=True)
class Budget:
    """How much training a trial may spend: epochs and/or wall-clock seconds (None: the training spec's)."""

    epochs: int | None = None
    seconds: float | None = None


@dataclass(frozen=True)
class Candidate:
    """One architecture to evaluate. ``trial`` numbers are unique within a search and increase.

    ``stage`` ``search``: a screening trial (the search's trial budget, the search's seed); ``final``: a
    final-stage run (numbered apart), trained at the full ``training:`` budget with its own ``seed``.
    """

    trial: int
    genotype: Genotype
    budget: Budget = Budget()
    origin: str = "sample"
    stage: Stage = "search"
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = {**asdict(self), "genotype": list(self.genotype)}
        if self.stage == "search" and self.seed is None:  # a screening trial's line stays as it was
            del data["stage"], data["seed"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Candidate:
        return cls(
            data["trial"],
            tuple(data["genotype"]),
            Budget(**data["budget"]),
            data["origin"],
            data.get("stage", "search"),
            data.get("seed"),
        )


@dataclass(frozen=True)
class TrialResult:
    """What evaluating a candidate gave.

    ``metrics`` holds the validation metrics at the best epoch plus ``params``, ``latency`` (seconds
    to score all users) and ``train_time``; ``values`` the objective values in objective order (empty
    unless ``status`` is ``ok``); ``curve`` ``(epoch, validation value of the primary metric)`` per
    evaluation; ``loss`` ``(epoch, mean training loss)`` per epoch. ``worker`` names where it ran
    (Ray node and process; None in process), ``device`` the kind of device it trained on (``cpu``,
    ``cuda``; CPU and CUDA runs give different numbers) and ``retries`` how often it was re-run after
    its worker died.
    """

    status: Status
    metrics: dict[str, float] = field(default_factory=dict)
    values: tuple[float, ...] = ()
    epochs: int = 0
    seconds: float = 0.0
    curve: tuple[tuple[int, float], ...] = ()
    error: str | None = None
    loss: tuple[tuple[int, float], ...] = ()
    worker: str | None = None
    retries: int = 0
    device: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "values": list(self.values),
            "curve": [list(point) for point in self.curve],
            "loss": [list(point) for point in self.loss],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialResult:
        return cls(
            **{
                **data,
                "values": tuple(data["values"]),
                "curve": epoch_points(data.get("curve", ())),
                "loss": epoch_points(data.get("loss", ())),
            }
        )


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


def epoch_points(points: Any) -> tuple[tuple[int, float], ...]:
    """``[[epoch, value], ...]`` as tuples; a bare list of values (older logs) counts epochs from 1."""
    return tuple(
        (int(p[0]), float(p[1])) if isinstance(p, list | tuple) else (i, float(p))
        for i, p in enumerate(points, start=1)
    )


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

"""What a search controller asks and is told: a :class:`Candidate` (a canonical genotype of the space plus
the training budget to spend on it) and its :class:`TrialResult`.

Controllers, the search loop, the run log and the executors all speak in these; results carry
validation metrics only, never test data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from gnas.space import Genotype

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


def epoch_points(points: Any) -> tuple[tuple[int, float], ...]:
    """``[[epoch, value], ...]`` as tuples; a bare list of values (older logs) counts epochs from 1."""
    return tuple(
        (int(p[0]), float(p[1])) if isinstance(p, list | tuple) else (i, float(p))
        for i, p in enumerate(points, start=1)
    )

"""Objective values and constraints of a trial, from its validation metrics and costs (never test)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gnas.search.settings import ConstraintsSpec, ObjectiveSpec


@dataclass(frozen=True)
class Objectives:
    """The objectives in order (the first is primary) and the constraints."""

    specs: tuple[ObjectiveSpec, ...]
    constraints: ConstraintsSpec = field(default_factory=ConstraintsSpec)

    @classmethod
    def from_specs(
        cls, specs: Sequence[ObjectiveSpec], constraints: ConstraintsSpec | None = None
    ) -> Objectives:
        return cls(tuple(specs), constraints or ConstraintsSpec())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.metric for spec in self.specs)

    @property
    def weights(self) -> tuple[float, ...]:
        """+1 to maximise, -1 to minimise (DEAP's fitness weights)."""
        return tuple(1.0 if spec.direction == "maximize" else -1.0 for spec in self.specs)

    @property
    def primary(self) -> ObjectiveSpec:
        return self.specs[0]

    def values(self, metrics: Mapping[str, float]) -> tuple[float, ...]:
        return tuple(float(metrics[name]) for name in self.names)

    def violation(self, metrics: Mapping[str, float]) -> str | None:
        """Why the metrics break a constraint, or None."""
        limits = {
            "params": self.constraints.max_params,
            "latency": self.constraints.max_latency,
            "train_time": self.constraints.max_train_time,
        }
        for name, limit in limits.items():
            if limit is not None and name in metrics and metrics[name] > limit:
                return f"{name} {metrics[name]:g} > max_{name} {limit:g}"
        return None

"""The cost of one operation in a forward pass: FLOPs and the floats it keeps alive.

Every conv and combination reports an :class:`OpCost` for a graph size, and :mod:`gnas.models.cost`
adds them up; counting in floats (not bytes) keeps the formulas readable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpCost:
    """``flops`` of one forward pass; ``saved`` floats kept for the backward pass; ``temp`` floats alive
    only while the operation runs (the largest one sets the transient peak)."""

    flops: float = 0.0
    saved: float = 0.0
    temp: float = 0.0

    def __add__(self, other: OpCost) -> OpCost:
        return OpCost(self.flops + other.flops, self.saved + other.saved, max(self.temp, other.temp))

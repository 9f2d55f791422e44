"""The final stage as rows and sentences: each candidate's screening value beside its full-budget mean
and sd over seeds, and which stage chose the winner and how it compares with the seed point. Plain
data, shared by ``final.csv``, the terminal summary of ``gnas search`` and ``gnas report``."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gnas.architecture import Architecture
from gnas.search.final import Standing, winner
from gnas.search.objectives import Objectives
from gnas.space import summarize


@dataclass(frozen=True)
class FinalRow:
    """One final-stage candidate: rank by mean, what it is, its screening value (None: a seed point the
    search did not train), the mean and sd of the primary objective over its ok seeds, and how many
    of the planned seeds finished ok."""

    rank: int
    candidate: str
    screening: float | None
    mean: float | None
    sd: float | None
    ok: int
    seeds: int
    architecture: str
    winner: bool

    def as_dict(self, objectives: Objectives) -> dict[str, Any]:
        primary = objectives.primary.metric
        return {
            "rank": self.rank,
            "candidate": self.candidate,
            f"screening {primary}": self.screening,
            f"final mean {primary}": self.mean,
            f"final sd {primary}": self.sd,
            "seeds ok": f"{self.ok}/{self.seeds}",
            "winner": self.winner,
            "architecture": self.architecture,
        }


def final_rows(table: Sequence[Standing]) -> list[FinalRow]:
    """The standings (as :func:`gnas.search.final.standings` orders them) as rows ranked from 1."""
    won = winner(table)
    rows = []
    for rank, standing in enumerate(table, start=1):
        run = standing.main or (standing.runs[0] if standing.runs else None)
        shown = "?"
        if run is not None:
            with contextlib.suppress(ValueError):
                shown = summarize(Architecture.model_validate(run.record.architecture))
        rows.append(
            FinalRow(
                rank,
                standing.entry.label,
                standing.entry.screening,
                standing.mean,
                standing.sd,
                len(standing.values),
                len(standing.seeds),
                shown,
                standing is won,
            )
        )
    return rows


def mean_sd(standing: Standing) -> str:
    """``0.1834 +- 0.0012 (3 seeds)``."""
    if standing.mean is None:
        return "no seed finished ok"
    return f"{standing.mean:.4f} +- {standing.sd or 0.0:.4f} ({len(standing.values)} seeds)"


def final_verdict(table: Sequence[Standing], objectives: Objectives, screening_best: int | None) -> list[str]:
    """What chose the winner and how it compares, on validation at the full budget, with the seed
    points (``screening_best``: the best screening trial's number)."""
    metric = objectives.primary.metric
    won = winner(table)
    if won is None:
        if table:
            return ["final stage: no candidate finished every seed ok; the winner is the screening best"]
        return []
    if won.entry.trial is not None and won.entry.trial == screening_best:
        chose = f"the final stage kept the screening best ({won.entry.label})"
    else:
        chose = f"the final stage chose {won.entry.label} over the screening best (trial {screening_best})"
    lines = [f"winner: {chose}; validation {metric} at the full budget {mean_sd(won)}"]
    for standing in table:
        point = standing.entry.seed_point
        if point is None or standing is won or standing.mean is None or won.mean is None:
            if point is not None and standing is won:
                lines.append(f"the winner is the {point} point itself")
            continue
        gain = (won.mean / standing.mean - 1) * 100 if standing.mean else float("nan")
        lines.append(
            f"{point} point at the full budget: {mean_sd(standing)}; winner {gain:+.1f}% on validation"
        )
    return lines

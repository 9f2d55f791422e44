"""Leaderboard rows: the best finished trials of a search, best primary objective first, with their
objective values, cost, a one-line architecture and, for the trials the final stage retrained, the
mean and sd of the primary objective over its seeds at the full budget. Plain data (no files, no
plotting, no matplotlib), so the search's ``leaderboard.csv``, its terminal table and the report can
share it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gnas.architecture import Architecture
from gnas.search.final import Standing
from gnas.search.objectives import Objectives
from gnas.search.ranking import leaderboard
from gnas.search.runlog import TrialRecord
from gnas.space import SearchSpace, decode, summarize


@dataclass(frozen=True)
class LeaderRow:
    """One ranked trial: its objective values (in the objectives' order), parameter count (None when
    not measured), epochs, training seconds and architecture in one line."""

    rank: int
    trial: int
    values: tuple[float, ...]
    params: float | None
    epochs: int
    seconds: float
    architecture: str
    final_mean: float | None = None  # the final stage's mean over seeds (None: not retrained there)
    final_sd: float | None = None

    def as_dict(self, objectives: Objectives) -> dict[str, Any]:
        """Column -> value: rank, trial, one column per objective (the screening values), params,
        epochs, seconds, the final stage's mean and sd of the primary objective, architecture
        (``params`` once, also when it is an objective)."""
        primary = objectives.primary.metric
        return {
            "rank": self.rank,
            "trial": self.trial,
            **dict(zip(objectives.names, self.values, strict=True)),
            "params": self.params,
            "epochs": self.epochs,
            "seconds": self.seconds,
            f"final mean {primary}": self.final_mean,
            f"final sd {primary}": self.final_sd,
            "architecture": self.architecture,
        }


def logged_architecture(record: TrialRecord) -> Architecture | None:
    """The trial's canonical architecture from its logged mapping; None if that does not parse."""
    try:
        return Architecture.model_validate(record.architecture).canonical()
    except ValueError:
        return None


def leaderboard_rows(
    records: Sequence[TrialRecord],
    objectives: Objectives,
    top: int | None = None,
    *,
    space: SearchSpace | None = None,
    final: Sequence[Standing] = (),
) -> list[LeaderRow]:
    """The ``top`` (None: all) best competing trials of ``records`` by the primary objective, ranked
    from 1, as :func:`gnas.search.ranking.leaderboard` orders them. ``space`` only decodes a trial whose
    logged architecture mapping does not parse; ``final``: the final stage's standings, whose mean and
    sd go beside the trial that put each candidate there."""
    ranked = leaderboard(records, objectives)
    retrained = {s.entry.trial: s for s in final if s.entry.trial is not None}
    rows = []
    for rank, record in enumerate(ranked if top is None else ranked[:top], start=1):
        architecture = logged_architecture(record)
        if architecture is None and space is not None:
            architecture = decode(space, record.candidate.genotype)
        rows.append(
            LeaderRow(
                rank,
                record.candidate.trial,
                tuple(record.result.values),
                record.result.metrics.get("params"),
                record.result.epochs,
                record.result.seconds,
                "?" if architecture is None else summarize(architecture),
                *_mean_sd(retrained.get(record.candidate.trial)),
            )
        )
    return rows


def _mean_sd(standing: Standing | None) -> tuple[float | None, float | None]:
    return (None, None) if standing is None else (standing.mean, standing.sd)

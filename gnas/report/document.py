"""The report as a small document model (sections of text, tables and images), built from the analysis;
``html`` and ``markdown`` render it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gnas.report.analysis import FailureRow, RunSummary
from gnas.report.final_stage import FinalRow
from gnas.report.leaderboard import LeaderRow
from gnas.search.objectives import Objectives
from gnas.search.settings import COST_METRICS


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()  # right-aligned columns


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


@dataclass(frozen=True)
class Section:
    title: str
    text: str = ""
    blocks: list[Table | Image] = field(default_factory=list)


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    sections: list[Section]


def number(metric: str, value: float | None) -> str:
    """Counts as whole numbers, seconds with 3 significant digits, metrics with 4 decimals."""
    if value is None:
        return ""
    if metric == "params":
        return f"{value:,.0f}"
    if metric in COST_METRICS:
        return f"{value:.3g}"
    return f"{value:.4f}"


def summary_table(summaries: list[RunSummary], objectives: Objectives) -> Table:
    primary = objectives.primary.metric
    rows = [
        [
            s.label,
            str(s.trained),
            ", ".join(f"{n} {status}" for status, n in sorted(s.statuses.items())),
            str(s.cached),
            f"{s.seconds:.0f}",
            number(primary, s.best_value),
            str(s.best_trial),
        ]
        for s in summaries
    ]
    headers = ["run", "trials", "status", "cached", "seconds", f"best {primary}", "best trial"]
    return Table(headers, rows, frozenset({1, 3, 4, 5, 6}))


def leaderboard_table(rows: list[LeaderRow], objectives: Objectives) -> Table:
    """The screening leaderboard; with a final stage, its mean +- sd beside the trials it retrained."""
    names = list(objectives.names)
    extra = [] if "params" in names else ["params"]
    final = any(r.final_mean is not None for r in rows)
    primary = objectives.primary.metric
    shown = [f"final {primary}"] if final else []
    headers = ["rank", "trial", *names, *shown, *extra, "epochs", "seconds", "architecture"]
    body = [
        [
            str(r.rank),
            str(r.trial),
            *(number(name, value) for name, value in zip(names, r.values, strict=True)),
            *([_mean_sd(primary, r.final_mean, r.final_sd)] if final else []),
            *([number("params", r.params)] if extra else []),
            str(r.epochs),
            f"{r.seconds:.1f}",
            r.architecture,
        ]
        for r in rows
    ]
    return Table(headers, body, frozenset(range(len(headers) - 1)))


def _mean_sd(metric: str, mean: float | None, sd: float | None) -> str:
    return "" if mean is None else f"{number(metric, mean)} +- {number(metric, sd or 0.0)}"


def final_table(rows: list[FinalRow], objectives: Objectives) -> Table:
    """The final stage: each candidate's screening value beside its full-budget mean +- sd over seeds."""
    metric = objectives.primary.metric
    headers = ["rank", "candidate", f"screening {metric}", f"final mean {metric}", "sd", "seeds ok"]
    headers.append("architecture")
    body = [
        [
            f"{r.rank}{' *' if r.winner else ''}",
            r.candidate,
            number(metric, r.screening),
            number(metric, r.mean),
            number(metric, r.sd),
            f"{r.ok}/{r.seeds}",
            r.architecture,
        ]
        for r in rows
    ]
    return Table(headers, body, frozenset({0, 2, 3, 4, 5}))


def failures_table(rows: list[FailureRow]) -> Table:
    body = [
        [row.status, str(len(row.trials)), ", ".join(map(str, row.trials[:20])), row.reason] for row in rows
    ]
    return Table(["status", "count", "trials", "reason (first of the group)"], body, frozenset({1}))

"""``gnas report``: a search run's leaderboard, convergence, Pareto front, winning choices, learning curves
and failures as PNGs plus one HTML page (or markdown). ``load`` reads a run, ``leaderboard`` ranks its
trials, ``analysis`` derives the data, ``figures`` draws it, ``document`` + ``html`` / ``markdown`` render
it, ``build`` ties them.

The names below are imported on first use, so that ``gnas.report.leaderboard`` (which the search uses)
does not pull in matplotlib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gnas.report.build import FORMATS, Report, build_report
    from gnas.report.load import ReportRun, load_report_run

__all__ = ["FORMATS", "Report", "ReportRun", "build_report", "load_report_run"]

_MODULES = {
    "FORMATS": "gnas.report.build",
    "Report": "gnas.report.build",
    "build_report": "gnas.report.build",
    "ReportRun": "gnas.report.load",
    "load_report_run": "gnas.report.load",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_MODULES[name]), name)

"""``gnas report``: a search run's leaderboard, convergence, Pareto front, winning choices, learning curves
and failures as PNGs plus one HTML page (or markdown). ``load`` reads a run, ``analysis`` derives the
data, ``figures`` draws it, ``document`` + ``html`` / ``markdown`` render it, ``build`` ties them."""

from gnas.report.build import FORMATS, Report, build_report
from gnas.report.load import ReportRun, load_report_run

__all__ = ["FORMATS", "Report", "ReportRun", "build_report", "load_report_run"]

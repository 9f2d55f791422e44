"""``gnas report``: read one or more search runs, draw the figures, write ``report.html`` (self-contained)
or ``report.md`` into ``RUN/report/`` of the first run, and return what the terminal shows."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gnas.errors import GnasError
from gnas.report import analysis, figures
from gnas.report.baselines import baseline_verdict, baselines_table
from gnas.report.document import (
    Document,
    Image,
    Section,
    failures_table,
    final_table,
    leaderboard_table,
    summary_table,
)
from gnas.report.final_stage import final_rows, final_verdict
from gnas.report.html import render_html
from gnas.report.leaderboard import LeaderRow, leaderboard_rows
from gnas.report.load import ReportRun, load_report_run
from gnas.report.markdown import render_markdown
from gnas.runs import write_text
from gnas.search.baselines import read_baselines
from gnas.search.ranking import leaderboard

FORMATS = ("html", "md")
REPORT_DIR = "report"


@dataclass(frozen=True)
class Report:
    """What was written and what it says."""

    folder: Path
    page: Path
    figures: list[Path]
    runs: list[ReportRun]
    summaries: list[analysis.RunSummary]
    leaderboard: list[LeaderRow]
    failures: list[analysis.FailureRow]


def _check_comparable(runs: Sequence[ReportRun]) -> None:
    main = runs[0].run.objectives.primary
    for other in runs[1:]:
        primary = other.run.objectives.primary
        if (primary.metric, primary.direction) != (main.metric, main.direction):
            raise GnasError(
                f"{other.path}: primary objective {primary.metric} ({primary.direction}), not "
                f"{main.metric} ({main.direction}) as in {runs[0].path}; compared runs need the same one"
            )


def _subtitle(run: ReportRun, summary: analysis.RunSummary) -> str:
    objectives = ", ".join(f"{s.metric} ({s.direction})" for s in run.run.objectives.specs)
    state = "still running: trials finished so far" if run.running else "finished or stopped"
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        f"{run.controller} controller; objectives {objectives}; {summary.trained} trials trained "
        f"({state}); validation metrics only; report of {when}."
    )


def _report_folder(out: Path | None, default: Path) -> Path:
    """Create the report folder; a path that is a file (or under one) is one line naming ``--out``."""
    folder = out or default
    where = f"--out: {folder}" if out is not None else str(folder)
    if folder.exists() and not folder.is_dir():
        raise GnasError(f"{where}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GnasError(f"{where}: cannot create the report folder ({exc.strerror or exc})") from None
    return folder


def build_report(
    runs: Sequence[Path], *, fmt: str = "html", top: int = 10, out: Path | None = None
) -> Report:
    """Write the report of ``runs[0]`` (the others overlaid on its convergence plot) and return it."""
    if not runs:
        raise GnasError("give at least one search run folder")
    if fmt not in FORMATS:
        raise GnasError(f"--format: {fmt!r} is not a report format (valid: {', '.join(FORMATS)})")
    if top < 1:
        raise GnasError(f"--top: {top} must be at least 1")
    loaded = [load_report_run(path) for path in runs]
    _check_comparable(loaded)
    main = loaded[0]
    objectives = main.run.objectives
    primary = objectives.primary
    folder = _report_folder(out, main.path / REPORT_DIR)

    summaries = [analysis.summary(run) for run in loaded]
    final = main.run.final()
    rows = leaderboard_rows(main.records, objectives, top, space=main.run.file.space, final=final)
    failures = analysis.failures(main)
    ranked = len(analysis.leaderboard(main.records, objectives))
    sections = [
        Section(
            "Runs",
            "Trials trained per run, how they ended, and the best trial.",
            [summary_table(summaries, objectives)],
        ),
        Section(
            "Leaderboard",
            f"The {len(rows)} best of {ranked} finished trials by validation {primary.metric}.",
            [leaderboard_table(rows, objectives)],
        ),
    ]
    if final:
        best = rows[0].trial if rows else None
        verdict = " ".join(f"{line[0].upper()}{line[1:]}." for line in final_verdict(final, objectives, best))
        seeds = len(final[0].seeds)
        sections.append(
            Section(
                "Final stage",
                f"The best screening candidates and the seed points retrained at the full training budget "
                f"with {seeds} seed(s) each; the best mean validation {primary.metric} wins (* marks it). "
                + verdict,
                [final_table(final_rows(final), objectives)],
            )
        )
    stored = read_baselines(main.path)
    if stored is not None and stored[0]:
        scores, skipped = stored
        best_record = next(iter(leaderboard(main.records, objectives)), None)
        said = [*baseline_verdict(scores, final, best_record, objectives), *skipped]
        text = " ".join(f"{line[0].upper()}{line[1:]}." for line in said)
        sections.append(
            Section(
                "Baselines",
                "Closed-form models fitted on the same split's training part, each hyperparameter chosen "
                f"on validation (test is not read). {text}",
                [baselines_table(scores, primary.metric)],
            )
        )
    written = [
        figures.convergence_figure(
            [analysis.convergence(run) for run in loaded], primary.direction, folder / "convergence.png"
        )
    ]
    compared = " Other runs given on the command line are overlaid." if len(loaded) > 1 else ""
    sections.append(
        Section(
            "Convergence",
            f"Best validation {primary.metric} so far against trials trained and against search time."
            + compared,
            [Image(written[-1], "convergence")],
        )
    )
    front = analysis.pareto(main)
    if front is not None:
        written.append(figures.pareto_figure(front, folder / "pareto.png"))
        sections.append(
            Section(
                "Pareto front",
                "Trials no other trial beats on every objective: the trade-offs worth retraining "
                "(gnas export RUN --pareto N).",
                [Image(written[-1], "Pareto front")],
            )
        )
    shares, n_all, n_top = analysis.choice_shares(main)
    if shares:
        written.append(figures.choices_figure(shares, n_all, n_top, folder / "choices.png"))
        sections.append(
            Section(
                "Choices",
                f"How often the top {n_top} trial(s) chose each value, against all {n_all} trained trials.",
                [Image(written[-1], "choices of the best trials")],
            )
        )
    curves = analysis.best_curves(main)
    if curves:
        metric = main.run.file.training.metric
        written.append(figures.curves_figure(curves, metric, primary.direction, folder / "curves.png"))
        sections.append(
            Section(
                "Learning curves",
                f"Validation {metric} per epoch of the best trials.",
                [Image(written[-1], "learning curves")],
            )
        )
    sections.append(
        Section(
            "Failures",
            "Trials that failed, broke a constraint or were pruned, by reason.",
            [failures_table(failures)],
        )
        if failures
        else Section("Failures", "Every trained trial finished ok.")
    )
    document = Document(f"Search report: {main.name}", _subtitle(main, summaries[0]), sections)
    page = folder / f"report.{fmt}"
    write_text(page, render_html(document) if fmt == "html" else render_markdown(document))
    return Report(folder, page, written, loaded, summaries, rows, failures)

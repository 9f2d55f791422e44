"""`gnas report`: PNGs and one HTML page (or markdown) of a search run, and a summary in the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from gnas.cli.common import console, rich_table, user_errors


@user_errors
def report(
    runs: Annotated[
        list[Path],
        typer.Argument(help="Search run folders: the first is reported, the others overlaid for comparison."),
    ],
    fmt: Annotated[str, typer.Option("--format", help="html (one self-contained page) or md.")] = "html",
    top: Annotated[int, typer.Option(help="Trials in the leaderboard.")] = 10,
    out: Annotated[Path | None, typer.Option(help="Folder for the report (default: RUN/report).")] = None,
) -> None:
    """Leaderboard, convergence, Pareto front, winning choices, learning curves and failures of a search."""
    from gnas.report import build_report
    from gnas.report.document import leaderboard_table

    result = build_report(runs, fmt=fmt, top=top, out=out)
    main = result.runs[0]
    objectives = main.run.objectives
    rows = leaderboard_table(result.leaderboard, objectives)
    primary = objectives.primary.metric
    console.print(rich_table(rows, f"{main.name}: top {len(result.leaderboard)} by validation {primary}"))
    for s in result.summaries:
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(s.statuses.items()))
        console.print(
            f"{escape(s.label)}: {s.trained} trials ({statuses}), best {primary} "
            f"{s.best_value:.4f} (trial {s.best_trial})",
            highlight=False,
            soft_wrap=True,
        )
    if result.failures:
        worst = result.failures[0]
        console.print(
            f"not ok: {sum(len(f.trials) for f in result.failures)} trials; most often "
            f"{len(worst.trials)}x {worst.status}: {escape(worst.reason)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"report: {result.page}", highlight=False, soft_wrap=True)
    console.print(f"figures: {', '.join(p.name for p in result.figures)}", highlight=False, soft_wrap=True)

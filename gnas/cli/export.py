"""`gnas export`: one trial of a search run as a self-contained `gnas train` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gnas.cli.common import console, err_console, print_error, user_errors


@user_errors
def export(
    run: Annotated[Path, typer.Argument(help="A `gnas search` run folder (runs/<name>).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The train YAML to write.")],
    trial: Annotated[int | None, typer.Option(help="Export this trial instead of the best.")] = None,
    pareto: Annotated[
        int | None,
        typer.Option(
            help="Export the N-th point (from 1) of the Pareto front, ordered by the primary objective."
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing output file.")] = False,
) -> None:
    """Write the best trial (or --trial ID, or --pareto N) of a search as a file for `gnas train`."""
    from gnas.search.export import ParetoIndexError, describe_values, export_trial, load_search_run
    from gnas.space import decode, summarize

    try:
        choice = export_trial(run, output, trial=trial, pareto=pareto, force=force)
    except ParetoIndexError as exc:
        search_run = load_search_run(run)
        table = Table(title=f"Pareto front of {search_run.path.name}")
        for column in ("N", "trial", "validation", "architecture"):
            table.add_column(column)
        for number, record in enumerate(exc.front, start=1):
            arch = summarize(decode(search_run.file.space, record.candidate.genotype))
            values = describe_values(record, search_run.objectives)
            table.add_row(str(number), str(record.candidate.trial), values, escape(arch))
        err_console.print(table)
        print_error(str(exc))
        raise typer.Exit(2) from None
    console.print(
        f"trial {choice.record.candidate.trial} ({choice.why}) -> {output}  (retrain: gnas train {output})",
        highlight=False,
        soft_wrap=True,
    )

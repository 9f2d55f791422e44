"""The ``gnas`` command line: a thin typer layer over the Python API, one module per command group."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from gnas.cli import datasets, features, space
from gnas.cli.common import print_error, show_warnings
from gnas.cli.export import export
from gnas.cli.recommend import recommend
from gnas.cli.report import report
from gnas.cli.search import search
from gnas.cli.train import train
from gnas.errors import GnasError
from gnas.runtime import tune_allocator

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Graph neural architecture search for recommender systems.",
)


@app.callback()
def _startup(
    threads: Annotated[
        str | None,
        typer.Option(
            "--threads",
            help="torch threads per process: auto (default: the CPUs left idle, see gnas/threads.py) or N.",
        ),
    ] = None,
) -> None:
    tune_allocator()
    show_warnings()
    _set_threads(threads)


def _set_threads(value: str | None) -> None:
    """Apply ``--threads`` (kept in ``GNAS_THREADS`` for Ray workers): one line and exit 2 when bad."""
    from gnas import threads as policy

    try:
        if value is not None:
            policy.parse_threads(value, "--threads")
            os.environ[policy.ENV] = value
        policy.configure()
    except GnasError as exc:
        print_error(str(exc))
        raise typer.Exit(2) from None


app.command()(search)
app.command()(train)
app.command()(export)
app.command()(recommend)
app.command()(report)
app.add_typer(datasets.app, name="datasets")
app.add_typer(space.app, name="space")
app.add_typer(features.app, name="features")


def main() -> None:
    app()

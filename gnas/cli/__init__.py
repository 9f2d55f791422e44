"""The ``gnas`` command line: a thin typer layer over the Python API, one module per command group."""

from __future__ import annotations

import typer

from gnas.cli import datasets, features, space
from gnas.cli.common import show_warnings
from gnas.cli.export import export
from gnas.cli.recommend import recommend
from gnas.cli.report import report
from gnas.cli.search import search
from gnas.cli.train import train
from gnas.runtime import tune_allocator

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    help="Graph neural architecture search for recommender systems.",
)


@app.callback()
def _startup() -> None:
    tune_allocator()
    show_warnings()


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

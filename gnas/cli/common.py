"""What every command shares: the consoles, the --data-dir option and one-line errors."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gnas.errors import GnasError

console = Console()
err_console = Console(stderr=True)

EXIT_WORKERS_LOST = 3  # gnas search: the Ray cluster died under it (a bad input exits 2); the run resumes

F = TypeVar("F", bound=Callable[..., Any])

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Folder holding <dataset>/ (default: $GNAS_DATA_DIR).")
]


def rich_table(table: Any, title: str) -> Table:
    """A report table (``gnas.report.document.Table``: headers, rows, numeric columns) for the terminal."""
    shown = Table(title=title)
    for index, header in enumerate(table.headers):
        shown.add_column(header, justify="right" if index in table.numeric else "left")
    for cells in table.rows:
        shown.add_row(*(escape(cell) for cell in cells))
    return shown


def print_error(line: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)


class _WarningLines(logging.Handler):
    """The library's warnings (logger ``gnas``) as one yellow line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err_console.print(
            f"[bold yellow]warning:[/] {escape(record.getMessage())}", highlight=False, soft_wrap=True
        )


def show_warnings() -> None:
    logger = logging.getLogger("gnas")
    if not any(isinstance(handler, _WarningLines) for handler in logger.handlers):
        logger.addHandler(_WarningLines(logging.WARNING))


def user_errors(command: F) -> F:
    """Print a GnasError as one line on stderr and exit 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except GnasError as exc:
            print_error(str(exc))
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]

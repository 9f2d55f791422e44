"""`gnas recommend`: top-K items for users of a trained model folder, optionally with reasons."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from gnas.cli.common import console, user_errors
from gnas.errors import GnasError

if TYPE_CHECKING:
    import pandas as pd

    from gnas.inference import FolderModel


@user_errors
def recommend(
    run: Annotated[Path, typer.Argument(help="A `gnas train` run folder (runs/<name>), a baseline's too.")],
    user: Annotated[str | None, typer.Option(help="One user's original id.")] = None,
    users: Annotated[Path | None, typer.Option(help="A text file with one user id per line.")] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="How many items per user.")] = 10,
    explain: Annotated[bool, typer.Option(help="Add the user's items behind each recommendation.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write CSV: user_id,rank,item_id,title,score.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing output file.")] = False,
    include_seen: Annotated[bool, typer.Option(help="Keep the user's training items.")] = False,
) -> None:
    """Recommend the top K items (original ids, with titles) that the users do not have yet.

    One user (--user) is shown as a table; a file of users (--users) gives CSV on stdout or in -o.
    """
    from gnas.inference import load_model
    from gnas.outfile import check_output, write_text_atomic

    if (user is None) == (users is None):
        raise GnasError("give --user ID or --users FILE (one of them)")
    if output is not None:
        check_output(output, force=force)
    user_ids = [str(user)] if users is None else parse_user_ids(users)
    model = load_model(run)
    frame = model.recommend_frame(user_ids, k, exclude_seen=not include_seen, explain=explain)
    if output is not None:
        write_text_atomic(output, frame.to_csv(index=False), force=force)
        console.print(
            f"{len(frame)} recommendations for {len(user_ids)} user(s) -> {output}", highlight=False
        )
    elif users is not None:
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        _show(model, user_ids[0], frame, exclude_seen=not include_seen)


def parse_user_ids(path: Path) -> list[str]:
    """The ``--users`` file: one user id per line, blank lines and ``#`` comments skipped; a missing,
    unreadable, non-UTF-8 or empty file is one GnasError line naming it."""
    if not path.is_file():
        raise GnasError(f"--users: {path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GnasError(f"--users: {path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise GnasError(f"--users: {path}: cannot be read ({exc.strerror})") from None
    ids = [line.strip() for line in text.splitlines()]
    ids = [line for line in ids if line and not line.startswith("#")]
    if not ids:
        raise GnasError(f"--users: {path} lists no user id")
    return ids


def _show(model: FolderModel, user: str, frame: pd.DataFrame, exclude_seen: bool) -> None:
    """One user's recommendations as a table."""
    explain = "because" in frame.columns
    notes = [f"{len(model.seen(user))} training items excluded" if exclude_seen else "training items kept"]
    if explain:
        notes.append(f"reasons by {model.explanation_method}")
        explain = bool(frame["because"].astype(bool).any()) or len(frame) == 0
    table = Table(title=f"user {escape(user)}: top {len(frame)} ({', '.join(notes)})")
    for column in ("rank", "item", "title", "score", *(["because you liked"] if explain else [])):
        table.add_column(column, justify="right" if column in ("rank", "score") else "left")
    for row in frame.itertuples(index=False):
        cells = [str(row.rank), escape(str(row.item_id)), escape(str(row.title or "")), f"{row.score:.4f}"]
        if explain:
            cells.append(escape(str(row.because)))
        table.add_row(*cells)
    console.print(table)

"""Files a user names with ``--output``: an existing file is kept unless forced, and the new one appears
whole or not at all (written to a temporary sibling, then renamed)."""

from __future__ import annotations

from pathlib import Path

from gnas.errors import GnasError
from gnas.runs import write_text


def check_output(path: Path, *, force: bool = False, option: str = "--output") -> None:
    """Refuse a folder, or an existing file unless ``force`` (call before any long work)."""
    if path.is_dir():
        raise GnasError(f"{option}: {path} is a folder; give a file name")
    if path.exists() and not force:
        raise GnasError(f"{option}: {path} already exists; use --force to overwrite it")


def write_text_atomic(path: Path, text: str, *, force: bool = False, option: str = "--output") -> None:
    """Write ``text`` to ``path`` through a temporary sibling; an existing file is kept unless ``force``."""
    check_output(path, force=force, option=option)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)

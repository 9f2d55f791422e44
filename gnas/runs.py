"""Run folders: created under a hidden temporary name and renamed into place only when complete."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from gnas.errors import GnasError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_run_name(name: str) -> str:
    """Refuse names that could escape the runs folder or hide in it."""
    if not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise GnasError(f"--name: {name!r} must be letters, digits, '.', '_' or '-' (no path separators)")
    return name


@dataclass(frozen=True)
class RunDir:
    """``path`` is where files are written now; ``final`` is where the run lands once complete."""

    path: Path
    final: Path


def new_run_path(out: Path, name: str, exact: bool = False) -> Path:
    """``out/<name>`` when ``exact`` (refused if taken), else ``out/<name>-<timestamp>`` (with a suffix
    if taken); checks the name and that ``out`` can hold it."""
    check_run_name(name)
    if out.exists() and not out.is_dir():
        raise GnasError(f"--out: {out} exists and is not a folder")
    if exact:
        if (out / name).exists():
            raise GnasError(f"--name: {out / name} already exists; choose another name")
        return out / name
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, suffix = out / f"{name}-{stamp}", 1
    while path.exists():
        suffix += 1
        path = out / f"{name}-{stamp}-{suffix}"
    return path


@contextmanager
def new_run_dir(out: Path, name: str, exact: bool = False) -> Iterator[RunDir]:
    """Yield a temporary folder to fill; on success it is renamed to ``out/<name>-<timestamp>``
    (``out/<name>`` when ``exact``).

    On any exception the temporary folder is removed, so no half-written run is ever left behind.
    """
    final = new_run_path(out, name, exact)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=f".{name}-", suffix=".partial"))
    try:
        yield RunDir(tmp, final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary handle on a temporary sibling of ``path`` that replaces ``path`` (after fsync) only
    when the block ends without error: a crash leaves the old file or the new one, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write a UTF-8 text file atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as handle:
        handle.write(text.encode("utf-8"))


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON atomically (temp file, fsync, rename)."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=True))


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold the run folder for this process: a second search or resume of it is refused."""
    with open(path / ".lock", "a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GnasError(f"{path}: another gnas process is running this search") from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

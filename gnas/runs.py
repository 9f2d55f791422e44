"""Run folders: created under a hidden temporary name and renamed into place only when complete."""

from __future__ import annotations

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
from typing import Any

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


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write JSON atomically (temp file, fsync, rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)

"""SHA-256 checks of a data set's files, so a corrupt or different copy is never used silently."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def first_problem(folder: Path, files: tuple[str, ...], sha256: Mapping[str, str]) -> str | None:
    """None if every file exists and matches its pinned hash, else the first problem, briefly."""
    for name in files:
        if not (folder / name).is_file():
            return f"{name} is missing"
    for name, expected in sha256.items():
        actual = sha256_of(folder / name)
        if actual != expected:
            return f"{name} has SHA-256 {actual[:12]}..., expected {expected[:12]}..."
    return None

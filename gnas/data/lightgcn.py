"""LightGCN-style folders (train.txt and test.txt, lines ``user item item ...``) such as Gowalla.

The shipped split is kept: each interaction is labelled TRAIN or TEST. A line with a user and no
items adds nothing (an ``Interactions`` only holds users that have interactions).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from gnas.data.interactions import TEST, TRAIN
from gnas.data.raw import ITEM, PART, USER, RawInteractions
from gnas.data.tables import one_line, require_file
from gnas.errors import GnasError
from gnas.spec import DatasetSpec

FILES = {"train.txt": TRAIN, "test.txt": TEST}


def read_lightgcn(folder: Path, spec: DatasetSpec) -> RawInteractions:
    """Both files as one frame with a ``part`` column; ids stay the file's integers."""
    if spec.min_rating is not None:
        raise GnasError(f"{folder}: dataset.min_rating is set but the lightgcn format has no ratings")
    if not folder.is_dir():
        raise GnasError(f"{folder}: no such folder (dataset.path; a folder with train.txt and test.txt)")
    parts = []
    for filename, part in FILES.items():
        users, items = read_adjacency(folder / filename)
        parts.append(pd.DataFrame({USER: users, ITEM: items, PART: np.full(len(users), part, dtype=np.int8)}))
    frame = pd.concat(parts, ignore_index=True)
    if frame.empty:
        raise GnasError(f"{folder}: train.txt and test.txt hold no interactions")
    return RawInteractions(frame=frame)


def read_adjacency(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(user, item) int64 arrays from ``user item item ...`` lines; one numpy parse per line, not per item."""
    require_file(path, "lightgcn format")
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GnasError(f"{path}: cannot read this file ({one_line(exc)})") from None
    users: list[np.ndarray] = []
    items: list[np.ndarray] = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            ids = np.array(fields, dtype=np.int64)
        except ValueError:
            bad = next((f for f in fields if not _is_int(f)), line)
            raise GnasError(
                f"{path}: line {number} has {bad!r}, expected integer ids 'user item item ...'"
            ) from None
        if (ids < 0).any():
            raise GnasError(f"{path}: line {number} has a negative id")
        users.append(np.full(len(ids) - 1, ids[0], dtype=np.int64))
        items.append(ids[1:])
    if not users:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(users), np.concatenate(items)


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True

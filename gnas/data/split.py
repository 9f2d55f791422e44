"""Seeded, leak-free train / valid / test splits of an Interactions set.

Every method labels each interaction TRAIN, VALID or TEST; the training graph is later built
from the TRAIN rows alone. Per-user methods round each user's share half-up and always keep at
least one training interaction. Users with fewer than ``min_user_interactions`` interactions keep
all of them in train: they shape the graph but are never evaluated.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gnas.data.interactions import TEST, TRAIN, VALID, Interactions
from gnas.errors import GnasError
from gnas.spec import SplitSpec

PART_NAMES = {TRAIN: "train", VALID: "valid", TEST: "test"}


@dataclass(frozen=True)
class Split:
    """Interactions plus a TRAIN/VALID/TEST label per row and the cold items (if any)."""

    interactions: Interactions
    part: np.ndarray
    cold_items: np.ndarray

    def edges(self, *parts: int) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) of the given parts."""
        rows = np.isin(self.part, parts)
        return self.interactions.user[rows], self.interactions.item[rows]

    def sizes(self) -> dict[str, int]:
        return {name: int((self.part == part).sum()) for part, name in PART_NAMES.items()}


def _rank_within_user(user: np.ndarray, order_key: np.ndarray) -> np.ndarray:
    """Position of each interaction among its user's interactions, by ascending ``order_key``."""
    order = np.lexsort((order_key, user))
    counts = np.bincount(user, minlength=int(user.max()) + 1)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(len(user), dtype=np.int64)
    rank[order] = np.arange(len(user)) - starts[user[order]]
    return rank


def _per_user_parts(
    user: np.ndarray, order_key: np.ndarray, valid_share: float, test_share: float, min_count: int
) -> np.ndarray:
    """Label the first ranks of each user TEST, the next VALID, the rest TRAIN."""
    part = np.full(len(user), TRAIN, dtype=np.int8)
    if len(user) == 0:
        return part
    counts = np.bincount(user)
    n_test = np.floor(counts * test_share + 0.5).astype(np.int64)
    n_valid = np.floor(counts * valid_share + 0.5).astype(np.int64)
    overflow = np.maximum(n_test + n_valid - (counts - 1), 0)
    n_valid = n_valid - np.minimum(overflow, n_valid)
    n_test = np.minimum(n_test, counts - 1 - n_valid)
    too_few = counts < min_count
    n_test[too_few] = 0
    n_valid[too_few] = 0
    rank = _rank_within_user(user, order_key)
    part[rank < n_test[user] + n_valid[user]] = VALID
    part[rank < n_test[user]] = TEST
    return part


def split_interactions(data: Interactions, spec: SplitSpec) -> Split:
    """Split ``data`` as ``spec`` says; the same seed always gives the same split."""
    rng = np.random.default_rng(spec.seed)
    _, valid_share, test_share = spec.ratios
    noise = rng.random(len(data))
    cold = np.empty(0, dtype=np.int64)
    method = spec.method
    if method == "auto":
        method = "random" if data.fixed_part is None else "fixed"

    if method == "random":
        part = _per_user_parts(data.user, noise, valid_share, test_share, spec.min_user_interactions)
    elif method == "temporal":
        if data.timestamp is None:
            raise GnasError(f"split.method: 'temporal' needs timestamps and data set {data.name!r} has none")
        # Latest first; random order among equal timestamps.
        key = np.lexsort((noise, -data.timestamp)).argsort()
        part = _per_user_parts(data.user, key, valid_share, test_share, spec.min_user_interactions)
    elif method == "fixed":
        if data.fixed_part is None:
            raise GnasError(
                f"split.method: 'fixed' needs a data set that ships a split; {data.name!r} does not"
            )
        part = data.fixed_part.astype(np.int8).copy()
        if not (part == VALID).any():  # a shipped validation part is kept as it is
            train_rows = np.flatnonzero(part == TRAIN)
            share = valid_share / (1.0 - test_share) if test_share < 1.0 else 0.0
            carved = _per_user_parts(data.user[train_rows], noise[train_rows], 0.0, share, 1)
            part[train_rows[carved == TEST]] = VALID
    else:  # cold_item
        seen = np.unique(data.item)
        n_cold = int(round(len(seen) * spec.cold_fraction))
        if n_cold < 2 or n_cold >= len(seen):
            raise GnasError(
                f"split.cold_fraction: {spec.cold_fraction} leaves {n_cold} cold items of {len(seen)}; "
                "need at least 2 and fewer than all"
            )
        cold = np.sort(rng.choice(seen, size=n_cold, replace=False))
        cold_valid = np.isin(data.item, cold[rng.permutation(n_cold)[: n_cold // 2]])
        is_cold = np.isin(data.item, cold)
        warm_rows = np.flatnonzero(~is_cold)
        part = np.full(len(data), TEST, dtype=np.int8)
        part[cold_valid] = VALID
        part[warm_rows] = _per_user_parts(
            data.user[warm_rows], noise[warm_rows], valid_share, test_share, spec.min_user_interactions
        )

    if not (part == TRAIN).any():
        raise GnasError(f"split: no training interactions left for data set {data.name!r}")
    return Split(interactions=data, part=part, cold_items=cold)


def write_split_csv(split: Split, out_dir: Path) -> list[Path]:
    """Write train/valid/test CSVs with the original ids (and cold_items.csv), each file atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = split.interactions
    frame = pd.DataFrame({"user": data.user_ids[data.user], "item": data.item_ids[data.item]})
    if data.timestamp is not None:
        frame["timestamp"] = data.timestamp
    tables = {f"{name}.csv": frame[split.part == part] for part, name in PART_NAMES.items()}
    if len(split.cold_items):
        tables["cold_items.csv"] = pd.DataFrame({"item": data.item_ids[split.cold_items]})
    written = []
    for filename, table in tables.items():
        target = out_dir / filename
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{filename}.")
        with os.fdopen(fd, "w") as handle:
            table.to_csv(handle, index=False)
        os.replace(tmp, target)
        written.append(target)
    return written

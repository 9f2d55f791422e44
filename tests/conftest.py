"""Shared fixtures: tiny synthetic interaction sets and the real data folder (when present)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnas.data.interactions import Interactions


def synthetic_interactions(
    num_users: int = 30, num_items: int = 40, per_user: int = 12, seed: int = 0
) -> Interactions:
    """Users with ``per_user`` distinct items each, ids as strings, distinct timestamps."""
    rng = np.random.default_rng(seed)
    rows = [
        (f"u{u}", f"i{i}", int(rng.integers(1_000, 10_000_000)))
        for u in range(num_users)
        for i in rng.choice(num_items, size=per_user, replace=False)
    ]
    frame = pd.DataFrame(rows, columns=["user", "item", "ts"])
    return Interactions.from_frame("synthetic", frame, timestamp="ts")


@pytest.fixture
def tiny() -> Interactions:
    return synthetic_interactions()


@pytest.fixture
def data_dir() -> Path:
    """The real data sets; integration tests are skipped without GNAS_DATA_DIR."""
    value = os.environ.get("GNAS_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("GNAS_DATA_DIR is not set to a folder of data sets")
    return Path(value)

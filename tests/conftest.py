"""Shared fixtures: tiny synthetic interaction sets and the real data folder (when present)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gnas import threads
from gnas.data.interactions import Interactions

# Searches run their trials in process unless a test asks for Ray: a Ray start costs seconds.
os.environ.setdefault("GNAS_EXECUTOR", "inline")
threads.configure()  # the thread policy every gnas entry point applies (gnas/threads.py)


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


def tiny_search_config(folder: Path, **sections: Any) -> dict[str, Any]:
    """A search file over a 30-user CSV data set with two taste groups; ``sections`` replace its parts."""
    rows = [(f"u{u}", f"i{(u % 2) * 12 + j}") for u in range(30) for j in range(10)]
    path = folder / "interactions.csv"
    pd.DataFrame(rows, columns=["uid", "iid"]).to_csv(path, index=False)
    config: dict[str, Any] = {
        "name": "tiny",
        "seed": 1,
        "dataset": {
            "name": "own",
            "format": "csv",
            "path": str(path),
            "columns": {"user": "uid", "item": "iid"},
        },
        "training": {"max_epochs": 2, "batch_size": 64, "ks": [5], "metric": "ndcg@5"},
        "space": {
            "embedding_dim": [8, 16],
            "num_layers": {"type": "int", "low": 1, "high": 2},
            "layers": {"conv": ["lightgcn", "gcn", "gat"]},
        },
        "search": {"controller": "random", "max_trials": 3, "objectives": [{"metric": "ndcg@5"}]},
    }
    return {**config, **sections}

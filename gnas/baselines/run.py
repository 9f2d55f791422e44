"""``gnas train`` for a baseline file: load and split the data, fit the grid (choose on validation,
test once), and write a run folder that ``gnas recommend`` reads.

The folder holds the same files as an architecture's run (``config.yaml``, ``metrics.json``, the id
maps, ``train_edges.pt``) plus ``baseline.json`` (the chosen point) and ``grid.csv`` (every point's
validation figures), but no weights: a baseline is refitted from ``train_edges.pt`` when loaded (see
:mod:`gnas.inference.baseline` for why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from gnas import threads
from gnas.baselines.fit import BaselineResult, GridPoint, check_baseline, fit_and_score, train_matrix
from gnas.data.registry import load_dataset
from gnas.data.split import split_interactions
from gnas.device import resolve_device
from gnas.errors import GnasError
from gnas.inference.folder import BASELINE, save_model_files
from gnas.runs import new_run_dir, new_run_path, write_json
from gnas.spec import TrainSpec
from gnas.train import versions

GRID = "grid.csv"


@dataclass
class BaselineOutcome:
    """Where the run was saved, and the chosen point with its validation and (once) test metrics."""

    run_dir: Path
    result: BaselineResult
    device: str


def train_baseline(
    spec: TrainSpec,
    *,
    data_dir: Path | None = None,
    device: str = "auto",
    out: Path = Path("runs"),
    name: str | None = None,
    on_point: Callable[[int, int, GridPoint], None] | None = None,
    memory_limit: float | None = None,
) -> BaselineOutcome:
    """Fit ``spec.baseline``'s grid on the training part, keep the best on validation, score test once
    and save the run in ``out/<name>`` (or ``out/<spec.name>-<timestamp>``). Every bad input (and a
    grid too large for memory) is a GnasError before the run folder exists."""
    if spec.baseline is None:
        raise GnasError("baseline: this file names no baseline (it trains an architecture)")
    torch_device = resolve_device(device)
    new_run_path(out, name or spec.name, exact=name is not None)  # a taken --name fails before fitting
    split = split_interactions(load_dataset(spec.dataset, data_dir), spec.split)
    threads.configure(work=split.sizes()["train"])
    check_baseline(
        spec.baseline.model,
        spec.baseline.grid,
        train_matrix(split),
        spec.training,
        torch_device,
        memory_limit,
    )
    with new_run_dir(out, name or spec.name, exact=name is not None) as run:
        result = fit_and_score(
            spec.baseline.model,
            spec.baseline.grid,
            split,
            spec.training,
            torch_device,
            seed=spec.seed,
            test=True,
            memory_limit=memory_limit,
            on_point=on_point,
        )
        config = {**spec.config(), "versions": versions(), "threads": threads.current().record()}
        (run.path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        write_json(run.path / BASELINE, {"model": spec.baseline.model, "params": result.params})
        write_json(
            run.path / "metrics.json",
            {
                "model": spec.baseline.model,
                "params": result.params,
                "valid": result.valid,
                "test": result.test or {},
                "grid": [{"params": p.params, "valid": p.valid, "seconds": p.seconds} for p in result.grid],
                "selected_by": f"valid {result.metric}",
                "train_seconds": result.seconds,
                "device": torch_device.type,
                "split_sizes": split.sizes(),
            },
        )
        pd.DataFrame([{**p.params, **p.valid, "seconds": p.seconds} for p in result.grid]).to_csv(
            run.path / GRID, index=False
        )
        save_model_files(run.path, split, None)
    return BaselineOutcome(run.final, result, torch_device.type)

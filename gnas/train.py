"""``gnas train``: data -> split -> graph -> model -> fit on valid -> score test once -> run folder."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import yaml

import gnas
from gnas import threads
from gnas.data.graph import TrainGraph, build_train_graph
from gnas.data.interactions import TEST, TRAIN, VALID
from gnas.data.registry import load_dataset
from gnas.data.split import Split, split_interactions
from gnas.device import resolve_device
from gnas.errors import GnasError
from gnas.inference.folder import save_model_files
from gnas.models.cost import GraphSize, check_fits
from gnas.models.registry import build_model
from gnas.runs import new_run_dir, write_json
from gnas.spec import DatasetSpec, SplitSpec, TrainingSpec, TrainSpec
from gnas.text.build import item_features
from gnas.text.encoder import OnBatch
from gnas.training.coldstart import PARTS, cold_start_report
from gnas.training.evaluators import ranking_evaluator
from gnas.training.metrics import RankingEvaluator
from gnas.training.trainer import EpochLog, FitResult, evaluate, fit, score_function


@dataclass
class TrainOutcome:
    """Where the run was saved and what it scored (validation at the best epoch, test once)."""

    run_dir: Path
    valid: dict[str, float]
    test: dict[str, float]
    fit: FitResult
    device: str
    cold_start: dict[str, Any] | None = None


def evaluators(
    split: Split, training: TrainingSpec, device: torch.device
) -> tuple[RankingEvaluator, RankingEvaluator]:
    """Validation masks training items; test masks training and validation items."""
    return (
        ranking_evaluator(split, VALID, (TRAIN,), training, device),
        ranking_evaluator(split, TEST, (TRAIN, VALID), training, device),
    )


def versions() -> dict[str, str]:
    """The versions a run records: gnas, Python and the libraries that shape its results (torch with its
    build tag, such as ``+cu130``, since CPU and CUDA builds give different numbers)."""
    found = {"gnas": gnas.__version__, "python": platform.python_version(), "torch": str(torch.__version__)}
    for package in ("torch_geometric", "optuna", "deap", "ray", "transformers"):
        try:
            found[package] = metadata.version(package.replace("_", "-"))
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _save_run(
    path: Path,
    spec: TrainSpec,
    split: Split,
    model: torch.nn.Module,
    result: FitResult,
    test: dict[str, float],
    device: str,
    cold_start: dict[str, Any] | None = None,
) -> None:
    config = spec.config()
    recorded = {**config, "versions": versions(), "threads": threads.current().record()}
    (path / "config.yaml").write_text(yaml.safe_dump(recorded, sort_keys=False))
    write_json(
        path / "metrics.json",
        {
            "valid": result.best_valid,
            "test": test,
            "best_epoch": result.best_epoch,
            "epochs_run": result.epochs_run,
            "stop_reason": result.stop_reason,
            "train_seconds": result.seconds,
            "device": device,
            "split_sizes": split.sizes(),
            **({"cold_start": cold_start} if cold_start else {}),
        },
    )
    pd.DataFrame(
        [{"epoch": e.epoch, "loss": e.loss, "seconds": e.seconds, **(e.valid or {})} for e in result.history]
    ).to_csv(path / "history.csv", index=False)
    save_model_files(path, split, model)


def prepare_graph(
    dataset: DatasetSpec, split_spec: SplitSpec, data_dir: Path | None = None
) -> tuple[Split, TrainGraph]:
    """Load and split the data and build the training graph (all validated before anything is written)."""
    split = split_interactions(load_dataset(dataset, data_dir), split_spec)
    return split, build_train_graph(split)


def train(
    spec: TrainSpec,
    *,
    data_dir: Path | None = None,
    device: str = "auto",
    out: Path = Path("runs"),
    on_epoch: Callable[[EpochLog], None] | None = None,
    on_start: Callable[[], None] | None = None,
    name: str | None = None,
    on_text: OnBatch | None = None,
) -> TrainOutcome:
    """Train one architecture with early stopping on validation, then score test exactly once.

    The run lands in ``out/<name>`` when ``name`` is given, else in ``out/<spec.name>-<timestamp>``.
    ``on_start`` runs once everything is validated and loaded, just before the first epoch.
    An architecture that fuses text reads the item features of ``dataset.text`` (from the feature
    cache, or encoded once with ``on_text`` reporting progress). With the ``cold_item`` split the
    metrics also hold a cold-start report (warm, cold and all items, beside a popularity baseline).
    A file with ``baseline:`` is trained by :func:`gnas.baselines.run.train_baseline` instead.
    """
    if spec.baseline is not None:
        raise GnasError("baseline: this file names a baseline; gnas.baselines.run.train_baseline fits it")
    torch_device = resolve_device(device)
    split, graph = prepare_graph(spec.dataset, spec.split, data_dir)
    threads.configure(work=len(graph.train_user))
    graph = graph.to(torch_device)
    valid_eval, test_eval = evaluators(split, spec.training, torch_device)
    text = None
    if spec.architecture.canonical().fusion != "none":
        text = item_features(split, spec.dataset.text, device=device, on_batch=on_text).features
    size = GraphSize.of(graph, text)
    check_fits(spec.architecture, size, torch_device, batch_size=spec.training.batch_size)
    torch.manual_seed(spec.seed)
    model = build_model(spec.architecture, graph.num_users, graph.num_items, text).to(torch_device)
    with new_run_dir(out, name or spec.name, exact=name is not None) as run:
        if on_start is not None:
            on_start()
        result = fit(model, graph, valid_eval, spec.training, seed=spec.seed, on_epoch=on_epoch)
        test = evaluate(model, graph, test_eval)
        cold_start = None
        if len(split.cold_items):
            scores = score_function(model, graph)
            cold_start = {
                part: cold_start_report(split, part, scores, spec.training, torch_device) for part in PARTS
            }
        _save_run(run.path, spec, split, model, result, test, torch_device.type, cold_start)
    return TrainOutcome(run.final, result.best_valid, test, result, torch_device.type, cold_start)

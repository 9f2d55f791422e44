"""The files of a trained model folder that inference needs: written by ``gnas train``, read back (and
checked) by ``gnas.load_model``.

- ``config.yaml``: the training spec, whose ``architecture`` rebuilds the model;
- ``model.pt``: the weights, tensors only (``torch.load(..., weights_only=True)``, never a pickle);
- ``user_ids.csv`` / ``item_ids.csv``: dense index -> original id (plus the item ``title`` when the
  data set has item text);
- ``train_edges.pt``: the training (user index, item index) pairs, the graph the model propagates over
  and the items each user already has;
- ``item_features.pt`` (models that fuse item text): the item text feature matrix and which items have
  text, so that no language model or data set is needed at inference.

A baseline's folder (``baseline:`` in ``config.yaml``) has no ``model.pt``; its ``baseline.json`` names
the chosen grid point, refitted from ``train_edges.pt`` when loaded (:mod:`gnas.inference.baseline`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from gnas.data.interactions import TRAIN, Interactions
from gnas.data.split import Split
from gnas.errors import GnasError
from gnas.models.fused import FusedRecommender
from gnas.spec import TrainSpec, load_yaml, parse_train_spec
from gnas.text.features import ItemFeatures

CONFIG = "config.yaml"
WEIGHTS = "model.pt"
USERS = "user_ids.csv"
ITEMS = "item_ids.csv"
TRAIN_EDGES = "train_edges.pt"
FEATURES = "item_features.pt"
BASELINE = "baseline.json"
FILES = (CONFIG, WEIGHTS, USERS, ITEMS, TRAIN_EDGES)
BASELINE_FILES = (CONFIG, BASELINE, USERS, ITEMS, TRAIN_EDGES)
RECORDS = ("versions", "threads")  # what a run records in config.yaml beside the spec


def item_titles(data: Interactions) -> np.ndarray | None:
    """One display name per item: the ``title`` text column, else the first one; None without text."""
    text = data.item_text
    if text is None or text.shape[1] == 0:
        return None
    column = "title" if "title" in text.columns else text.columns[0]
    return text[column].astype(str).to_numpy()


def save_model_files(path: Path, split: Split, model: nn.Module | None) -> None:
    """Write the weights (``model`` None: a baseline, none), id maps, titles and training edges
    (``config.yaml`` is the caller's)."""
    data = split.interactions
    if model is not None:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, path / WEIGHTS)
    pd.DataFrame({"user_id": data.user_ids}).to_csv(path / USERS, index_label="index")
    items = pd.DataFrame({"item_id": data.item_ids})
    titles = item_titles(data)
    if titles is not None:
        items["title"] = titles
    items.to_csv(path / ITEMS, index_label="index")
    user, item = split.edges(TRAIN)
    edges = {"user": torch.from_numpy(user.copy()), "item": torch.from_numpy(item.copy())}
    torch.save(edges, path / TRAIN_EDGES)
    if isinstance(model, FusedRecommender):
        torch.save({"matrix": model.text.cpu(), "present": model.has_text.cpu()}, path / FEATURES)


@dataclass(frozen=True)
class ModelFiles:
    """A model folder's contents, checked against each other. Ids are strings, as in the CSVs."""

    path: Path
    spec: TrainSpec
    weights: dict[str, torch.Tensor]
    user_ids: np.ndarray
    item_ids: np.ndarray
    titles: np.ndarray | None
    train_user: np.ndarray
    train_item: np.ndarray
    features: ItemFeatures | None = None
    baseline: dict[str, Any] | None = None


def _tensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        data: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or garbled file, or one holding more than tensors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GnasError(f"{path}: not a readable tensor file ({first})") from None
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise GnasError(f"{path}: expected a mapping of names to tensors")
    return data


def _ids(path: Path, column: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise GnasError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    if "index" not in table.columns or column not in table.columns:
        raise GnasError(f"{path}: needs columns index and {column}")
    if table["index"].tolist() != [str(i) for i in range(len(table))]:
        raise GnasError(f"{path}: the index column must count 0, 1, 2, ... without gaps")
    if table[column].duplicated().any():
        raise GnasError(f"{path}: {column} {table[column][table[column].duplicated()].iloc[0]!r} repeats")
    return table[[column, *(c for c in extra if c in table.columns)]]


def read_model_files(path: Path) -> ModelFiles:
    """Read and cross-check a model folder; any problem is a GnasError naming the file."""
    if not path.is_dir():
        raise GnasError(f"{path}: no such folder (give a `gnas train` run folder)")
    if not (path / CONFIG).is_file():
        raise GnasError(f"{path / CONFIG}: missing (not a complete `gnas train` run folder)")
    spec = _spec(path / CONFIG)
    for name in FILES if spec.baseline is None else BASELINE_FILES:
        if not (path / name).is_file():
            raise GnasError(f"{path / name}: missing (not a complete `gnas train` run folder)")
    users = _ids(path / USERS, "user_id")
    items = _ids(path / ITEMS, "item_id", ("title",))
    edges = _tensors(path / TRAIN_EDGES)
    user, item = edges.get("user"), edges.get("item")
    if user is None or item is None or user.shape != item.shape or user.ndim != 1:
        raise GnasError(f"{path / TRAIN_EDGES}: expected tensors 'user' and 'item' of one equal length")
    for what, index, count, source in (("user", user, len(users), USERS), ("item", item, len(items), ITEMS)):
        if len(index) and (int(index.min()) < 0 or int(index.max()) >= count):
            raise GnasError(f"{path / TRAIN_EDGES}: a {what} index is outside the {count} rows of {source}")
    titles = items["title"].to_numpy() if "title" in items.columns else None
    features = None
    if spec.baseline is None and spec.architecture.canonical().fusion != "none":
        features = _features(path / FEATURES, len(items))
    return ModelFiles(
        path,
        spec,
        {} if spec.baseline is not None else _tensors(path / WEIGHTS),
        users["user_id"].to_numpy(),
        items["item_id"].to_numpy(),
        titles,
        user.numpy().astype(np.int64),
        item.numpy().astype(np.int64),
        features,
        None if spec.baseline is None else _baseline(path / BASELINE, spec.baseline.model),
    )


def _baseline(path: Path, model: str) -> dict[str, Any]:
    """The chosen point in ``baseline.json``: ``{"model": name, "params": {...}}``, checked against
    ``config.yaml``'s model and the model's hyperparameters."""
    from gnas.baselines.grid import check_grid

    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GnasError(f"{path}: not readable JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
        raise GnasError(f"{path}: expected a mapping with 'model' and 'params'")
    if data.get("model") != model:
        raise GnasError(f"{path}: model {data.get('model')!r} differs from config.yaml's {model!r}")
    try:
        check_grid(model, data["params"])
    except ValueError as exc:
        raise GnasError(f"{path}: params.{str(exc).removeprefix('grid.')}") from None
    return data


def _spec(path: Path) -> TrainSpec:
    """The training spec in ``config.yaml`` (what the run records beside it, ``versions`` and
    ``threads``, aside)."""
    try:
        config: Any = load_yaml(path)
    except UnicodeDecodeError as exc:
        raise GnasError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not isinstance(config, dict):
        raise GnasError(f"{path}: the top level must be a mapping of keys, got {type(config).__name__}")
    spec = {k: v for k, v in config.items() if k not in RECORDS}
    return parse_train_spec(spec, str(path))


def _features(path: Path, num_items: int) -> ItemFeatures:
    """The item text features a fusing model reads, checked against the item count."""
    if not path.is_file():
        raise GnasError(f"{path}: missing (the architecture fuses item text)")
    data = _tensors(path)
    matrix, present = data.get("matrix"), data.get("present")
    if matrix is None or present is None or matrix.ndim != 2 or present.shape != (matrix.shape[0],):
        raise GnasError(f"{path}: expected tensors 'matrix' [items, dim] and 'present' [items]")
    if matrix.shape[0] != num_items:
        raise GnasError(f"{path}: {matrix.shape[0]} rows for the {num_items} items of {ITEMS}")
    return ItemFeatures(matrix.float(), present.bool())

"""Fit a baseline's grid on an already loaded split, choose on validation, score test only on request.

This is the API a search calls to put baselines beside its result (``fit_and_score``) and what
``gnas train`` runs for a baseline file. Selection reads the validation part only; the test part is
read (and scored once, for the chosen point) only with ``test=True``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import scipy.sparse as sp
import torch

from gnas.baselines.base import Baseline, interaction_matrix
from gnas.baselines.grid import baseline_class, grid_points
from gnas.baselines.memory import check_baseline_fits
from gnas.data.interactions import TEST, TRAIN, VALID
from gnas.data.split import Split
from gnas.errors import GnasError
from gnas.spec import TrainingSpec
from gnas.training.evaluators import ranking_evaluator


@dataclass(frozen=True)
class GridPoint:
    """One fitted grid point: its hyperparameters, validation metrics and fit + scoring seconds."""

    params: dict[str, float]
    valid: dict[str, float]
    seconds: float


@dataclass
class BaselineResult:
    """The chosen (best on validation) point, fitted, with every point's validation figures; ``test``
    is None unless test was asked for."""

    model: Baseline
    params: dict[str, float]
    valid: dict[str, float]
    grid: list[GridPoint]
    metric: str
    test: dict[str, float] | None = None
    seconds: float = 0.0


def train_matrix(split: Split) -> sp.csr_matrix:
    """The binary users x items matrix of the split's TRAIN part (the only part a baseline fits on)."""
    data = split.interactions
    user, item = split.edges(TRAIN)
    return interaction_matrix(user, item, data.num_users, data.num_items)


def scorer(model: Baseline, train: sp.csr_matrix) -> Callable[[torch.Tensor], torch.Tensor]:
    """The evaluator's ``score_users``: each user's training row through the fitted model."""

    def score(users: torch.Tensor) -> torch.Tensor:
        return model.score(train[users.cpu().numpy()])

    return score


def check_baseline(
    name: str,
    grid: Mapping[str, Any],
    train: sp.csr_matrix,
    training: TrainingSpec,
    device: torch.device,
    memory_limit: float | None = None,
) -> tuple[type[Baseline], list[dict[str, float]]]:
    """The model class and grid points, once the name, the hyperparameters and the memory need are
    checked (a one-line :class:`GnasError` otherwise); nothing is allocated."""
    try:
        model_class = baseline_class(name)
        points = grid_points(name, grid)
    except ValueError as exc:
        raise GnasError(f"baseline: {exc}") from None
    num_users, num_items = train.shape
    check_baseline_fits(
        model_class, points, num_users, num_items, train.nnz, device, memory_limit, training.eval_batch_size
    )
    return model_class, points


def fit_and_score(
    name: str,
    grid: Mapping[str, Any],
    split: Split,
    training: TrainingSpec,
    device: str | torch.device = "cpu",
    *,
    seed: int = 0,
    test: bool = False,
    memory_limit: float | None = None,
    on_point: Callable[[int, int, GridPoint], None] | None = None,
) -> BaselineResult:
    """Fit every point of ``grid`` (hyperparameter -> values) of baseline ``name`` on the TRAIN part,
    score each on VALID (training items masked, full ranking), keep the best by ``training.metric``
    (the first in grid order on a tie), and, only when ``test``, score TEST once for it (training and
    validation items masked). ``on_point(index, count, point)`` reports each point as it finishes.

    An unknown name or hyperparameter, or a grid that would not fit ``device``'s memory (or
    ``memory_limit`` bytes), is a one-line :class:`GnasError` before anything is fitted.
    """
    device = torch.device(device)
    train = train_matrix(split)
    model_class, points = check_baseline(name, grid, train, training, device, memory_limit)
    valid_eval = ranking_evaluator(split, VALID, (TRAIN,), training, device)
    metric = training.metric
    started = time.perf_counter()
    fitted: list[GridPoint] = []
    best: Baseline | None = None
    best_point: GridPoint | None = None
    for index, params in enumerate(points):
        began = time.perf_counter()
        model = model_class(params, seed=seed).fit(train, device)
        valid = valid_eval.evaluate(scorer(model, train))
        point = GridPoint(dict(model.params), valid, time.perf_counter() - began)
        fitted.append(point)
        if best_point is None or point.valid[metric] > best_point.valid[metric]:
            best, best_point = model, point
        del model
        if on_point is not None:
            on_point(index, len(points), point)
    assert best is not None and best_point is not None
    result = BaselineResult(best, best_point.params, best_point.valid, fitted, metric)
    if test:
        test_eval = ranking_evaluator(split, TEST, (TRAIN, VALID), training, device)
        result.test = test_eval.evaluate(scorer(best, train))
    result.seconds = time.perf_counter() - started
    return result

"""Which executor runs a search's trials: Ray workers (the default) or this process (``inline``).

``GNAS_EXECUTOR`` changes the default (the test suite sets ``inline``: Ray's start-up costs seconds).
Pruning (Optuna's pruners) needs the controller, which lives in this process: inline trials call it
directly, Ray trials ask it through a small actor (``gnas.execution.ray_prune``), and only when the
controller has a pruner, since each question is a round trip.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import torch

from gnas.data.graph import TrainGraph
from gnas.errors import GnasError
from gnas.execution.base import Executor
from gnas.execution.inline import InlineExecutor
from gnas.execution.settings import WorkerSettings
from gnas.search.controllers.base import Controller
from gnas.search.settings import SearchSettings
from gnas.search.trial import TrialContext, run_trial
from gnas.training.metrics import RankingEvaluator

EXECUTORS = ("ray", "inline")


def executor_name(name: str | None = None) -> str:
    """``name``, else ``$GNAS_EXECUTOR``, else ``ray``; a one-line error for an unknown one."""
    chosen = name or os.environ.get("GNAS_EXECUTOR") or "ray"
    if chosen not in EXECUTORS:
        raise GnasError(f"--executor: unknown executor {chosen!r} (valid: {', '.join(EXECUTORS)})")
    return chosen


def place_context(context: TrialContext, device: torch.device) -> TrialContext:
    """The context with every tensor it holds (graph, evaluator, item features) on ``device``; a Ray
    worker calls it once, when it starts."""
    moved = {f.name: _on_device(getattr(context, f.name), device) for f in dataclasses.fields(context)}
    return dataclasses.replace(context, **moved)


def _on_device(value: Any, device: torch.device) -> Any:
    if isinstance(value, torch.Tensor | TrainGraph | RankingEvaluator):
        return value.to(device)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        tensors = {name: item.to(device) for name, item in fields.items() if isinstance(item, torch.Tensor)}
        return dataclasses.replace(value, **tensors) if tensors else value
    return value


def build_executor(
    name: str,
    context: TrialContext,
    controller: Controller,
    settings: SearchSettings,
    workers: WorkerSettings,
    *,
    device: str = "auto",
    ray_address: str | None = None,
    run_path: Path | None = None,
) -> Executor:
    """An executor running :func:`run_trial` on ``context``; Ray's logs go to ``run_path/ray``."""
    if name == "inline":
        return InlineExecutor(lambda candidate: run_trial(context, candidate, controller.should_prune))
    from gnas.execution.ray import RayExecutor

    context = place_context(context, torch.device("cpu"))  # workers place it on their own device
    prunes = settings.controller == "optuna" and settings.optuna.pruner != "none"
    return RayExecutor(
        context,
        run_trial,
        place_context,
        workers,
        address=ray_address,
        device=device,
        logs=None if run_path is None else run_path / "ray",
        prune=controller.should_prune if prunes else None,
    )

"""One trial: decode a candidate, check its constraints, train it on train, score it on validation only."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from gnas.data.graph import TrainGraph
from gnas.models.base import Recommender
from gnas.models.cost import GraphSize, check_fits
from gnas.models.registry import build_model
from gnas.search.budgets import candidate_training
from gnas.search.candidate import Candidate, TrialResult
from gnas.search.objectives import Objectives
from gnas.space import SearchSpace, decode
from gnas.spec import TrainingSpec
from gnas.text.features import ItemFeatures
from gnas.training.metrics import RankingEvaluator
from gnas.training.trainer import EpochLog, fit, score_function

PruneCheck = Callable[[Candidate, int, float], bool]


@dataclass
class TrialContext:
    """What every trial of a search shares: the training graph, the validation evaluator, the settings.

    It holds no test data: a search can only ever see validation metrics.
    """

    space: SearchSpace
    objectives: Objectives
    graph: TrainGraph
    valid: RankingEvaluator
    training: TrainingSpec
    seed: int
    text: ItemFeatures | None = None  # the item text features, when the space fuses text
    final_training: TrainingSpec | None = None  # the final stage's full budget (None: ``training``)

    def training_for(self, candidate: Candidate) -> TrainingSpec:
        """The budget the candidate's stage trains: ``training`` (screening) or ``final_training``."""
        if candidate.stage == "final" and self.final_training is not None:
            return self.final_training
        return self.training


def scoring_latency(model: Recommender, graph: TrainGraph, batch_size: int) -> float:
    """Seconds to score every item for every user: one forward pass plus the batched score products."""
    device = graph.train_user.device
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    with torch.no_grad():
        score = score_function(model, graph)
        for start in range(0, graph.num_users, batch_size):
            score(torch.arange(start, min(start + batch_size, graph.num_users), device=device))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - started


def run_trial(
    context: TrialContext, candidate: Candidate, should_prune: PruneCheck | None = None
) -> TrialResult:
    """Train the candidate within its budget and report validation metrics, costs and objective values."""
    started = time.perf_counter()
    graph, objectives = context.graph, context.objectives
    try:
        arch = decode(context.space, candidate.genotype)
        base = context.training_for(candidate)
        own = candidate_training(base, context.space, candidate.genotype)
        seed = context.seed if candidate.seed is None else candidate.seed
        if candidate.stage == "final":  # a final run is never pruned: the controller has moved on
            should_prune = None
        torch.manual_seed(seed)
        model = build_model(arch, graph.num_users, graph.num_items, context.text)
        params = float(sum(p.numel() for p in model.parameters()))
        violation = objectives.violation({"params": params})
        if violation is not None:
            seconds = time.perf_counter() - started
            return TrialResult("infeasible", {"params": params}, seconds=seconds, error=violation)
        device = graph.train_user.device
        kind = device.type  # recorded with the result: CPU and CUDA runs give different numbers
        check_fits(arch, GraphSize.of(graph, context.text), device, batch_size=own.batch_size)
        model = model.to(device)
        budget = candidate.budget
        training = own.model_copy(
            update={
                "max_epochs": min(budget.epochs or base.max_epochs, base.max_epochs),
                "time_budget": budget.seconds or base.time_budget,
            }
        )
        metric = training.metric

        def on_epoch(log: EpochLog) -> bool:
            if log.valid is None or should_prune is None:
                return False
            return should_prune(candidate, log.epoch, log.valid[metric])

        result = fit(model, graph, context.valid, training, seed=seed, on_epoch=on_epoch)
        curve = tuple((log.epoch, log.valid[metric]) for log in result.history if log.valid is not None)
        if result.stop_reason == "non-finite loss" or not all(math.isfinite(v) for _, v in curve):
            seconds = time.perf_counter() - started
            return TrialResult(
                "failed",
                {"params": params},
                epochs=result.epochs_run,
                seconds=seconds,
                error="non-finite loss",
                device=kind,
            )
        metrics = {
            **result.best_valid,
            "params": params,
            "latency": scoring_latency(model, graph, training.eval_batch_size),
            "train_time": result.seconds,
        }
        epochs, seconds = result.epochs_run, time.perf_counter() - started
        loss = tuple((log.epoch, log.loss) for log in result.history)
        violation = objectives.violation(metrics)
        if violation is not None:
            return TrialResult(
                "infeasible", metrics, (), epochs, seconds, curve, violation, loss, device=kind
            )
        values = objectives.values(metrics)
        if result.stop_reason == "pruned":
            return TrialResult("pruned", metrics, values, epochs, seconds, curve, loss=loss, device=kind)
        return TrialResult("ok", metrics, values, epochs, seconds, curve, loss=loss, device=kind)
    except Exception as exc:  # any failure of one architecture is recorded; the search goes on
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        error = f"{type(exc).__name__}: {message}"
        return TrialResult("failed", error=error, seconds=time.perf_counter() - started)

"""Training (BPR or sampled softmax) with early stopping on validation; test data never enters here."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from gnas.data.graph import TrainGraph
from gnas.errors import GnasError
from gnas.models.base import Recommender
from gnas.spec import TrainingSpec
from gnas.training.losses import bpr_loss, softmax_loss
from gnas.training.metrics import RankingEvaluator
from gnas.training.sampling import NegativeSampler


@dataclass(frozen=True)
class EpochLog:
    """One epoch: mean training loss, seconds since training began, validation metrics if evaluated."""

    epoch: int
    loss: float
    seconds: float
    valid: dict[str, float] | None = None


@dataclass
class FitResult:
    """How training went; the model passed to :func:`fit` is left holding the best weights."""

    best_epoch: int
    best_valid: dict[str, float]
    epochs_run: int
    stop_reason: str
    seconds: float
    history: list[EpochLog] = field(default_factory=list)


def score_function(model: Recommender, graph: TrainGraph) -> Callable[[torch.Tensor], torch.Tensor]:
    """Ranking scores of users against all items, from one forward pass: the dot products, mixed with
    a closed-form branch's scores where the model has one."""
    model.eval()
    with torch.no_grad():
        user_emb, item_emb = model(graph)
    return model.mix(lambda users: user_emb[users] @ item_emb.T, graph)


def evaluate(model: Recommender, graph: TrainGraph, evaluator: RankingEvaluator) -> dict[str, float]:
    """Full-ranking metrics of the model's current weights."""
    with torch.no_grad():
        return evaluator.evaluate(score_function(model, graph))


def batch_loss(
    model: Recommender,
    graph: TrainGraph,
    users: torch.Tensor,
    pos: torch.Tensor,
    sampler: NegativeSampler,
    spec: TrainingSpec,
    generator: torch.Generator,
) -> torch.Tensor:
    """The loss ``spec.loss`` names on one batch of training pairs, negatives drawn from ``generator``."""
    user_emb, item_emb = model(graph)
    if spec.loss == "softmax":
        negatives = sampler.shared(spec.num_negatives, generator, users.device)
        return softmax_loss(
            user_emb[users],
            item_emb[pos],
            item_emb[negatives],
            sampler.excluded(users, negatives),
            model.layer0(users, torch.cat([pos, negatives])),
            spec.weight_decay,
            spec.temperature,
        )
    neg = sampler.sample(users, generator)
    return bpr_loss(
        user_emb[users],
        item_emb[pos],
        item_emb[neg],
        model.layer0(users, torch.cat([pos, neg])),
        spec.weight_decay,
    )


def train_one_epoch(
    model: Recommender,
    graph: TrainGraph,
    optimizer: torch.optim.Optimizer,
    sampler: NegativeSampler,
    spec: TrainingSpec,
    generator: torch.Generator,
) -> float:
    """One pass over the shuffled training edges in mini-batches; returns the mean loss."""
    model.train()
    n = len(graph.train_user)
    order = torch.randperm(n, generator=generator, device=graph.train_user.device)
    total = 0.0
    for start in range(0, n, spec.batch_size):
        batch = order[start : start + spec.batch_size]
        users, pos = graph.train_user[batch], graph.train_item[batch]
        loss = batch_loss(model, graph, users, pos, sampler, spec, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return total / n


def fit(
    model: Recommender,
    graph: TrainGraph,
    valid: RankingEvaluator,
    spec: TrainingSpec,
    *,
    seed: int,
    on_epoch: Callable[[EpochLog], bool | None] | None = None,
) -> FitResult:
    """Train until patience, max_epochs or the time budget runs out; keep the best-validation weights.

    ``on_epoch`` sees every epoch's log; returning True stops training (a pruned trial).
    """
    device = graph.train_user.device
    generator = torch.Generator(device=device).manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=spec.lr)
    sampler = NegativeSampler(graph.train_user, graph.train_item, graph.num_items)

    best_value, best_epoch, best_valid = float("-inf"), 0, {}
    best_state: dict[str, torch.Tensor] = {}
    stale, stop_reason, history = 0, "max_epochs", []
    started = time.perf_counter()
    epoch = 0
    for epoch in range(1, spec.max_epochs + 1):
        loss = train_one_epoch(model, graph, optimizer, sampler, spec, generator)
        if not torch.isfinite(torch.tensor(loss)):
            stop_reason = "non-finite loss"
            history.append(EpochLog(epoch, loss, time.perf_counter() - started))
            break
        metrics = None
        if epoch % spec.eval_every == 0 or epoch == spec.max_epochs:
            metrics = evaluate(model, graph, valid)
            if metrics[spec.metric] > best_value:
                best_value, best_epoch, best_valid = metrics[spec.metric], epoch, metrics
                best_state = copy.deepcopy(model.state_dict())
                stale = 0
            else:
                stale += 1
        log = EpochLog(epoch, loss, time.perf_counter() - started, metrics)
        history.append(log)
        if on_epoch is not None and on_epoch(log):
            stop_reason = "pruned"
            break
        if stale >= spec.patience:
            stop_reason = "patience"
            break
        if spec.time_budget is not None and log.seconds >= spec.time_budget:
            stop_reason = "time_budget"
            break

    if not best_valid and stop_reason == "non-finite loss":
        raise GnasError(f"training diverged (non-finite loss) in epoch {epoch}; lower training.lr")
    if not best_valid:  # stopped before any evaluation: judge the weights we have
        best_valid, best_epoch = evaluate(model, graph, valid), epoch
        best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return FitResult(best_epoch, best_valid, epoch, stop_reason, time.perf_counter() - started, history)

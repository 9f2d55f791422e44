"""A cheap synthetic objective for controller tests: no training, deterministic values per architecture."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gnas.execution.inline import InlineExecutor
from gnas.search.candidate import Candidate, TrialResult
from gnas.search.objectives import Objectives
from gnas.space import SearchSpace, decode

CONV_BONUS = {"lightgcn": 0.05, "gcn": 0.02, "sage": 0.03, "gat": 0.06, "gatv2": 0.07}


def synthetic_metrics(space: SearchSpace, candidate: Candidate) -> dict[str, float]:
    """ndcg@20 rewards 2 layers, wide embeddings and attention convs; params grow with width and depth."""
    arch = decode(space, candidate.genotype)
    quality = 0.1 + arch.embedding_dim / 1000 - 0.02 * abs(arch.num_layers - 2)
    quality += sum(CONV_BONUS[layer.conv] * (1 + 0.01 * layer.heads) for layer in arch.layers)
    if arch.combine == "mean":
        quality += 0.01
    budget = candidate.budget.epochs
    if budget is not None:  # lower fidelity: a little lower, same ranking
        quality *= budget / (budget + 1)
    params = arch.embedding_dim * 1000 + sum(
        (layer.hidden or arch.embedding_dim) * arch.embedding_dim * layer.heads for layer in arch.layers
    )
    return {
        "ndcg@20": quality,
        "recall@20": quality * 1.1,
        "params": float(params),
        "latency": 0.01,
        "train_time": 1.0,
    }


def synthetic_evaluate(space: SearchSpace, objectives: Objectives):  # noqa: ANN201
    """An ``evaluate(candidates) -> results`` for :func:`gnas.search.driver.drive`."""

    def evaluate(candidates: Sequence[Candidate]) -> list[TrialResult]:
        results = []
        for candidate in candidates:
            metrics = synthetic_metrics(space, candidate)
            results.append(
                TrialResult("ok", metrics, objectives.values(metrics), epochs=candidate.budget.epochs or 10)
            )
        return results

    return evaluate


def inline(
    evaluate: Callable[[Sequence[Candidate]], Sequence[TrialResult]], slots: int = 1
) -> InlineExecutor:
    """An in-process executor over a batch ``evaluate``, handing out ``slots`` candidates at once."""
    return InlineExecutor(lambda candidate: evaluate([candidate])[0], slots)

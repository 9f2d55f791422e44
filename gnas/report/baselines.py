"""The baselines beside a search's winner, as a table and a plain verdict on validation: shared by the
end-of-search summary of ``gnas search`` and ``gnas report``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gnas.report.document import Table, number
from gnas.search.baselines import BaselineScore
from gnas.search.final import Standing, winner
from gnas.search.objectives import Objectives
from gnas.search.runlog import TrialRecord
from gnas.search.settings import COST_METRICS


def baselines_table(scores: Sequence[BaselineScore], primary: str) -> Table:
    """One row per baseline, best first: its chosen hyperparameters and validation metrics at the
    primary objective's K."""
    at = primary.partition("@")[2]
    metrics = (
        [primary, *(m for m in scores[0].valid if m != primary and m.endswith(f"@{at}"))] if scores else []
    )
    ranked = sorted(scores, key=lambda s: s.valid.get(primary, float("-inf")), reverse=True)
    body = [[s.label, *(number(m, s.valid.get(m)) for m in metrics), f"{s.seconds:.1f}"] for s in ranked]
    headers = ["baseline", *(f"valid {m}" for m in metrics), "fit seconds"]
    return Table(headers, body, frozenset(range(1, len(headers))))


def searched_winner(
    final: Sequence[Standing], best: TrialRecord | None, objectives: Objectives
) -> tuple[float | None, str, dict[str, Any]]:
    """The winner's validation value of the primary objective, what it is (the final stage's mean over
    seeds, else the best screening trial's value) and its architecture as logged."""
    won = winner(final)
    if won is not None and won.mean is not None:
        label = f"{won.entry.label}, mean of {len(won.values)} full-budget seeds"
        return won.mean, label, won.runs[0].record.architecture
    if best is not None and best.result.values:
        return best.result.values[0], f"trial {best.candidate.trial}, screening", best.architecture
    return None, "", {}


def _branch_note(architecture: dict[str, Any]) -> str:
    """What the winner owes a closed-form model: its branch and weight (nothing without one)."""
    branch = architecture.get("branch", "none")
    if branch == "none":
        return ""
    return f"; its ranking mixes in a closed-form {branch} branch at weight {architecture.get('branch_mix')}"


def baseline_verdict(
    scores: Sequence[BaselineScore],
    final: Sequence[Standing],
    best: TrialRecord | None,
    objectives: Objectives,
) -> list[str]:
    """Whether the searched winner beats the strongest baseline on validation, said plainly either way
    (nothing when there are no baselines or the primary objective is a cost, not a ranking metric)."""
    metric = objectives.primary.metric
    if metric in COST_METRICS or not scores:
        return []
    value, how, architecture = searched_winner(final, best, objectives)
    strongest = max(scores, key=lambda s: s.valid[metric])
    base = strongest.valid[metric]
    if value is None:
        return []
    gain = (value / base - 1) * 100 if base else float("nan")
    if value > base:
        return [
            f"the searched winner ({how}: validation {metric} {value:.4f}) beats the strongest baseline, "
            f"{strongest.label} ({base:.4f}), by {gain:+.1f}%{_branch_note(architecture)}"
        ]
    return [
        f"no searched model beats the strongest baseline on validation: {strongest.label} scores {metric} "
        f"{base:.4f}, the searched winner ({how}) {value:.4f} ({gain:+.1f}%){_branch_note(architecture)}. "
        "best.yaml is the best "
        f"searched model, not the best model for this data; a baseline file (search_spaces/"
        f"{strongest.model}.yaml) trains {strongest.model} with gnas train"
    ]

"""Refuse a baseline whose item-item matrices would not fit, before anything is allocated (the
closed-form counterpart of :func:`gnas.models.cost.check_fits`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from gnas.baselines.base import FLOAT64, Baseline
from gnas.errors import GnasError
from gnas.models.cost import GIB, available_memory

# dense score rows alive while a batch is ranked: the model's product, its dense copy, the low-pass
# part (GF-CF) and the evaluator's masked copy
SCORE_COPIES = 4


def baseline_memory(
    model: type[Baseline],
    points: Sequence[Mapping[str, float]],
    num_users: int,
    num_items: int,
    nnz: int,
    batch_size: int = 1024,
) -> tuple[float, str]:
    """Peak bytes of fitting every grid point in turn while the best so far is kept, and scoring
    ``batch_size`` users at a time; with what they hold, in words."""
    needs = [model.memory(num_users, num_items, nnz, point) for point in points]
    worst = max(needs, key=lambda n: n.fit)
    kept = max(n.kept for n in needs) if len(needs) > 1 else 0.0
    scoring = SCORE_COPIES * min(batch_size, num_users) * num_items * FLOAT64
    what = worst.what + (", plus the best grid point kept while the next is fitted" if kept else "")
    return worst.fit + kept + scoring, what


def check_baseline_fits(
    model: type[Baseline],
    points: Sequence[Mapping[str, float]],
    num_users: int,
    num_items: int,
    nnz: int,
    device: torch.device | str,
    limit: float | None = None,
    batch_size: int = 1024,
) -> float:
    """Raise a one-line :class:`GnasError` (size and limit) when the fit would not fit ``device``'s free
    memory (or ``limit`` bytes); return the estimate otherwise."""
    need, what = baseline_memory(model, points, num_users, num_items, nnz, batch_size)
    have = float(limit) if limit is not None else float(available_memory(device))
    if need > have:
        raise GnasError(
            f"baseline {model.name} needs ~{need / GIB:.2f} GiB on {num_users:,} users x {num_items:,} items "
            f"({what}), device {torch.device(device)} has {have / GIB:.2f} GiB"
            f"{' (limit)' if limit is not None else ' available'}"
        )
    return need

"""Refuse a baseline whose item-item matrices would not fit, before anything is allocated (the
closed-form counterpart of :func:`gnas.models.cost.check_fits`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from gnas.baselines.base import Baseline
from gnas.errors import GnasError
from gnas.models.cost import GIB, available_memory


def baseline_memory(
    model: type[Baseline], points: Sequence[Mapping[str, float]], num_users: int, num_items: int, nnz: int
) -> tuple[float, str]:
    """Peak bytes of fitting every grid point in turn while the best so far is kept, and what they
    hold (in words)."""
    needs = [model.memory(num_users, num_items, nnz, point) for point in points]
    worst = max(needs, key=lambda n: n.fit)
    kept = max(n.kept for n in needs) if len(needs) > 1 else 0.0
    what = worst.what + (", plus the best grid point kept while the next is fitted" if kept else "")
    return worst.fit + kept, what


def check_baseline_fits(
    model: type[Baseline],
    points: Sequence[Mapping[str, float]],
    num_users: int,
    num_items: int,
    nnz: int,
    device: torch.device | str,
    limit: float | None = None,
) -> float:
    """Raise a one-line :class:`GnasError` (size and limit) when the fit would not fit ``device``'s free
    memory (or ``limit`` bytes); return the estimate otherwise."""
    need, what = baseline_memory(model, points, num_users, num_items, nnz)
    have = float(limit) if limit is not None else float(available_memory(device))
    if need > have:
        raise GnasError(
            f"baseline {model.name} needs ~{need / GIB:.2f} GiB on {num_users:,} users x {num_items:,} items "
            f"({what}), device {torch.device(device)} has {have / GIB:.2f} GiB"
            f"{' (limit)' if limit is not None else ' available'}"
        )
    return need

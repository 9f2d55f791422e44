"""Numbers that describe a loaded data set (``gnas datasets info``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gnas.data.interactions import TEST, TRAIN, VALID, Interactions


def items_with_text(data: Interactions) -> int:
    """How many items have at least one non-blank text field."""
    if data.item_text is None or data.item_text.empty:
        return 0
    text = data.item_text.astype(str).apply(lambda column: column.str.strip() != "")
    return int(text.any(axis=1).sum())


def dataset_summary(data: Interactions) -> dict[str, Any]:
    """Plain-Python numbers (JSON-ready): sizes, density, interactions per user, text and split facts."""
    per_user = np.bincount(data.user, minlength=data.num_users)
    cells = data.num_users * data.num_items
    summary: dict[str, Any] = {
        "name": data.name,
        "users": data.num_users,
        "items": data.num_items,
        "interactions": len(data),
        "density": len(data) / cells if cells else 0.0,
        "per_user_min": int(per_user.min()) if len(per_user) else 0,
        "per_user_median": float(np.median(per_user)) if len(per_user) else 0.0,
        "per_user_max": int(per_user.max()) if len(per_user) else 0,
        "items_with_text": items_with_text(data),
        "has_timestamps": data.timestamp is not None,
        "fixed_split": data.fixed_part is not None,
    }
    if data.fixed_part is not None:
        summary["train_interactions"] = int((data.fixed_part == TRAIN).sum())
        if (data.fixed_part == VALID).any():
            summary["valid_interactions"] = int((data.fixed_part == VALID).sum())
        summary["test_interactions"] = int((data.fixed_part == TEST).sum())
    return summary

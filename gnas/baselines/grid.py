"""A baseline's hyperparameter grid as written in YAML: checked against the model, expanded to points."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from gnas.baselines import BASELINES
from gnas.baselines.base import Baseline


def baseline_class(name: str) -> type[Baseline]:
    """The registered class of ``name``; an unknown name raises a ValueError listing the known ones."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; expected one of {', '.join(BASELINES)}")
    return BASELINES[name]


def check_grid(name: str, grid: Mapping[str, Any]) -> dict[str, list[float]]:
    """Each hyperparameter's values (a single value counts as a one-value list), checked; a problem
    raises a ValueError whose message starts with the YAML key (``grid.l2``)."""
    model = baseline_class(name)
    checked: dict[str, list[float]] = {}
    for key, values in grid.items():
        if key not in model.hyperparameters:
            known = ", ".join(model.hyperparameters) or "none"
            raise ValueError(f"grid.{key}: unknown hyperparameter of {name} (it has: {known})")
        listed = values if isinstance(values, list) else [values]
        if not listed:
            raise ValueError(f"grid.{key}: give at least one value")
        try:
            checked[key] = [model.hyperparameters[key].check(v) for v in listed]
        except ValueError as exc:
            raise ValueError(f"grid.{key}: {exc}") from None
    return checked


def grid_points(name: str, grid: Mapping[str, Any]) -> list[dict[str, float]]:
    """Every combination of the grid's values (in the file's order), the other hyperparameters at
    their defaults."""
    model = baseline_class(name)
    checked = check_grid(name, grid)
    defaults = {key: [hp.check(hp.default)] for key, hp in model.hyperparameters.items()}
    axes = {**defaults, **checked}
    return [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())]

"""Closed-form baselines, one module each; ``BASELINES`` maps the name used in YAML to its class.

Adding a baseline: one file here with a :class:`~gnas.baselines.base.Baseline` subclass (its paper and
maths in the docstring, its hyperparameters and memory need) and one line in ``BASELINES``; the name
becomes valid under ``baseline.model`` in a train file. :func:`fit_and_score` fits a grid on an already
loaded split and chooses on validation (what a search calls); ``train_baseline`` (``gnas.baselines.run``)
is ``gnas train`` for a baseline file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gnas.baselines.base import Baseline, HyperParameter
from gnas.baselines.ease import EASE
from gnas.baselines.gfcf import GFCF
from gnas.baselines.itemknn import ItemKNN
from gnas.baselines.polynomial import PolynomialFilter
from gnas.baselines.popularity import Popularity

if TYPE_CHECKING:
    from gnas.baselines.fit import BaselineResult, GridPoint, fit_and_score

BASELINES: dict[str, type[Baseline]] = {
    "popularity": Popularity,
    "itemknn": ItemKNN,
    "ease": EASE,
    "gfcf": GFCF,
    "polynomial": PolynomialFilter,
}

__all__ = ["BASELINES", "Baseline", "BaselineResult", "GridPoint", "HyperParameter", "fit_and_score"]


def __getattr__(name: str) -> Any:
    """The fitting API, imported on first use (``gnas.spec`` reads ``BASELINES`` while it is parsed)."""
    if name in ("BaselineResult", "GridPoint", "fit_and_score"):
        import gnas.baselines.fit as fit

        return getattr(fit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

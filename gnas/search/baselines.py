"""Baselines beside a search's result: the closed-form models a practitioner tries first, fitted once on
the search's own split (train part; grid chosen on validation; test never read), kept in the run folder
(``baselines.json``) and compared with the winner on validation in the summary and the report.

A search file names them under ``search.baselines`` (``gnas.spec.BaselineSpec`` entries, or just model
names); by default popularity, ItemKNN and EASE, EASE only where its items x items matrices fit in
memory. An explicitly named baseline that does not fit is a one-line error before the search starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gnas.data.split import Split
from gnas.errors import GnasError
from gnas.runs import write_json
from gnas.spec import BaselineSpec, TrainingSpec

BASELINES_FILE = "baselines.json"
DEFAULT_BASELINES = (
    BaselineSpec(model="popularity"),
    BaselineSpec(model="itemknn"),
    BaselineSpec(model="ease", grid={"l2": [100, 250, 500, 1000]}),
)


@dataclass(frozen=True)
class BaselineScore:
    """One fitted baseline: its chosen hyperparameters, validation metrics and fit seconds."""

    model: str
    params: dict[str, float]
    valid: dict[str, float]
    seconds: float

    @property
    def label(self) -> str:
        """``ease (l2 250)``."""
        shown = ", ".join(f"{key} {value:g}" for key, value in self.params.items())
        return f"{self.model} ({shown})" if shown else self.model


@dataclass(frozen=True)
class BaselinePlan:
    """The baselines a search fits, and the defaults left out (with why)."""

    specs: tuple[BaselineSpec, ...]
    skipped: tuple[str, ...] = ()


def plan_baselines(
    specs: Sequence[BaselineSpec] | None, split: Split, training: TrainingSpec, device: Any = "cpu"
) -> BaselinePlan:
    """Check every baseline's name, grid and memory need before anything is written. ``specs`` None: the
    defaults, a default that does not fit being left out with a note; a named one that does not fit is
    a :class:`GnasError` naming ``search.baselines``."""
    import torch

    from gnas.baselines.fit import check_baseline, train_matrix

    train = train_matrix(split)
    chosen, skipped = [], []
    for spec in DEFAULT_BASELINES if specs is None else specs:
        try:
            check_baseline(spec.model, spec.grid, train, training, torch.device(device))
        except GnasError as exc:
            if specs is not None:
                raise GnasError(f"search.baselines: {exc}") from None
            skipped.append(f"{spec.model} left out: {exc}")
            continue
        chosen.append(spec)
    return BaselinePlan(tuple(chosen), tuple(skipped))


def fit_baselines(
    plan: BaselinePlan,
    split: Split,
    training: TrainingSpec,
    *,
    seed: int,
    on_fit: Callable[[BaselineSpec], None] | None = None,
) -> list[BaselineScore]:
    """Fit each planned baseline's grid on train and keep its best point on validation (no test)."""
    from gnas.baselines.fit import fit_and_score

    scores = []
    for spec in plan.specs:
        if on_fit is not None:
            on_fit(spec)
        result = fit_and_score(spec.model, spec.grid, split, training, "cpu", seed=seed)
        scores.append(BaselineScore(spec.model, result.params, result.valid, round(result.seconds, 3)))
    return scores


def write_baselines(run_path: Path, scores: Sequence[BaselineScore], skipped: Sequence[str]) -> None:
    write_json(
        run_path / BASELINES_FILE, {"baselines": [asdict(s) for s in scores], "skipped": list(skipped)}
    )


def read_baselines(run_path: Path) -> tuple[list[BaselineScore], list[str]] | None:
    """The run's fitted baselines and skip notes; None when it has none yet (older runs, or a search
    stopped before they were fitted)."""
    path = run_path / BASELINES_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return [BaselineScore(**entry) for entry in data["baselines"]], list(data.get("skipped", []))
    except (ValueError, KeyError, TypeError) as exc:
        raise GnasError(f"{path}: not a baselines file ({type(exc).__name__}: {exc})") from None


def baselines_of_run(
    run_path: Path,
    plan: BaselinePlan,
    split: Split,
    training: TrainingSpec,
    *,
    seed: int,
    on_fit: Callable[[BaselineSpec], None] | None = None,
) -> tuple[list[BaselineScore], list[str]]:
    """The run's baselines: read back when fitted before (a resume), else fitted now and written."""
    stored = read_baselines(run_path)
    if stored is not None:
        return stored
    scores = fit_baselines(plan, split, training, seed=seed, on_fit=on_fit)
    write_baselines(run_path, scores, plan.skipped)
    return scores, list(plan.skipped)


def baselines_frame(scores: Sequence[BaselineScore]) -> list[dict[str, Any]]:
    """One row per baseline for ``baselines.csv``: model and hyperparameters, validation metrics, seconds."""
    return [
        {"baseline": s.label, **{f"valid {k}": v for k, v in s.valid.items()}, "seconds": s.seconds}
        for s in scores
    ]


def best_baseline(scores: Sequence[BaselineScore], metric: str) -> BaselineScore | None:
    return max(scores, key=lambda s: s.valid[metric], default=None)

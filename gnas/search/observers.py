"""What else sees every trial record besides ``trials.jsonl``: the Optuna study mirror (always) and
TensorBoard curves (on request). A failing observer warns once and stops; the search goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from gnas.search.controllers.base import Controller
from gnas.search.mirror import open_mirror
from gnas.search.objectives import Objectives
from gnas.search.runlog import TrialRecord
from gnas.search.tensorboard import require_tensorboard, tensorboard_writer
from gnas.space import SearchFile

TrialObserver = Callable[[TrialRecord], None]
log = logging.getLogger(__name__)

__all__ = ["TrialObserver", "require_tensorboard", "trial_observers"]


def _guarded(observer: TrialObserver, what: str) -> TrialObserver:
    broken: list[str] = []

    def observe(record: TrialRecord) -> None:
        if broken:
            return
        try:
            observer(record)
        except Exception as exc:  # a dashboard file must never cost the search
            broken.append(str(exc))
            log.warning("%s stopped: %s: %s", what, type(exc).__name__, exc)

    return observe


def trial_observers(
    run_dir: Path,
    controller: Controller,
    objectives: Objectives,
    file: SearchFile,
    tensorboard: bool = False,
    past: Sequence[TrialRecord] = (),
) -> list[TrialObserver]:
    """The observers of a run; ``past`` records (a resumed run's) are added to the study if it lacks them."""
    observers: list[TrialObserver] = []
    try:
        mirror = open_mirror(run_dir, controller, file.space, objectives)
        if mirror is not None:
            mirror.sync(past)
            observers.append(_guarded(mirror.add, "recording trials in study.db"))
    except Exception as exc:  # a locked or damaged study.db must never cost the search
        log.warning("recording trials in study.db stopped: %s: %s", type(exc).__name__, exc)
    if tensorboard:
        observers.append(_guarded(tensorboard_writer(run_dir, file.training.metric), "TensorBoard logging"))
    return observers

"""Controller name -> constructor. Adding a controller is one module and one line here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gnas.errors import GnasError
from gnas.search.candidate import Budget
from gnas.search.controllers.base import Controller
from gnas.search.controllers.evolution import EvolutionController
from gnas.search.controllers.optuna import OptunaController, study_url
from gnas.search.controllers.random import RandomController
from gnas.search.controllers.regularized import RegularizedEvolutionController
from gnas.search.objectives import Objectives
from gnas.search.settings import SearchSettings
from gnas.space import SearchSpace


@dataclass(frozen=True)
class ControllerRequest:
    """Everything a controller may be built from: the settings, the space and objectives, the seed,
    the full training budget, the run folder (None: nothing on disk) and whether the run is resumed."""

    settings: SearchSettings
    space: SearchSpace
    objectives: Objectives
    seed: int
    full_budget: Budget
    run_dir: Path | None
    resume: bool = False


def _optuna(r: ControllerRequest) -> Controller:
    """The study is named after the run folder and kept in its ``study.db`` unless a storage is set."""
    storage = r.settings.optuna.storage
    if storage is None and r.run_dir is not None:
        storage = study_url(r.run_dir)
    name = r.run_dir.name if r.run_dir is not None else "gnas"
    controller = OptunaController(
        r.space, r.objectives, r.seed, r.settings.optuna, storage, name, new_study=not r.resume
    )
    controller.study  # noqa: B018 - open the storage now: a bad URL fails before any trial runs
    return controller


CONTROLLERS: dict[str, Callable[[ControllerRequest], Controller]] = {
    "evolution": lambda r: EvolutionController(
        r.space,
        r.objectives,
        r.seed,
        r.settings.evolution,
        r.settings.fidelity,
        r.settings.generations,
        r.full_budget,
    ),
    "optuna": _optuna,
    "random": lambda r: RandomController(r.space, r.objectives, r.seed),
    "regularized": lambda r: RegularizedEvolutionController(
        r.space, r.objectives, r.seed, r.settings.evolution
    ),
}


def build_controller(
    settings: SearchSettings,
    space: SearchSpace,
    objectives: Objectives,
    seed: int,
    full_budget: Budget,
    run_dir: Path | None,
    *,
    resume: bool = False,
) -> Controller:
    """The controller ``settings.controller`` names, set up for this space and run folder (``resume``:
    to load a checkpoint of it next)."""
    if settings.controller not in CONTROLLERS:
        raise GnasError(
            f"search.controller: {settings.controller!r} is not available; known: {', '.join(CONTROLLERS)}"
        )
    request = ControllerRequest(settings, space, objectives, seed, full_budget, run_dir, resume)
    return CONTROLLERS[settings.controller](request)

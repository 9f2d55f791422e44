"""Controller name -> constructor. Adding a controller is one module and one line here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gnas.errors import GnasError
from gnas.search.base import Budget, Controller
from gnas.search.evolution import EvolutionController
from gnas.search.objectives import Objectives
from gnas.search.optuna import OptunaController
from gnas.search.random import RandomController
from gnas.search.regularized import RegularizedEvolutionController
from gnas.search.settings import SearchSettings
from gnas.space import SearchSpace

Factory = Callable[[SearchSettings, SearchSpace, Objectives, int, Budget, "Path | None"], Controller]


def _random(
    settings: SearchSettings,
    space: SearchSpace,
    objectives: Objectives,
    seed: int,
    full: Budget,
    run: Path | None,
) -> Controller:
    return RandomController(space, objectives, seed)


def _evolution(
    settings: SearchSettings,
    space: SearchSpace,
    objectives: Objectives,
    seed: int,
    full: Budget,
    run: Path | None,
) -> Controller:
    return EvolutionController(
        space, objectives, seed, settings.evolution, settings.fidelity, settings.generations, full
    )


def _regularized(
    settings: SearchSettings,
    space: SearchSpace,
    objectives: Objectives,
    seed: int,
    full: Budget,
    run: Path | None,
) -> Controller:
    return RegularizedEvolutionController(space, objectives, seed, settings.evolution)


def _optuna(
    settings: SearchSettings,
    space: SearchSpace,
    objectives: Objectives,
    seed: int,
    full: Budget,
    run: Path | None,
) -> Controller:
    """The study is named after the run folder and kept in its ``study.db`` unless a storage is set."""
    storage = settings.optuna.storage
    if storage is None and run is not None:
        storage = f"sqlite:///{(run / 'study.db').resolve()}"
    name = run.name if run is not None else "gnas"
    controller = OptunaController(space, objectives, seed, settings.optuna, storage, name)
    controller.study  # noqa: B018 - open the storage now: a bad URL fails before any trial runs
    return controller


CONTROLLERS: dict[str, Factory] = {
    "evolution": _evolution,
    "optuna": _optuna,
    "random": _random,
    "regularized": _regularized,
}


def build_controller(
    settings: SearchSettings,
    space: SearchSpace,
    objectives: Objectives,
    seed: int,
    full_budget: Budget,
    run_dir: Path | None,
) -> Controller:
    """The controller ``settings.controller`` names, set up for this space and run folder."""
    if settings.controller not in CONTROLLERS:
        raise GnasError(
            f"search.controller: {settings.controller!r} is not available; known: {', '.join(CONTROLLERS)}"
        )
    return CONTROLLERS[settings.controller](settings, space, objectives, seed, full_budget, run_dir)

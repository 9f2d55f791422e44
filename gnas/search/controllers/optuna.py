"""Optuna as a controller: a study in an RDB storage, asked and told through Optuna's ask/tell interface.

Samplers (``optuna.sampler``): ``tpe`` (default; multivariate TPE with group decomposition, which
models conditional spaces), ``nsga2``, ``nsga3``, ``cmaes`` and ``random``, all seeded. CMA-ES models
numeric genes only (int and float ranges that every trial has); categorical and conditional genes are
drawn by an independent random sampler, and it takes a single objective. Pruners (``median``,
``successive_halving``, ``hyperband``) see the primary metric after each validation pass
(``should_prune``); single objective only. The study lives in its storage (SQLite in the run folder
by default, any SQLAlchemy URL otherwise; ``None``: in memory, which cannot be resumed), so the
controller's state is only where to find it and which trials are still out. An architecture is
handed out once: a sampler's repeat is told FAIL and an untried neighbour of the best so far is
tried instead; the controller is finished when a finite space has no architecture left to try.
"""

from __future__ import annotations

import random
import warnings
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

from gnas.errors import GnasError
from gnas.search.candidate import Candidate, TrialResult
from gnas.search.controllers.base import Controller
from gnas.search.controllers.optuna_space import optuna_params, suggest_genotype, suggest_value
from gnas.search.objectives import Objectives
from gnas.search.settings import OptunaSpec
from gnas.space import Genotype, SearchSpace, count_architectures, untried_neighbour

STUDY_DB = "study.db"


def study_url(run_dir: Path) -> str:
    """The SQLAlchemy URL of a run folder's ``study.db``."""
    return f"sqlite:///{(run_dir / STUDY_DB).resolve()}"


def make_sampler(name: str, seed: int, population: int = 50) -> optuna.samplers.BaseSampler:
    """The seeded sampler ``optuna.sampler`` names; ``population`` sizes NSGA-II/III generations."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        if name == "tpe":
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)
        if name == "nsga2":
            return optuna.samplers.NSGAIISampler(seed=seed, population_size=population)
        if name == "nsga3":
            return optuna.samplers.NSGAIIISampler(seed=seed, population_size=population)
        if name == "cmaes":
            fallback = optuna.samplers.RandomSampler(seed=seed)
            return optuna.samplers.CmaEsSampler(
                seed=seed, independent_sampler=fallback, warn_independent_sampling=False
            )
        if name == "random":
            return optuna.samplers.RandomSampler(seed=seed)
    raise GnasError(
        f"search.optuna.sampler: unknown sampler {name!r} (valid: tpe, nsga2, nsga3, cmaes, random)"
    )


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """The pruner ``optuna.pruner`` names (``none``: never prune)."""
    pruners: dict[str, type[optuna.pruners.BasePruner]] = {
        "none": optuna.pruners.NopPruner,
        "median": optuna.pruners.MedianPruner,
        "successive_halving": optuna.pruners.SuccessiveHalvingPruner,
        "hyperband": optuna.pruners.HyperbandPruner,
    }
    if name not in pruners:
        raise GnasError(f"search.optuna.pruner: unknown pruner {name!r} (valid: {', '.join(pruners)})")
    return pruners[name]()


def _prepare(url: str) -> None:
    """Create the folder of a SQLite file, so a fresh run folder's ``study.db`` can be opened."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)


def _shown(url: str | None) -> str:
    """The storage URL for messages, password hidden."""
    return "memory" if url is None else make_url(url).render_as_string(hide_password=True)


class OptunaController(Controller):
    """Each candidate is a new trial of the study; results are told back with the objectives' directions."""

    name = "optuna"
    finished_reason = "every architecture tried"

    def __init__(
        self,
        space: SearchSpace,
        objectives: Objectives,
        seed: int,
        settings: OptunaSpec | None = None,
        storage_url: str | None = None,
        study_name: str = "gnas",
        new_study: bool = False,
    ) -> None:
        """``new_study``: a study of this name that already holds trials (another search's, in a shared
        storage) is an error rather than continued."""
        super().__init__(space, objectives, seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.settings = settings or OptunaSpec()
        self.storage_url = storage_url
        self.study_name = study_name
        self.new_study = new_study
        self.directions = [spec.direction for spec in objectives.specs]
        if self.settings.sampler == "cmaes" and len(self.directions) > 1:
            raise GnasError("search.optuna.sampler: cmaes takes a single objective; use tpe, nsga2 or nsga3")
        if self.settings.pruner != "none" and len(self.directions) > 1:
            raise GnasError("search.optuna.pruner needs a single objective (pruning compares one metric)")
        make_sampler(
            self.settings.sampler, seed, self.settings.population
        )  # unknown names fail here, before anything is written
        make_pruner(self.settings.pruner)
        self._study: optuna.Study | None = None
        self._storage: optuna.storages.BaseStorage | None = None
        self._pending: dict[int, tuple[int, Candidate]] = {}  # gnas trial -> (optuna number, candidate)
        self._requeued: list[Candidate] = []  # pending when a state was saved: asked again first
        self._trials: dict[int, optuna.Trial] = {}  # optuna number -> live trial
        self._tried_cache: dict[Genotype, int] | None = None
        self._size: int | float | None = None  # architectures in the space

    @property
    def study(self) -> optuna.Study:
        """The study, created (or found, when the storage already has one of this name) on first use."""
        if self._study is None:
            self._attach(create=True)
        assert self._study is not None
        return self._study

    def _attach(self, create: bool) -> None:
        try:
            if self.storage_url is not None:
                _prepare(self.storage_url)
            self._storage = optuna.storages.get_storage(self.storage_url)
        except Exception as exc:  # SQLAlchemy and driver errors vary by backend
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise GnasError(
                f"search.optuna.storage: cannot open {_shown(self.storage_url)}: {first}"
            ) from None
        pruner = make_pruner(self.settings.pruner)
        sampler = make_sampler(self.settings.sampler, self.seed, self.settings.population)
        try:
            if create:
                study = optuna.create_study(
                    storage=self._storage,
                    sampler=sampler,
                    pruner=pruner,
                    study_name=self.study_name,
                    directions=self.directions,
                    load_if_exists=True,
                )
            else:
                study = optuna.load_study(
                    study_name=self.study_name, storage=self._storage, sampler=sampler, pruner=pruner
                )
        except KeyError:
            raise GnasError(f"no Optuna study {self.study_name!r} in {_shown(self.storage_url)}") from None
        wanted = [optuna.study.StudyDirection[d.upper()] for d in self.directions]
        if study.directions != wanted:
            where = _shown(self.storage_url)
            raise GnasError(f"Optuna study {self.study_name!r} in {where} has other objective directions")
        done = len(study.get_trials(deepcopy=False))
        if done and create and self.new_study:
            raise GnasError(
                f"search.optuna.storage: study {self.study_name!r} in {_shown(self.storage_url)} already "
                f"holds {done} trials of another search; choose another --name"
            )
        if done:  # a resumed study: a fresh seed, so the sampler does not replay its first draws
            study.sampler = make_sampler(self.settings.sampler, self.seed + done, self.settings.population)
        self._study = study

    def _trial_id(self, number: int) -> int:
        assert self._storage is not None
        study_id = self._storage.get_study_id_from_name(self.study_name)
        return self._storage.get_trial_id_from_study_id_trial_number(study_id, number)

    def _finished(self, number: int) -> bool:
        assert self._storage is not None
        return self._storage.get_trial(self._trial_id(number)).state.is_finished()

    def _trial(self, number: int) -> optuna.Trial:
        """The live trial with this number (rebuilt from the storage after a resume)."""
        if number not in self._trials:
            self._trials[number] = optuna.Trial(self.study, self._trial_id(number))
        return self._trials[number]

    def _tried(self) -> dict[Genotype, int]:
        """The genotypes handed out so far, by gnas trial number (read from the study on first use).

        A trial asked after the last checkpoint of a stopped run was told FAIL on resume without a
        status: its architecture was never tried.
        """
        if self._tried_cache is None:
            self._tried_cache = {}
            for trial in self.study.get_trials(deepcopy=False):
                attrs = trial.user_attrs
                told = "status" in attrs or trial.state == TrialState.RUNNING
                if told and "gnas_trial" in attrs and "genotype" in attrs:
                    self._tried_cache.setdefault(tuple(attrs["genotype"]), attrs["gnas_trial"])
        return self._tried_cache

    def _suggest(self) -> tuple[optuna.Trial, Genotype]:
        trial = self.study.ask()
        try:
            return trial, suggest_genotype(self.space, partial(suggest_value, trial))
        except Exception:
            self.study.tell(trial, state=TrialState.FAIL)  # no trial left running in the storage
            raise

    def _fail_repeat(self, trial: optuna.Trial, earlier: int) -> None:
        trial.set_user_attr("duplicate_of", earlier)
        self.study.tell(trial, state=TrialState.FAIL)

    def _incumbent(self, rng: random.Random) -> Genotype | None:
        """One of the best architectures so far (the trials tied at the best value, or the Pareto front
        with several objectives), drawn at random; None before any trial of this search completed."""
        tried = self._tried()
        front = [
            trial for trial in self.study.best_trials if tuple(trial.user_attrs.get("genotype", ())) in tried
        ]
        return tuple(rng.choice(front).user_attrs["genotype"]) if front else None

    def _draw(self) -> tuple[optuna.Trial, Genotype] | None:
        """A new trial and its genotype. When the sampler repeats an architecture already tried, an
        untried one a few mutations away from the best so far instead (from the repeat itself before
        any trial completed); None when none is found.

        Samplers converge and then propose architectures already tried again and again (TPE in a
        finite space especially). The repeat is told FAIL with ``duplicate_of`` (samplers ignore
        failed trials; its old value told again would pile more weight onto that point), and the
        first untried architecture on a walk of mutations from the incumbent (a local search step;
        White et al., 2020, found local search strong on NAS benchmarks) is enqueued as the next
        trial.
        """
        trial, genotype = self._suggest()
        tried = self._tried()
        if genotype not in tried:
            return trial, genotype
        earlier = tried[genotype]
        self._fail_repeat(trial, earlier)
        rng = random.Random(f"{self.seed}:{trial.number}")
        start = self._incumbent(rng)
        if start is None:
            start = genotype
        neighbour = untried_neighbour(self.space, start, tried, rng)
        if neighbour is None:
            return None
        self.study.enqueue_trial(
            optuna_params(self.space, neighbour), user_attrs={"neighbour_of": tried[start]}
        )
        trial, genotype = self._suggest()
        if genotype in tried:  # another waiting trial of the study came first
            self._fail_repeat(trial, tried[genotype])
            return None
        return trial, genotype

    @property
    def finished(self) -> bool:
        """Every architecture of a finite space was handed out, and none waits to be asked again."""
        if self._size is None:
            self._size = count_architectures(self.space)
        return not self._requeued and len(self._tried()) >= self._size

    def ask(self, n: int) -> list[Candidate]:
        candidates, self._requeued = self._requeued[:n], self._requeued[n:]
        for _ in range(n - len(candidates)):
            drawn = self._draw()
            if drawn is None:
                break
            trial, genotype = drawn
            origin = "neighbour" if "neighbour_of" in trial.user_attrs else self.settings.sampler
            candidate = Candidate(self._new_trial(), genotype, origin=origin)
            self._tried().setdefault(genotype, candidate.trial)
            trial.set_user_attr("gnas_trial", candidate.trial)
            trial.set_user_attr("genotype", list(genotype))
            trial.set_user_attr("budget", asdict(candidate.budget))
            self._pending[candidate.trial] = (trial.number, candidate)
            self._trials[trial.number] = trial
            candidates.append(candidate)
        return candidates

    def tell(self, candidate: Candidate, result: TrialResult) -> None:
        if candidate.trial not in self._pending:
            raise ValueError(f"trial {candidate.trial} was not asked of this controller, or already told")
        number, _ = self._pending.pop(candidate.trial)
        self._requeued = [c for c in self._requeued if c.trial != candidate.trial]
        trial = self._trial(number)
        self._trials.pop(number)
        if self._finished(number):
            return  # told before the last checkpoint was written
        trial.set_user_attr("status", result.status)
        trial.set_user_attr("metrics", {name: float(value) for name, value in result.metrics.items()})
        trial.set_user_attr("epochs", result.epochs)
        if result.error:
            trial.set_user_attr("error", result.error)
        if result.status == "ok":
            values = result.values or self.objectives.values(result.metrics)
            self.study.tell(trial, list(values))
        else:
            self.study.tell(trial, state=TrialState.PRUNED if result.status == "pruned" else TrialState.FAIL)

    def should_prune(self, candidate: Candidate, step: int, value: float) -> bool:
        """Report the primary metric at ``step`` and ask the pruner (always False with several objectives)."""
        if len(self.directions) > 1 or candidate.trial not in self._pending:
            return False
        trial = self._trial(self._pending[candidate.trial][0])
        trial.report(float(value), step)
        return trial.should_prune()

    @property
    def pending(self) -> list[Candidate]:
        """Candidates asked but not told yet (after a resume: evaluate them again, or tell them failed)."""
        return [candidate for _, candidate in self._pending.values()]

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "study_name": self.study_name,
            "storage": self.storage_url,
            "pending": [
                {"number": number, "candidate": candidate.to_json()}
                for number, candidate in self._pending.values()
            ],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.study_name, self.storage_url = state["study_name"], state["storage"]
        self._trials, self._tried_cache = {}, None
        if self.storage_url is None and self._study is None:
            raise GnasError("an in-memory Optuna study cannot be resumed; set search.optuna.storage")
        if self.storage_url is not None:
            self._attach(create=False)
        self._pending = {}
        for entry in state["pending"]:
            candidate, number = Candidate.from_json(entry["candidate"]), int(entry["number"])
            if not self._finished(number):
                self._pending[candidate.trial] = (number, candidate)
        self._requeued = sorted((c for _, c in self._pending.values()), key=lambda c: c.trial)
        numbers = {number for number, _ in self._pending.values()}
        for trial in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if trial.number not in numbers:  # asked after the last checkpoint: its candidate is gone
                self.study.tell(trial.number, state=TrialState.FAIL)

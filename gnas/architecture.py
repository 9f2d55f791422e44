"""The typed architecture that a genotype decodes to and ``gnas train`` builds.

Global choices plus one block per layer.

Its canonical form drops what cannot matter (heads of a LightGCN layer, the aggregation of a GAT
layer, the temperature of dot-product scoring), so two architectures that build the same model
compare and hash equal.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CONVS = ("lightgcn", "gcn", "sage", "gat", "gatv2")
ATTENTION_CONVS = ("gat", "gatv2")
AGGREGATING_CONVS = ("sage",)
ACTIVATIONS = ("identity", "relu", "leaky_relu", "elu", "gelu")
NORMS = ("none", "batch", "layer")
COMBINATIONS = ("last", "mean", "sum", "max", "concat", "attention")
SCORES = ("dot", "cosine")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerArch(_Frozen):
    """One message-passing layer.

    ``hidden`` is the layer's output width (per head when heads are concatenated; ``None`` keeps the
    input width; LightGCN layers always keep it). ``heads``/``concat_heads``/``attention_dropout``
    apply to attention convs, ``aggr`` to convs with a choice of neighbour aggregation.
    """

    conv: Literal["lightgcn", "gcn", "sage", "gat", "gatv2"] = "lightgcn"
    hidden: int | None = Field(None, ge=1)
    heads: int = Field(1, ge=1)
    concat_heads: bool = False
    aggr: Literal["sum", "mean", "max"] = "sum"
    activation: Literal["identity", "relu", "leaky_relu", "elu", "gelu"] = "identity"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    attention_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    residual: bool = False
    norm: Literal["none", "batch", "layer"] = "none"

    def canonical(self) -> LayerArch:
        """The same layer with every field that this conv ignores set to its default."""
        defaults = LayerArch()
        changes: dict[str, Any] = {}
        if self.conv not in ATTENTION_CONVS:
            changes.update(heads=1, concat_heads=False, attention_dropout=0.0)
        elif self.heads == 1:
            changes.update(concat_heads=False)
        if self.conv not in AGGREGATING_CONVS:
            changes.update(aggr=defaults.aggr)
        if self.conv == "lightgcn":
            changes.update(hidden=None)
        return self.model_copy(update=changes)


class Architecture(_Frozen):
    """A whole recommender: ID embeddings, ``layers``, how layer outputs combine, how pairs are scored.

    In YAML, ``num_layers: N`` with ``layers`` a single mapping (or absent) repeats that layer N times.
    """

    embedding_dim: int = Field(64, ge=1)
    layers: tuple[LayerArch, ...] = (LayerArch(), LayerArch(), LayerArch())
    combine: Literal["last", "mean", "sum", "max", "concat", "attention"] = "mean"
    score: Literal["dot", "cosine"] = "dot"
    temperature: float = Field(0.2, gt=0.0)

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
        if self.score == "dot":
            changes["temperature"] = Architecture().temperature
        if not self.layers:
            changes["combine"] = "last"
        return self.model_copy(update=changes)

"""Helpers shared by the search-space tests: random spaces, an independent membership oracle and
exhaustive enumeration."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

import gnas.architecture as architecture
from gnas.architecture import Architecture, LayerArch
from gnas.space import SearchSpace, decode, sample


def subset(draw: Any, values: tuple[Any, ...] | list[Any], min_size: int = 1, max_size: int = 9) -> list[Any]:
    size = min(len(values), max(max_size, min_size))
    return list(draw(st.lists(st.sampled_from(list(values)), min_size=min_size, max_size=size, unique=True)))


OPTIONAL = (
    "heads",
    "concat_heads",
    "aggr",
    "dropout",
    "attention_dropout",
    "residual",
    "hidden",
    "activation",
)


@st.composite
def layer_specs(draw: Any, discrete: bool = False, small: bool = False) -> dict[str, Any]:
    """A layer mapping with conditions on the same layer (incl. on heads) and on globals.

    ``small`` keeps at most two optional fields and two convs (for exhaustive enumeration).
    """
    width = 2 if small else 9
    spec: dict[str, Any] = {"conv": subset(draw, architecture.CONVS, max_size=width)}
    chosen = set(subset(draw, OPTIONAL, min_size=0, max_size=width if small else len(OPTIONAL)))
    if "heads" in chosen:
        heads: dict[str, Any] = {"type": "choice", "values": subset(draw, [1, 2, 4], max_size=width)}
        if draw(st.booleans()):
            heads["when"] = {"conv": subset(draw, architecture.CONVS)}
        spec["heads"] = heads
    if "concat_heads" in chosen:
        concat: dict[str, Any] = {"type": "bool"}
        if draw(st.booleans()):
            concat["when"] = {"heads": subset(draw, [1, 2, 4])}
        spec["concat_heads"] = concat
    if "aggr" in chosen:
        spec["aggr"] = subset(draw, ["sum", "mean", "max"], max_size=width)
    if "dropout" in chosen:
        dropout: dict[str, Any] = (
            {"type": "choice", "values": subset(draw, [0.0, 0.2, 0.4], max_size=width)}
            if discrete or draw(st.booleans())
            else {"type": "float", "low": 0.0, "high": 0.5}
        )
        if draw(st.booleans()):
            dropout["when"] = {"conv": subset(draw, architecture.CONVS)}
        spec["dropout"] = dropout
    if "attention_dropout" in chosen:
        spec["attention_dropout"] = {"type": "choice", "values": [0.0, 0.1], "when": {"heads": [2, 4]}}
    if "residual" in chosen:
        residual: dict[str, Any] = {"type": "bool"}
        if draw(st.booleans()):
            residual["when"] = {"num_layers": subset(draw, [1, 2, 3])}
        spec["residual"] = residual
    if "hidden" in chosen:
        spec["hidden"] = subset(draw, [None, 8])
    if "activation" in chosen:
        spec["activation"] = subset(draw, ["identity", "relu"])
    return spec


@st.composite
def space_dicts(
    draw: Any, discrete: bool = False, max_layers: int = 3, small: bool = False
) -> dict[str, Any]:
    """A random ``space:`` mapping covering every dimension type, both layer forms and conditions."""
    low = draw(st.integers(0, 2))
    high = draw(st.integers(max(low, 1), max_layers))
    low = min(low, high)
    space: dict[str, Any] = {
        "num_layers": draw(
            st.sampled_from([{"type": "int", "low": low, "high": high}, list(range(low, high + 1))])
        )
    }
    width = 2 if small else 9
    if draw(st.booleans()):
        space["embedding_dim"] = draw(
            st.sampled_from(
                [subset(draw, [8, 16, 32], max_size=width), {"type": "int", "low": 8, "high": 24, "step": 8}]
            )
        )
    if draw(st.booleans()):
        space["combine"] = subset(draw, ["mean", "last", "concat"], max_size=width)
    if draw(st.booleans()):
        space["score"] = ["dot", "cosine"]
    if draw(st.booleans()):
        temperature: dict[str, Any] = (
            {"type": "choice", "values": [0.1, 0.5]}
            if discrete or draw(st.booleans())
            else {"type": "float", "low": 0.05, "high": 1.0, "log": True}
        )
        if draw(st.booleans()):
            temperature["when"] = {"score": "cosine"}
        space["temperature"] = temperature
    if draw(st.booleans()):
        space["layers"] = draw(layer_specs(discrete, small))
    else:
        space["layers"] = [draw(layer_specs(discrete, small)) for _ in range(high)]
    return space


# --- an oracle written from the YAML, independent of gnas.space's parsed objects ----------------------

# Two valid values per field: changing a field to one that differs from its value and finding the same
# canonical architecture means the canonical form ignores it.
PROBES: dict[str, tuple[Any, Any]] = {
    "embedding_dim": (3, 5),
    "combine": ("sum", "max"),
    "score": ("cosine", "dot"),
    "temperature": (0.77, 0.66),
    "conv": ("sage", "gcn"),
    "hidden": (3, 5),
    "heads": (8, 3),
    "concat_heads": (True, False),
    "aggr": ("max", "mean"),
    "activation": ("gelu", "elu"),
    "dropout": (0.9, 0.8),
    "attention_dropout": (0.9, 0.8),
    "residual": (True, False),
    "norm": ("layer", "batch"),
}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    return bool(a == b)


def in_domain(spec: Any, value: Any, default: Any) -> bool:
    """Whether ``value`` is one of the values the YAML ``spec`` of a field allows."""
    if spec is None:
        return same(value, default)
    if isinstance(spec, list):
        return any(same(value, v) for v in spec)
    if not isinstance(spec, dict):
        return same(value, spec)
    kind = spec["type"]
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "choice":
        return in_domain(spec["values"], value, default)
    if kind == "int":
        step = spec.get("step", 1)
        return spec["low"] <= value <= spec["high"] and (value - spec["low"]) % step == 0
    return bool(spec["low"] <= value <= spec["high"])


def _check_field(node: Any, name: str, spec: Any, default: Any, holds: bool) -> str | None:
    value = getattr(node, name)
    if not holds:
        if node.model_copy(update={name: default}).canonical() != node:
            return f"{name}={value!r} although its condition fails"
        return None
    probe = next(p for p in PROBES[name] if not same(p, value))
    if in_domain(spec, value, default) or node.model_copy(update={name: probe}).canonical() == node:
        return None
    return f"{name}={value!r} outside {spec!r}"


def _holds(when: dict[str, Any], value_of: Any) -> bool:
    return all(
        any(same(value_of(key), v) for v in (accepted if isinstance(accepted, list) else [accepted]))
        for key, accepted in when.items()
    )


def violation(space: dict[str, Any], arch: Architecture) -> str | None:
    """Why ``arch`` cannot come from ``space`` (None when it can), checked field by field."""
    arch = arch.canonical()
    defaults = Architecture()
    if not in_domain(space.get("num_layers"), arch.num_layers, 3):
        return f"num_layers={arch.num_layers}"
    for name in ("embedding_dim", "combine", "score", "temperature"):
        spec = space.get(name)
        when = spec.get("when", {}) if isinstance(spec, dict) else {}
        holds = _holds(when, lambda key: getattr(arch, key))
        problem = _check_field(arch, name, spec, getattr(defaults, name), holds)
        if problem:
            return problem
    layers = space.get("layers")
    for index, layer in enumerate(arch.layers):
        block = layers[index] if isinstance(layers, list) else (layers or {})

        def value_of(key: str, layer: LayerArch = layer) -> Any:
            if key == "num_layers":
                return arch.num_layers
            return getattr(layer if key in LayerArch.model_fields else arch, key)

        for name in LayerArch.model_fields:
            spec = block.get(name)
            when = spec.get("when", {}) if isinstance(spec, dict) else {}
            problem = _check_field(layer, name, spec, getattr(LayerArch(), name), _holds(when, value_of))
            if problem:
                return f"layers[{index}].{problem}"
    return None


# --- exhaustive enumeration ------------------------------------------------------------------------


class Replay(random.Random):
    """A random source that replays a script of ``randrange`` answers and records each call's range."""

    def __init__(self, script: list[int]) -> None:
        super().__init__(0)
        self.script = script
        self.ranges: list[int] = []

    def randrange(self, n: int) -> int:  # type: ignore[override]
        position = len(self.ranges)
        self.ranges.append(n)
        return self.script[position] if position < len(self.script) else 0


def enumerate_architectures(space: SearchSpace, limit: int = 20_000) -> set[Architecture] | None:
    """Every architecture ``sample`` can draw from a discrete space: an odometer over its choices.

    ``None`` when that takes more than ``limit`` draws.
    """
    found: set[Architecture] = set()
    script: list[int] = []
    for _ in range(limit):
        replay = Replay(script)
        found.add(decode(space, sample(space, replay)))
        ranges = replay.ranges
        script = (script + [0] * len(ranges))[: len(ranges)]
        while script and script[-1] + 1 >= ranges[len(script) - 1]:
            script.pop()
        if not script:
            return found
        script[-1] += 1
    return None

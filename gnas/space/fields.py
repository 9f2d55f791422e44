"""The fields a search space varies, read from ``gnas.architecture`` at run time.

Global fields are ``Architecture``'s, with ``num_layers`` in place of ``layers``; layer fields are
``LayerArch``'s; both in declaration order, which is the genotype's gene order. Training fields are the
``TrainingSpec`` settings of ``gnas.space.training`` (``lr``, ``loss``, ...), checked by ``TrainingSpec``.
Names, defaults and allowed values come from the pydantic models (``Literal`` annotations) or the
module's name lists, so a conv added to the model registry is a valid choice here without any change.

What the canonical form ignores is found out by probing ``canonical()`` itself: a field is *ignored*
in an architecture when changing it leaves the canonical form unchanged, and a field *influences*
another when changing it can change whether the other is ignored (``conv`` influences ``heads``).
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union

from pydantic import BaseModel, ValidationError

import gnas.architecture as architecture
from gnas.architecture import Architecture, LayerArch
from gnas.space.problems import show
from gnas.space.training import TRAINING_GENES, TrainingGenes
from gnas.spec import TrainingSpec

GLOBAL = "global"
LAYER = "layer"
TRAINING = "training"
NUM_LAYERS = "num_layers"

# Where a field's names live when its annotation is not a Literal (e.g. once they come from registries).
_NAME_LISTS = {
    "conv": "CONVS",
    "activation": "ACTIVATIONS",
    "norm": "NORMS",
    "combine": "COMBINATIONS",
    "score": "SCORES",
    "aggr": "AGGREGATIONS",
    "fusion_op": "FUSIONS",
    "branch": "BRANCHES",
}
_CANDIDATES: dict[str, tuple[Any, ...]] = {
    "bool": (False, True),
    "int": (1, 2, 4, 0),
    "float": (0.0, 0.5, 0.1, 1.0),
    "none": (None,),
}
_KIND_OF_TYPE = {bool: "bool", int: "int", float: "float", str: "str", type(None): "none"}


def same(a: Any, b: Any) -> bool:
    """Equal as YAML values: ``True`` is not ``1`` and ``None`` is only ``None``; ``1 == 1.0``."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return bool(a == b)


@dataclass(frozen=True)
class FieldInfo:
    """One field: its scope, default, allowed names (when categorical), value kinds and probe values."""

    name: str
    scope: str
    default: Any
    choices: tuple[Any, ...] | None
    kinds: frozenset[str]
    probes: tuple[Any, ...]

    def check(self, value: Any) -> Any:
        """The value as the model stores it; ValueError with a one-line reason when it is not valid."""
        if self.name == NUM_LAYERS:
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
            raise ValueError(f"{show(value)} is not a valid num_layers: a non-negative integer")
        model: type[BaseModel] = _MODELS[self.scope]
        try:
            return getattr(model.model_validate({self.name: value}, strict=True), self.name)
        except (ValidationError, ValueError, TypeError) as exc:
            if self.choices is not None and self.kinds <= {"str", "bool"}:
                valid = ", ".join(
                    show(choice) if not isinstance(choice, str) else choice for choice in self.choices
                )
                raise ValueError(f"{show(value)} is not a valid {self.name} (valid: {valid})") from None
            reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
            raise ValueError(f"{show(value)} is not a valid {self.name}: {reason}") from None

    def accepts(self, value: Any) -> bool:
        try:
            self.check(value)
        except ValueError:
            return False
        return True

    def other_than(self, value: Any) -> tuple[bool, Any]:
        """``(True, v)`` for a valid probe value ``v`` different from ``value``; ``(False, None)`` if none."""
        for probe in self.probes:
            if not same(probe, value):
                return True, probe
        return False, None


def _kinds(annotation: Any) -> frozenset[str]:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return frozenset(_KIND_OF_TYPE.get(type(arg), "other") for arg in typing.get_args(annotation))
    if origin is Union or origin is types.UnionType or origin is typing.Annotated:
        args = typing.get_args(annotation)[:1] if origin is typing.Annotated else typing.get_args(annotation)
        return frozenset().union(*(_kinds(arg) for arg in args))
    return frozenset({_KIND_OF_TYPE.get(annotation, "other")})


def _literal_args(annotation: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return tuple(typing.get_args(annotation))
    if origin is Union or origin is types.UnionType:
        for arg in typing.get_args(annotation):
            found = _literal_args(arg)
            if found is not None:
                return found
    return None


def _field(name: str, scope: str, default: Any, annotation: Any) -> FieldInfo:
    kinds = _kinds(annotation)
    choices = _literal_args(annotation)
    if choices is None and name in _NAME_LISTS:
        names = getattr(architecture, _NAME_LISTS[name], None)
        choices = tuple(names) if isinstance(names, tuple | list) else None
    if choices is None and kinds == {"bool"}:
        choices = (False, True)
    draft = FieldInfo(name, scope, default, choices, kinds, ())
    candidates = [default, *(choices or ())]
    for kind in sorted(kinds):
        candidates.extend(_CANDIDATES.get(kind, ()))
    probes: list[Any] = []
    for value in candidates:
        if draft.accepts(value) and not any(same(value, seen) for seen in probes):
            probes.append(draft.check(value))
    return FieldInfo(name, scope, default, choices, kinds, tuple(probes))


_MODELS: dict[str, type[BaseModel]] = {GLOBAL: Architecture, LAYER: LayerArch, TRAINING: TrainingSpec}


def global_fields() -> tuple[FieldInfo, ...]:
    """``Architecture``'s fields in declaration order, ``num_layers`` standing in for ``layers``."""
    fields = []
    defaults = Architecture()
    for name, info in Architecture.model_fields.items():
        if name == "layers":
            fields.append(_field(NUM_LAYERS, GLOBAL, defaults.num_layers, int))
        else:
            fields.append(_field(name, GLOBAL, getattr(defaults, name), info.annotation))
    return tuple(fields)


def layer_fields() -> tuple[FieldInfo, ...]:
    """``LayerArch``'s fields in declaration order."""
    defaults = LayerArch()
    return tuple(
        _field(name, LAYER, getattr(defaults, name), info.annotation)
        for name, info in LayerArch.model_fields.items()
    )


@functools.lru_cache(maxsize=1)
def training_fields() -> tuple[FieldInfo, ...]:
    """The ``TrainingSpec`` fields a space may vary (``TRAINING_GENES``); unset (``None``) by default."""
    return tuple(
        _field(name, TRAINING, None, TrainingSpec.model_fields[name].annotation) for name in TRAINING_GENES
    )


Node = LayerArch | Architecture | TrainingGenes


def with_value(node: Node, field: FieldInfo, value: Any) -> Any:
    """``node`` with one field replaced (unvalidated: ``value`` must be valid for the field)."""
    if field.name == NUM_LAYERS:
        return node.model_copy(update={"layers": (LayerArch(),) * value})
    return node.model_copy(update={field.name: value})


def is_ignored(node: Node, field: FieldInfo) -> bool:
    """Whether the canonical form of ``node`` (itself canonical) ignores ``field``."""
    if field.name == NUM_LAYERS:
        return False
    found, other = field.other_than(getattr(node, field.name))
    return found and bool(with_value(node, field, other).canonical() == node)


def _ignored_anywhere(node: Node, field: FieldInfo) -> bool:
    """Like ``is_ignored`` for a node that need not be canonical: two probe values, one canonical form."""
    if field.name == NUM_LAYERS or len(field.probes) < 2:
        return False
    first, second = (with_value(node, field, probe).canonical() for probe in field.probes[:2])
    return bool(first == second)


@functools.lru_cache(maxsize=8)
def influencers(fields: tuple[FieldInfo, ...]) -> Mapping[str, frozenset[str]]:
    """For each field, the fields whose value can change whether the canonical form ignores it.

    Probed on a base with every field off its default, varied one categorical field at a time.
    """
    if not fields:
        return {}
    blanks: dict[str, Node] = {GLOBAL: Architecture(), LAYER: LayerArch(), TRAINING: TrainingGenes()}
    blank = blanks[fields[0].scope]
    base = blank
    for field in fields:
        found, value = field.other_than(field.default)
        if found:
            base = with_value(base, field, value)
    contexts = {base}
    for field in fields:
        if field.choices is not None:
            contexts.update(with_value(base, field, value) for value in field.probes)
    ignored_sets: dict[Any, frozenset[str]] = {}

    def ignored_set(node: Node) -> frozenset[str]:
        if node not in ignored_sets:
            ignored_sets[node] = frozenset(f.name for f in fields if _ignored_anywhere(node, f))
        return ignored_sets[node]

    found_by: dict[str, set[str]] = {field.name: set() for field in fields}
    for context in contexts:
        for source in fields:
            sets = [ignored_set(with_value(context, source, value)) for value in source.probes]
            changed = frozenset().union(*sets) - frozenset.intersection(*sets) if sets else frozenset()
            for name in changed - {source.name}:
                found_by[name].add(source.name)
    return {name: frozenset(names) for name, names in found_by.items()}


def reachable(graph: Mapping[str, frozenset[str]], start: str) -> set[str]:
    """Every name reachable from ``start`` along ``graph``'s edges (``start`` itself only via a cycle)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in graph.get(todo.pop(), frozenset()):
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return seen

"""YAML -> ``SearchFile``: the training setup plus a ``SearchSpace``, every problem named by its YAML path.

A search file is a training config whose ``architecture:`` is replaced by ``space:``::

    name: quickstart
    seed: 2020
    dataset: {name: ml-latest-small}
    split: {method: random, ratios: [0.8, 0.1, 0.1], seed: 2020}
    training: {max_epochs: 30, patience: 5}
    space:
      embedding_dim: [32, 64]                     # a plain list: a choice
      num_layers: {type: int, low: 1, high: 3}
      combine: mean                               # a scalar: fixed
      layers:                                     # one mapping: every layer alike, sampled independently
        conv: [lightgcn, gcn, gat]
        heads: {type: choice, values: [1, 2], when: {conv: gat}}
      training:                                   # optional: training settings as genes (gnas.space.training)
        lr: {type: float, low: 1.0e-3, high: 5.0e-2, log: true}
        loss: [bpr, softmax]
        temperature: {type: float, low: 0.05, high: 0.5, log: true, when: {loss: softmax}}

Dimensions: ``{type: choice, values: [...]}``, ``{type: int, low, high, step}``, ``{type: float, low,
high, log}``, ``{type: bool}``, a list (choice) or a scalar (fixed); an omitted field is fixed at the
Architecture default. ``when: {field: value-or-list, ...}`` makes a dimension conditional: when a
condition fails the field keeps its default. ``layers:`` may also be a list of mappings, one per layer
index, covering the largest ``num_layers``. ``training:`` makes the named ``training:`` settings genes;
the ones it leaves out keep the search file's value. Unknown keys are errors. The optional ``search:`` section
(controller, budgets, objectives) is ``gnas.search.settings.SearchSettings``; the optional ``workers:``
section (resources, timeout and retries of each trial on Ray) is
``gnas.execution.settings.WorkerSettings``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gnas.execution.settings import WorkerSettings
from gnas.search.settings import SearchSettings
from gnas.space.dimensions import DIMENSION_TYPES, Dimension, Fixed, choice_from_list
from gnas.space.fields import (
    GLOBAL,
    LAYER,
    NUM_LAYERS,
    TRAINING,
    FieldInfo,
    global_fields,
    influencers,
    layer_fields,
    reachable,
    training_fields,
)
from gnas.space.problems import Problem, SpaceError, join_path, location, show
from gnas.space.space import Condition, Param, SearchSpace
from gnas.spec import DatasetSpec, SplitSpec, TrainingSpec, load_yaml


class SearchFileSpec(BaseModel):
    """The sections of a search file; ``space`` is parsed separately (see ``parse_space``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "search"
    seed: int = 2020
    dataset: DatasetSpec = Field(default_factory=DatasetSpec)
    split: SplitSpec = Field(default_factory=SplitSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    space: Any = Field(..., description="the search space, parsed by gnas.space.schema.parse_space")
    search: SearchSettings = Field(default_factory=SearchSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)


@dataclass(frozen=True)
class SearchFile:
    """A parsed search file: what ``gnas train`` needs except the architecture, and the space of those."""

    name: str
    seed: int
    dataset: DatasetSpec
    split: SplitSpec
    training: TrainingSpec
    space: SearchSpace
    source: str = "<space>"
    search: SearchSettings = dataclasses.field(default_factory=SearchSettings)
    space_data: Any = None  # the ``space:`` mapping as written, kept with every search run
    workers: WorkerSettings = dataclasses.field(default_factory=WorkerSettings)


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "missing key"
    return str(error["msg"]).removeprefix("Value error, ")


def parse_search_file(data: Mapping[str, Any], source: str = "<space>") -> SearchFile:
    """Validate a whole search file; raise ``SpaceError`` listing every problem."""
    problems: list[Problem] = []
    spec: SearchFileSpec | None = None
    try:
        spec = SearchFileSpec.model_validate(data)
    except ValidationError as exc:
        problems += [Problem(location(error["loc"]), _message(error)) for error in exc.errors()]
    space: SearchSpace | None = None
    if "space" in data:
        space, found = space_problems(data["space"], "space")
        problems += found
    if problems or spec is None or space is None:
        raise SpaceError(problems or [Problem("space", "missing key")], source)
    return SearchFile(
        spec.name,
        spec.seed,
        spec.dataset,
        spec.split,
        spec.training,
        space,
        source,
        search=spec.search,
        space_data=data["space"],
        workers=spec.workers,
    )


def load_search_file(path: Path) -> SearchFile:
    """Read and validate a search file (``SpaceError``, a ``GnasError``, lists the problems)."""
    return parse_search_file(load_yaml(path), str(path))


def parse_space(data: Any, path: str = "space", source: str = "<space>") -> SearchSpace:
    """The ``space:`` mapping alone as a ``SearchSpace``; ``SpaceError`` lists every problem."""
    space, problems = space_problems(data, path)
    if problems or space is None:
        raise SpaceError(problems, source)
    return space


# --- dimensions and conditions ---------------------------------------------------------------------

_MISSING = object()


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def _dimension(raw: Any, field: FieldInfo, path: str) -> tuple[Dimension | None, Any, list[Problem]]:
    """The dimension written at ``path`` (or the default), its raw ``when`` and problems."""
    if raw is _MISSING:
        return Fixed(field.default), None, []
    if isinstance(raw, list):
        choice, problems = choice_from_list(raw, field, path)
        return choice, None, problems
    if isinstance(raw, Mapping):
        if "type" not in raw:
            valid = _names(list(DIMENSION_TYPES))
            return None, None, [Problem(path, f"a dimension mapping needs a 'type' ({valid})")]
        kind = raw["type"]
        cls = DIMENSION_TYPES.get(kind) if isinstance(kind, str) else None
        if cls is None:
            valid = _names(list(DIMENSION_TYPES))
            return (
                None,
                None,
                [Problem(join_path(path, "type"), f"unknown dimension type {show(kind)} (valid: {valid})")],
            )
        allowed = ("type", *cls.keys, "when")
        unknown = [
            Problem(
                join_path(path, str(key)), f"unknown key for a {kind} dimension (valid: {_names(allowed)})"
            )
            for key in raw
            if key not in allowed
        ]
        if unknown:
            return None, raw.get("when"), unknown
        dimension, problems = cls.parse(raw, field, path)
        return dimension, raw.get("when"), problems
    try:
        return Fixed(field.check(raw)), None, []
    except ValueError as exc:
        return None, None, [Problem(path, str(exc))]


def _conditions(
    raw: Any, scope: str, path: str, own: Mapping[str, FieldInfo], outer: Mapping[str, FieldInfo]
) -> tuple[tuple[Condition, ...], list[Problem]]:
    """Conditions of a dimension: names resolve in ``own`` (its scope) first, then ``outer`` (globals)."""
    where = join_path(path, "when")
    if raw is None:
        return (), []
    if not isinstance(raw, Mapping) or not raw:
        return (), [Problem(where, "expected a mapping of dimension: value or list of values")]
    conditions: list[Condition] = []
    problems: list[Problem] = []
    for name, accepted in raw.items():
        at = join_path(where, str(name))
        if name in own:
            field, field_scope = own[name], scope
        elif name in outer:
            field, field_scope = outer[name], GLOBAL
        else:
            valid = _names([*own, *outer])
            problems.append(Problem(at, f"condition on unknown dimension {show(name)} (valid: {valid})"))
            continue
        items = accepted if isinstance(accepted, list) else [accepted]
        if not items:
            problems.append(Problem(at, "empty list of values"))
            continue
        values = []
        for index, item in enumerate(items):
            try:
                values.append(field.check(item))
            except ValueError as exc:
                problems.append(Problem(join_path(at, index) if isinstance(accepted, list) else at, str(exc)))
        conditions.append(Condition(name, field_scope, tuple(values)))
    return tuple(conditions), problems


def _block(
    raw: Any,
    fields: tuple[FieldInfo, ...],
    scope: str,
    path: str,
    outer: Mapping[str, FieldInfo],
) -> tuple[list[tuple[FieldInfo, Dimension, tuple[Condition, ...], bool]] | None, list[Problem]]:
    """The dimensions of one block (the globals, or one layer mapping)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        return None, [Problem(path, f"expected a mapping of dimensions, got {show(raw)}")]
    own = {field.name: field for field in fields}
    extra = {"layers", "training"} if scope == GLOBAL else set()
    valid = _names([*own, *sorted(extra)])
    problems = [
        Problem(join_path(path, str(key)), f"unknown dimension (valid: {valid})")
        for key in raw
        if key not in own and key not in extra
    ]
    entries: list[tuple[FieldInfo, Dimension, tuple[Condition, ...], bool]] = []
    for field in fields:
        at = join_path(path, field.name)
        dimension, when, found = _dimension(raw.get(field.name, _MISSING), field, at)
        conditions, more = _conditions(when, scope, at, own, outer)
        problems += found + more
        if dimension is not None:
            entries.append((field, dimension, conditions, field.name in raw))
    return (entries if not problems else None), problems


def _layer_params(entries: Sequence[Any] | None, layer: int, path: str) -> tuple[Param, ...]:
    """The params of one layer index from its parsed ``(field, dimension, conditions, explicit)`` entries."""
    return tuple(
        Param(f"layers[{layer}].{field.name}", join_path(path, field.name), field, layer, dim, when, ex)
        for field, dim, when, ex in entries or ()
    )


def _order(
    params: Sequence[Param], scope: str, fields: tuple[FieldInfo, ...]
) -> tuple[tuple[int, ...], list[Problem]]:
    """Decoding order: a param after the fields its conditions read and what decides their canonical value.

    A condition on ``heads`` needs ``conv`` decoded first, since a LightGCN layer's heads are 1 whatever
    the gene says; ``conv: {when: {heads: 2}}`` is therefore circular.
    """
    influence = influencers(fields)
    position = {param.name: index for index, param in enumerate(params)}
    # needs[a][b] = the field a condition of a reads that makes a wait for b (b itself, or what it reads)
    needs: dict[str, dict[str, str]] = {}
    for param in params:
        needs[param.name] = {}
        for condition in param.when:
            if condition.scope == scope:
                for name in sorted({condition.field} | reachable(influence, condition.field)):
                    if name in position:  # a training field the space leaves out is not a gene
                        needs[param.name].setdefault(name, condition.field)
    order: list[int] = []
    done: set[str] = set()
    while len(order) < len(params):
        ready = [p for p in params if p.name not in done and set(needs[p.name]) <= done]
        if not ready:
            stuck = next(p for p in params if p.name not in done and p.name in _closure_needs(needs, p.name))
            cycle = " -> ".join(_cycle(stuck.name, needs))
            problem = Problem(join_path(stuck.path, "when"), f"circular condition ({cycle})")
            return tuple(range(len(params))), [problem]
        order.append(position[ready[0].name])
        done.add(ready[0].name)
    return tuple(order), []


def _closure_needs(needs: Mapping[str, Mapping[str, str]], start: str) -> set[str]:
    return reachable({name: frozenset(targets) for name, targets in needs.items()}, start)


def _cycle(start: str, needs: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The names along a shortest cycle from ``start`` back to itself, with the fields read on the way."""
    paths: dict[str, list[str]] = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for name in frontier:
            for target, via in sorted(needs.get(name, {}).items()):
                step = [via, target] if via != target else [target]
                if target == start:
                    return paths[name] + step
                if target not in paths:
                    paths[target] = paths[name] + step
                    following.append(target)
        frontier = following
    return [start]


def space_problems(data: Any, path: str = "space") -> tuple[SearchSpace | None, list[Problem]]:
    """The search space and every problem found (the space is ``None`` when there are problems)."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        return None, [Problem(path, f"expected a mapping of dimensions, got {show(data)}")]
    gfields, lfields = global_fields(), layer_fields()
    outer = {field.name: field for field in gfields}
    entries, problems = _block(data, gfields, GLOBAL, path, {})
    globals_ = tuple(
        Param(field.name, join_path(path, field.name), field, None, dimension, when, explicit)
        for field, dimension, when, explicit in entries or ()
    )
    max_layers: int | None = None
    if entries is not None:
        num_layers, when = next((dim, when) for field, dim, when, _ in entries if field.name == NUM_LAYERS)
        max_layers = max(num_layers.values() or (0,))
        if when:
            at = join_path(path, NUM_LAYERS, "when")
            problems.append(
                Problem(at, "num_layers cannot be conditional: it decides how many layers there are")
            )
    layers_path = join_path(path, "layers")
    raw_layers = data.get("layers")
    shared = not isinstance(raw_layers, list)
    blocks: list[tuple[Param, ...]] = []
    if shared:
        layer_entries, found = _block(raw_layers, lfields, LAYER, layers_path, outer)
        problems += found
        for layer in range(max_layers or 0):
            blocks.append(_layer_params(layer_entries, layer, layers_path))
    else:
        assert isinstance(raw_layers, list)
        if max_layers is not None and len(raw_layers) != max_layers:
            relation = "fewer" if len(raw_layers) < max_layers else "more"
            problems.append(
                Problem(
                    layers_path,
                    f"{len(raw_layers)} layer entries, {relation} than the largest num_layers {max_layers}: "
                    "a list of layers needs one mapping per layer index",
                )
            )
        for layer, raw_layer in enumerate(raw_layers):
            at = join_path(layers_path, layer)
            layer_entries, found = _block(raw_layer, lfields, LAYER, at, outer)
            problems += found
            blocks.append(_layer_params(layer_entries, layer, at))
    training, found = _training_params(data.get("training"), join_path(path, "training"), outer)
    problems += found
    if problems:
        return None, _unique(problems)
    global_order, found = _order(globals_, GLOBAL, gfields)
    problems += found
    layer_orders = []
    for block in blocks:
        order, found = _order(block, LAYER, lfields)
        problems += found
        layer_orders.append(order)
    training_order, found = _order(training, TRAINING, training_fields())
    problems += found
    if problems:
        return None, _unique(problems)
    space = SearchSpace(
        globals_,
        tuple(blocks),
        global_order,
        tuple(layer_orders),
        shared,
        lfields,
        training,
        training_order,
    )
    return space, []


def _training_params(
    raw: Any, path: str, outer: Mapping[str, FieldInfo]
) -> tuple[tuple[Param, ...], list[Problem]]:
    """The training genes: one per key written under ``space.training`` (none when it is left out).

    A condition may read another training gene of the mapping or a global field of the architecture.
    """
    if raw is None:
        return (), []
    entries, problems = _block(raw, training_fields(), TRAINING, path, outer)
    written = [entry for entry in entries or () if entry[3]]
    names = {field.name for field, *_ in written}
    for field, _, when, _ in written:
        for condition in when:
            if condition.scope == TRAINING and condition.field not in names:
                at = join_path(path, field.name, "when", condition.field)
                problems.append(
                    Problem(at, f"condition on {condition.field}, which is not a dimension under {path}")
                )
    params = tuple(
        Param(f"training.{field.name}", join_path(path, field.name), field, None, dimension, when, True)
        for field, dimension, when, _ in written
    )
    return (params if not problems else ()), problems


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))

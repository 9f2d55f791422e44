"""Genotypes: the flat, JSON-safe encoding of an architecture of a search space, and its operators.

Encoding. A genotype is a tuple of ``space.length`` genes, each a JSON scalar (str, int, float, bool or
null): the global genes (``embedding_dim, num_layers, combine, score, temperature, fusion, fusion_op,
fusion_layers, fusion_dim, fusion_user_profile, branch, branch_mix, branch_k, branch_alpha, branch_order,
branch_l2``, i.e.
``Architecture``'s fields with ``num_layers`` for ``layers``), then one block per layer index up to the
space's largest ``num_layers``, each ``LayerArch``'s fields in order (``conv, hidden, heads,
concat_heads, aggr, activation, dropout, attention_dropout, residual, norm``), then the training genes
of the space's ``training:`` mapping, if any. ``space.keys()`` names the genes (``layers[1].heads``,
``training.lr``). ``json.dumps(list(genotype))`` is the saved form.

Decoding. Genes are read globals first, then layer by layer, each in an order where a gene comes
after the fields its ``when`` reads. A gene is *active* when its layer is below ``num_layers`` and
its conditions hold on the *effective* values (those of the canonical architecture); an inactive
field keeps its Architecture default.

Canonical form. ``FILLER`` (null) replaces every gene that cannot matter: inactive genes (failed
condition, layer beyond ``num_layers``) and genes of fields the canonical architecture ignores
(``heads`` of a GCN layer, ``temperature`` with dot scoring, ``training.temperature`` under BPR).
Every other gene holds the canonical architecture's value. So two genotypes are equal (and hash equal)
exactly when they decode to the same canonical architecture (and training settings). Every operator
below returns canonical genotypes.

Operators (DEAP-like; each takes the space, genotype(s) and a ``random.Random``, a NumPy
``Generator`` or an int seed): ``sample``, ``mutate`` (per-gene probability, local moves that respect
bounds, steps and log scale), ``mutate_resample``, ``crossover_uniform``, ``crossover_layers``
(layer-level one point). Genes that become active through a mutation or crossover are drawn afresh,
so every result decodes to an architecture of the space. ``MUTATIONS`` and ``CROSSOVERS`` register
them by name.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gnas.architecture import Architecture, LayerArch
from gnas.errors import GnasError
from gnas.space.dimensions import Dimension, RandomSource, as_random
from gnas.space.fields import GLOBAL, NUM_LAYERS, TRAINING, is_ignored
from gnas.space.problems import NotInSpace, show
from gnas.space.space import Param, SearchSpace
from gnas.space.training import TrainingGenes
from gnas.spec import TrainingSpec

Gene = str | int | float | bool | None
Genotype = tuple[Gene, ...]
FILLER: Gene = None

_ATTEMPTS = 20


@dataclass(frozen=True)
class Resolved:
    """A genotype read against its space: the genes (after any repair), the architecture, active genes."""

    genes: tuple[Any, ...]
    architecture: Architecture
    active: tuple[bool, ...]
    training: TrainingGenes = TrainingGenes()

    def node(self, param: Param) -> Any:
        """The canonical node ``param`` is a field of: the architecture, one of its layers or the training."""
        if param.field.scope == TRAINING:
            return self.training.canonical()
        arch = self.architecture.canonical()
        return arch if param.layer is None else arch.layers[param.layer]


def _global_node(values: dict[str, Any]) -> Architecture:
    data = {name: value for name, value in values.items() if name != NUM_LAYERS}
    count = values.get(NUM_LAYERS, Architecture().num_layers)
    return Architecture.model_validate({**data, "layers": (LayerArch(),) * count}, strict=True).canonical()


def _effective(node: Any, name: str) -> Any:
    return node.num_layers if name == NUM_LAYERS else getattr(node, name)


GeneAt = Callable[[int, Param], Any]


def decode_globals(space: SearchSpace, gene_at: GeneAt) -> dict[str, Any]:
    """The global fields' values, reading each active gene through ``gene_at(position, param)``.

    Inactive fields are left out (they keep the Architecture default).
    """
    values: dict[str, Any] = {}
    for position in space.global_order:
        param = space.globals[position]
        if param.when:
            node = _global_node(values)
            if not all(condition.holds(_effective(node, condition.field)) for condition in param.when):
                continue
        values[param.name] = gene_at(position, param)
    return values


def decode_layer(space: SearchSpace, layer: int, gene_at: GeneAt, outer: Architecture) -> LayerArch:
    """One layer, reading each active gene through ``gene_at``; ``outer`` holds the effective globals."""
    values: dict[str, Any] = {}
    for position in space.layer_orders[layer]:
        param = space.layers[layer][position]
        for condition in param.when:
            if condition.scope == GLOBAL:
                value = _effective(outer, condition.field)
            else:
                value = getattr(LayerArch.model_validate(values, strict=True).canonical(), condition.field)
            if not condition.holds(value):
                break
        else:
            values[param.name] = gene_at(position, param)
    return LayerArch.model_validate(values, strict=True)


def decode_training(space: SearchSpace, gene_at: GeneAt, outer: Architecture) -> TrainingGenes:
    """The training genes' values (unset where inactive); ``outer`` holds the effective globals."""
    values: dict[str, Any] = {}
    for position in space.training_order:
        param = space.training[position]
        for condition in param.when:
            if condition.scope == GLOBAL:
                value = _effective(outer, condition.field)
            else:
                value = getattr(TrainingGenes.model_validate(values).canonical(), condition.field)
            if not condition.holds(value):
                break
        else:
            values[param.name] = gene_at(position, param)
    return TrainingGenes.model_validate(values)


def resolve(
    space: SearchSpace,
    genotype: Sequence[Any],
    rng: RandomSource | None = None,
    fill: str = "none",
) -> Resolved:
    """Read a genotype in decoding order.

    ``fill="none"`` checks that every active gene lies in its dimension (or that the canonical form
    ignores it) and raises ``NotInSpace`` otherwise; ``"invalid"`` draws a fresh value for each active
    gene outside its dimension (a null filler that became active); ``"all"`` draws every active gene.
    """
    if len(genotype) != space.length:
        raise NotInSpace(f"genotype has {len(genotype)} genes, the space has {space.length}")
    random = as_random(rng) if rng is not None else None
    genes = list(genotype)
    active = [False] * space.length

    def reader(layer: int | None, index_of: Callable[[int], int] | None = None) -> GeneAt:
        def gene_at(position: int, param: Param) -> Any:
            index = space.gene_index(layer, position) if index_of is None else index_of(position)
            gene = genes[index]
            if fill == "all" or (fill == "invalid" and not param.dimension.contains(gene)):
                assert random is not None, "filling genes needs a random source"
                gene = genes[index] = param.dimension.sample(random)
            active[index] = True
            return param.field.default if gene is None else gene

        return gene_at

    try:
        global_values = decode_globals(space, reader(None))
        count = global_values.get(NUM_LAYERS, space.num_layers.field.default)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= space.max_layers:
            raise NotInSpace(f"num_layers: {show(count)} is not in {space.num_layers.dimension.describe()}")
        outer = _global_node(global_values)
        layers = tuple(decode_layer(space, layer, reader(layer), outer) for layer in range(count))
        data = {name: value for name, value in global_values.items() if name != NUM_LAYERS}
        architecture = Architecture.model_validate({**data, "layers": layers}, strict=True)
        training = decode_training(space, reader(None, space.training_index), outer)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise NotInSpace(f"genotype: {'.'.join(map(str, error['loc']))}: {error['msg']}") from None
    resolved = Resolved(tuple(genes), architecture, tuple(active), training)
    if fill == "none":
        for index, param in enumerate(space.params):
            outside = active[index] and not param.dimension.contains(genes[index])
            if outside and not is_ignored(resolved.node(param), param.field):
                raise NotInSpace(f"{param.key}: {show(genes[index])} is not in {param.dimension.describe()}")
    return resolved


def _canonical(space: SearchSpace, resolved: Resolved) -> tuple[Genotype, tuple[bool, ...]]:
    """The canonical genes, and which genes matter (active and not ignored by the canonical form)."""
    genes: list[Gene] = [FILLER] * space.length
    matters = [False] * space.length
    for index, param in enumerate(space.params):
        if not resolved.active[index]:
            continue
        node = resolved.node(param)
        if param.name == NUM_LAYERS and param.field.scope == GLOBAL:
            genes[index], matters[index] = node.num_layers, True
        elif not is_ignored(node, param.field):
            genes[index], matters[index] = getattr(node, param.name), True
    return tuple(genes), tuple(matters)


def matters(space: SearchSpace, genotype: Sequence[Any]) -> tuple[bool, ...]:
    """Which genes decide the architecture: active and not ignored by the canonical form.

    A null gene is the filler exactly where this is false (``hidden: null`` is a value, not a filler).
    """
    return _canonical(space, resolve(space, genotype))[1]


def canonical(space: SearchSpace, genotype: Sequence[Any]) -> Genotype:
    """The canonical genotype; ``NotInSpace`` if ``genotype`` is not one of this space."""
    return _canonical(space, resolve(space, genotype))[0]


def decode(space: SearchSpace, genotype: Sequence[Any]) -> Architecture:
    """The canonical architecture of a genotype of the space (``NotInSpace`` otherwise)."""
    return resolve(space, genotype).architecture.canonical()


def training_overrides(space: SearchSpace, genotype: Sequence[Any]) -> dict[str, Any]:
    """The ``training:`` settings a genotype sets (its training genes that matter); empty without any.

    Merged over the search file's ``training:`` they are what the candidate trains with, in a trial,
    in the final stage and in ``gnas export`` (``NotInSpace`` for a genotype not of the space).
    """
    if not space.training:
        return {}
    return resolve(space, genotype).training.canonical().overrides()


def _seed_value(dimension: Dimension, value: Any) -> Any:
    """``value`` if the dimension holds it, else the nearest value it holds (the first for names)."""
    if dimension.contains(value):
        return value
    values = dimension.values()
    if values is None:
        low, high = dimension.low, dimension.high  # type: ignore[attr-defined]
        return min(max(float(value), low), high)
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers and isinstance(value, int | float):
        return min(numbers, key=lambda v: abs(v - value))
    return values[0]


def encode(space: SearchSpace, architecture: Architecture, training: TrainingSpec | None = None) -> Genotype:
    """The canonical genotype of an architecture; ``NotInSpace`` naming the first field out of the space.

    Training genes take ``training``'s value (default: ``TrainingSpec()``'s), or the nearest value of
    their dimension when it is out of it: a seed point such as the LightGCN point trains as written.
    """
    target = architecture.canonical()
    count = target.num_layers
    if count > space.max_layers:
        raise NotInSpace(f"num_layers: {count} is not in {space.num_layers.dimension.describe()}")
    settings = training or TrainingSpec()
    genes: list[Any] = [FILLER] * space.length
    for index, param in enumerate(space.params):
        if param.field.scope == TRAINING:
            genes[index] = _seed_value(param.dimension, getattr(settings, param.name))
        elif param.layer is None:
            genes[index] = _effective(target, param.name)
        elif param.layer < count:
            genes[index] = getattr(target.layers[param.layer], param.name)
    resolved = resolve(space, genes)
    decoded = resolved.architecture.canonical()
    if decoded != target:
        for index, param in enumerate(space.params):
            if (param.layer is not None and param.layer >= count) or param.field.scope == TRAINING:
                continue
            want = genes[index]
            got = _effective(decoded if param.layer is None else decoded.layers[param.layer], param.name)
            if want != got:
                why = f"its condition ({param.describe_when()}) does not hold" if param.when else "the space"
                raise NotInSpace(f"{param.key}: {show(want)} is not in the space: {why} gives {show(got)}")
        raise NotInSpace("architecture is not in the space")
    return _canonical(space, resolved)[0]


def contains(space: SearchSpace, architecture: Architecture) -> bool:
    """Whether some genotype of the space decodes to this architecture (canonically)."""
    try:
        encode(space, architecture)
    except NotInSpace:
        return False
    return True


def repair(space: SearchSpace, genes: Sequence[Any], rng: RandomSource) -> Genotype:
    """The canonical genotype of ``genes`` after drawing afresh each active gene outside its dimension.

    For genes edited by hand or by a custom operator: a filler that became active gets a value.
    """
    return _canonical(space, resolve(space, genes, as_random(rng), fill="invalid"))[0]


_finish = repair


def sample(space: SearchSpace, rng: RandomSource) -> Genotype:
    """A genotype with every active gene drawn from its dimension (independently, in decoding order)."""
    return _canonical(space, resolve(space, [FILLER] * space.length, as_random(rng), fill="all"))[0]


def sample_distinct(space: SearchSpace, rng: RandomSource, count: int) -> list[Genotype]:
    """Up to ``count`` different genotypes (fewer only if the space has fewer, or they prove rare)."""
    random = as_random(rng)
    found: dict[Genotype, None] = {}
    for _ in range(20 * count + 100):
        if len(found) == count:
            break
        found.setdefault(sample(space, random), None)
    return list(found)


Move = Callable[[Dimension, Any, Any], Any]


def _mutate(
    space: SearchSpace, genotype: Sequence[Any], rng: RandomSource, indpb: float | None, move: Move
) -> Genotype:
    random = as_random(rng)
    base = canonical(space, genotype)
    filled = resolve(space, base, random, fill="invalid")
    matters = _canonical(space, filled)[1]
    candidates = [i for i, param in enumerate(space.params) if matters[i] and param.dimension.size != 1]
    if not candidates:
        return base
    rate = 1.0 / len(candidates) if indpb is None else indpb
    child = base
    for _ in range(_ATTEMPTS):
        genes = list(filled.genes)
        chosen = [i for i in candidates if random.random() < rate]
        for index in chosen or [candidates[random.randrange(len(candidates))]]:
            genes[index] = move(space.params[index].dimension, genes[index], random)
        child = _finish(space, genes, random)
        if child != base:
            break
    return child


def mutate(
    space: SearchSpace, genotype: Sequence[Any], rng: RandomSource, indpb: float | None = None
) -> Genotype:
    """Move each gene that matters with probability ``indpb`` (default: one gene on average).

    A choice moves to another value, an int by a few steps, a float by a Gaussian step of a tenth of
    its (log) range, reflected at the bounds. At least one gene moves, and the result differs from
    ``genotype`` unless the space has a single architecture.
    """
    return _mutate(space, genotype, rng, indpb, lambda dim, value, random: dim.mutate(value, random))


def mutate_resample(
    space: SearchSpace, genotype: Sequence[Any], rng: RandomSource, indpb: float | None = None
) -> Genotype:
    """Like ``mutate``, but a chosen gene is drawn afresh from its whole dimension."""
    return _mutate(space, genotype, rng, indpb, lambda dim, value, random: dim.sample(random))


def untried_neighbour(
    space: SearchSpace,
    genotype: Sequence[Any],
    tried: Container[Genotype],
    rng: RandomSource,
    steps: int = 100,
) -> Genotype | None:
    """The first genotype not in ``tried`` on a random walk of ``mutate`` steps (one gene on average)
    away from ``genotype``: a near neighbour where there is one; None when ``steps`` steps find none
    (the space is nearly exhausted)."""
    random = as_random(rng)
    current = canonical(space, genotype)
    for _ in range(steps):
        current = mutate(space, current, random)
        if current not in tried:
            return current
    return None


def crossover_uniform(
    space: SearchSpace, first: Sequence[Any], second: Sequence[Any], rng: RandomSource, indpb: float = 0.5
) -> tuple[Genotype, Genotype]:
    """Swap each gene between the parents with probability ``indpb``."""
    random = as_random(rng)
    a, b = list(canonical(space, first)), list(canonical(space, second))
    for index in range(space.length):
        if random.random() < indpb:
            a[index], b[index] = b[index], a[index]
    return _finish(space, a, random), _finish(space, b, random)


def crossover_layers(
    space: SearchSpace, first: Sequence[Any], second: Sequence[Any], rng: RandomSource
) -> tuple[Genotype, Genotype]:
    """Layer-level one point: a child keeps its parent's globals and layers before a cut, then the other's.

    The cut is drawn among the layer boundaries 0..n-1, n the larger of the parents' ``num_layers``
    (cut 0 swaps every layer).
    """
    random = as_random(rng)
    a, b = canonical(space, first), canonical(space, second)
    at = space.globals.index(space.num_layers)
    deepest = max(int(a[at] or 0), int(b[at] or 0), 1)  # genes of a canonical genotype: num_layers is an int
    start = space.gene_index(random.randrange(min(deepest, max(space.max_layers, 1))), 0)
    end = space.training_index(0)  # the training genes stay with the globals
    first_child = a[:start] + b[start:end] + a[end:]
    second_child = b[:start] + a[start:end] + b[end:]
    return _finish(space, first_child, random), _finish(space, second_child, random)


Mutation = Callable[..., Genotype]
Crossover = Callable[..., tuple[Genotype, Genotype]]

MUTATIONS: dict[str, Mutation] = {"gene": mutate, "resample": mutate_resample}
CROSSOVERS: dict[str, Crossover] = {"uniform": crossover_uniform, "layers": crossover_layers}


def operator(kind: str, name: str) -> Callable[..., Any]:
    """A registered operator (``kind``: "mutation" or "crossover"); a one-line error lists the valid names."""
    table: dict[str, Callable[..., Any]] = dict(MUTATIONS) if kind == "mutation" else dict(CROSSOVERS)
    if name not in table:
        raise GnasError(f"unknown {kind} {name!r} (valid: {', '.join(table)})")
    return table[name]

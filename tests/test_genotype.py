"""Genotypes: every operator yields a valid architecture of the space; canonical form <=> same model."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from space_helpers import in_domain, space_dicts, violation

from gnas.architecture import Architecture
from gnas.errors import GnasError
from gnas.space import (
    CROSSOVERS,
    MUTATIONS,
    FloatRange,
    IntRange,
    NotInSpace,
    SearchSpace,
    canonical,
    contains,
    crossover_layers,
    crossover_uniform,
    decode,
    encode,
    matters,
    mutate,
    operator,
    parse_space,
    repair,
    sample,
    untried_neighbour,
)

ROOT = Path(__file__).resolve().parent.parent
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def ready_space(name: str) -> dict[str, Any]:
    """A ready space's ``space:`` mapping; ``quickstart504``: the fixed 504-architecture space of bench/."""
    folder = ROOT / "bench" / "spaces" if name == "quickstart504" else ROOT / "search_spaces"
    return dict(yaml.safe_load((folder / f"{name}.yaml").read_text())["space"])


def assert_valid(space_dict: dict[str, Any], space: SearchSpace, genotype: tuple[Any, ...]) -> Architecture:
    """A canonical, JSON-safe genotype whose architecture the independent oracle accepts."""
    assert isinstance(genotype, tuple) and len(genotype) == space.length
    assert json.loads(json.dumps(list(genotype))) == list(genotype)
    assert canonical(space, genotype) == genotype
    arch = decode(space, genotype)
    assert arch == arch.canonical()
    assert violation(space_dict, arch) is None, violation(space_dict, arch)
    assert encode(space, arch) == genotype and contains(space, arch)
    return arch


def noisy(space: SearchSpace, genotype: tuple[Any, ...], rng: random.Random) -> list[Any]:
    """The genotype with genes that do not matter set to other values of their dimension."""
    genes = list(genotype)
    for index, relevant in enumerate(matters(space, genotype)):
        if not relevant and rng.random() < 0.8:
            genes[index] = space.params[index].dimension.sample(rng)
    return genes


@PROPERTY
@given(space_dicts(), st.integers(0, 2**32 - 1))
def test_sample_mutate_crossover_stay_in_the_space(space_dict: dict[str, Any], seed: int) -> None:
    space = parse_space(space_dict)
    rng = random.Random(seed)
    first, second = sample(space, rng), sample(space, rng)
    assert_valid(space_dict, space, first)
    assert_valid(space_dict, space, second)
    for name, mutation in MUTATIONS.items():
        child = mutation(space, first, rng, indpb=rng.choice([None, 0.3, 1.0]))
        assert_valid(space_dict, space, child)
        assert child != first or name == "resample" or len({sample(space, rng) for _ in range(30)}) == 1
    for crossover in CROSSOVERS.values():
        for child in crossover(space, first, second, rng):
            assert_valid(space_dict, space, child)


@PROPERTY
@given(space_dicts(), st.integers(0, 2**32 - 1))
def test_canonical_equal_iff_same_architecture(space_dict: dict[str, Any], seed: int) -> None:
    space = parse_space(space_dict)
    rng = random.Random(seed)
    genotype = sample(space, rng)
    raw = noisy(space, genotype, rng)  # other values in genes that cannot matter
    assert canonical(space, raw) == genotype and hash(canonical(space, raw)) == hash(genotype)
    assert decode(space, raw) == decode(space, genotype)
    relevant = [
        i for i, flag in enumerate(matters(space, genotype)) if flag and space.params[i].dimension.size > 1
    ]
    if relevant:  # and a gene that matters does change the model
        index = rng.choice(relevant)
        changed = list(genotype)
        changed[index] = space.params[index].dimension.mutate(genotype[index], rng)
        assert decode(space, repair(space, changed, rng)) != decode(space, genotype)
    for other in (
        mutate(space, genotype, rng),
        sample(space, rng),
        *crossover_uniform(space, genotype, raw, rng),
    ):
        same_genotype = canonical(space, noisy(space, other, rng)) == genotype
        assert same_genotype == (decode(space, other) == decode(space, genotype))


def test_gat_space_operators_and_conditions() -> None:
    space_dict = ready_space("gat")
    space = parse_space(space_dict)
    rng = random.Random(7)
    population = [sample(space, rng) for _ in range(30)]
    for genotype in population:
        arch = assert_valid(space_dict, space, genotype)
        for layer in arch.layers:
            if layer.conv not in ("gat", "gatv2"):
                assert (layer.heads, layer.concat_heads, layer.attention_dropout) == (1, False, 0.0)
            if layer.conv != "sage":
                assert layer.aggr == "sum"
        if arch.score == "dot":
            assert arch.temperature == Architecture().temperature
    for a, b in zip(population, population[1:], strict=False):
        assert_valid(space_dict, space, mutate(space, a, rng))
        for child in (*crossover_uniform(space, a, b, rng), *crossover_layers(space, a, b, rng)):
            assert_valid(space_dict, space, child)


def test_encoding_layout_and_fillers() -> None:
    space = parse_space(ready_space("quickstart504"))
    arch = Architecture(
        embedding_dim=32, layers=[{"conv": "gat", "heads": 2}, {"conv": "gcn", "heads": 4}], combine="last"
    )
    genotype = encode(space, arch)
    assert genotype[:5] == (32, 2, "last", "dot", None)  # temperature: ignored with dot scoring
    assert genotype[5:10] == ("none", None, None, None, None)  # no text fusion: its options are ignored
    assert genotype[10:16] == ("none", None, None, None, None, None)  # no closed-form branch
    assert genotype[16:26] == ("gat", None, 2, False, None, "identity", 0.0, 0.0, False, "none")
    assert genotype[26:36] == ("gcn", None, None, None, None, "identity", 0.0, None, False, "none")
    assert genotype[36:] == (None,) * 10  # layer 3 is beyond num_layers
    assert decode(space, genotype) == arch.canonical()
    assert space.keys()[18] == "layers[0].heads"


def test_crossover_layers_swaps_whole_layer_blocks() -> None:
    space = parse_space({"num_layers": 3, "layers": {"conv": ["gcn", "sage"], "aggr": ["sum", "max"]}})
    a = encode(space, Architecture(num_layers=3, layers={"conv": "gcn"}))
    b = encode(space, Architecture(num_layers=3, layers={"conv": "sage", "aggr": "max"}))
    seen = set()
    for seed in range(30):
        x, y = crossover_layers(space, a, b, seed)
        convs = tuple(layer.conv for layer in decode(space, x).layers)
        assert convs in {("sage",) * 3, ("gcn", "sage", "sage"), ("gcn", "gcn", "sage")}
        assert tuple(layer.conv for layer in decode(space, y).layers) == tuple(
            {"gcn": "sage", "sage": "gcn"}[conv] for conv in convs
        )
        seen.add(convs)
    assert len(seen) == 3


def test_mutation_respects_steps_bounds_and_log_scale() -> None:
    steps = IntRange(8, 64, 8)
    logs = FloatRange(1e-4, 1e-1, log=True)
    rng = random.Random(0)
    value, moved = 8, set()
    for _ in range(300):
        new = steps.mutate(value, rng)
        assert new != value and steps.contains(new)
        moved.add(abs(new - value))
        value = new
    assert min(moved) == 8
    x, ratios = 1e-3, []
    for _ in range(300):
        y = logs.mutate(x, rng)
        assert y != x and 1e-4 <= y <= 1e-1
        ratios.append(abs(np.log10(y) - np.log10(x)))
        x = y
    assert np.median(ratios) < 0.5  # steps are a fraction of the three decades, in log space
    samples = [logs.sample(rng) for _ in range(2000)]
    assert 0.2 < np.mean(np.array(samples) < 1e-3) < 0.45  # log-uniform: a third below 1e-3


def test_random_sources_are_reproducible() -> None:
    space = parse_space(ready_space("gat"))
    assert sample(space, random.Random(3)) == sample(space, random.Random(3)) == sample(space, 3)
    a = [sample(space, np.random.default_rng(5)) for _ in range(2)]
    assert a[0] == a[1]
    generator = np.random.default_rng(5)
    assert sample(space, generator) != sample(space, generator)
    with pytest.raises(TypeError):
        sample(space, "seed")  # type: ignore[arg-type]


def test_genotypes_outside_the_space_are_refused() -> None:
    space = parse_space(ready_space("quickstart504"))
    genotype = sample(space, 1)
    with pytest.raises(NotInSpace, match=f"genotype has 3 genes, the space has {space.length}"):
        canonical(space, genotype[:3])
    bad = list(genotype)
    bad[0] = 48
    with pytest.raises(NotInSpace, match=r"embedding_dim: 48 is not in choice \[32, 64\]"):
        decode(space, bad)
    bad = list(encode(space, Architecture(num_layers=1, layers={"conv": "gat", "heads": 2})))
    heads = space.keys().index("layers[0].heads")
    bad[heads] = 8
    with pytest.raises(NotInSpace, match=r"layers\[0\]\.heads: 8 is not in choice \[1, 2\]"):
        canonical(space, bad)
    bad[heads] = "two"
    with pytest.raises(NotInSpace, match="heads"):
        decode(space, bad)


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        (Architecture(num_layers=4, layers={"conv": "gcn"}), "num_layers: 4 is not in int 1..3"),
        (Architecture(num_layers=1, layers={"conv": "sage"}), r"layers\[0\]\.conv: 'sage' is not in choice"),
        (Architecture(num_layers=1, layers={"conv": "gat", "heads": 4}), r"layers\[0\]\.heads: 4"),
        (
            Architecture(num_layers=1, layers={"conv": "gcn", "residual": True}),
            r"layers\[0\]\.residual: true",
        ),
        (Architecture(num_layers=1, combine="sum"), "combine: 'sum' is not in choice"),
    ],
)
def test_encode_names_the_field_out_of_the_space(arch: Architecture, message: str) -> None:
    space = parse_space(ready_space("quickstart504"))
    assert not contains(space, arch)
    with pytest.raises(NotInSpace, match=message):
        encode(space, arch)


def test_a_field_fixed_by_a_failed_condition_must_keep_its_default() -> None:
    space = parse_space(
        {
            "num_layers": 1,
            "layers": {
                "conv": ["gcn", "gat"],
                "dropout": {"type": "choice", "values": [0.3], "when": {"conv": "gat"}},
            },
        }
    )
    assert contains(space, Architecture(num_layers=1, layers={"conv": "gat", "dropout": 0.3}))
    assert contains(space, Architecture(num_layers=1, layers={"conv": "gcn"}))
    with pytest.raises(
        NotInSpace, match=r"layers\[0\]\.dropout: 0.3 is not in the space: its condition \(conv = gat\)"
    ):
        encode(space, Architecture(num_layers=1, layers={"conv": "gcn", "dropout": 0.3}))
    assert in_domain([0.3], 0.3, 0.0)


def test_operator_registry() -> None:
    assert operator("mutation", "gene") is mutate and operator("crossover", "layers") is crossover_layers
    with pytest.raises(GnasError, match="unknown crossover 'two_point' \\(valid: uniform, layers\\)"):
        operator("crossover", "two_point")


def test_untried_neighbour_walks_to_an_untried_architecture_until_none_is_left() -> None:
    space = parse_space(
        {"embedding_dim": [8, 16], "num_layers": 1, "layers": {"conv": ["lightgcn", "gcn", "sage"]}}
    )
    rng = random.Random(0)
    start = sample(space, rng)
    tried = {start}
    while (neighbour := untried_neighbour(space, start, tried, rng)) is not None:
        assert neighbour not in tried
        assert canonical(space, neighbour) == neighbour
        tried.add(neighbour)
    assert len(tried) == 6  # every architecture of the space was reached

"""Text fusion as search dimensions: conditions, canonical genotypes, exact counts, ready YAMLs."""

from __future__ import annotations

import random
from pathlib import Path

import yaml

from gnas.architecture import Architecture
from gnas.space import (
    canonical,
    count_architectures,
    crossover_uniform,
    decode,
    encode,
    load_search_file,
    mutate,
    parse_space,
    sample,
)
from gnas.spec import load_train_spec

ROOT = Path(__file__).resolve().parent.parent
FUSION_GENES = ["fusion", "fusion_op", "fusion_layers", "fusion_dim", "fusion_user_profile"]
SPACE = {
    "num_layers": 1,
    "fusion": ["none", "input", "output", "both"],
    "fusion_op": {"type": "choice", "values": ["concat", "add", "gate", "attention"]},
    "fusion_layers": {"type": "int", "low": 1, "high": 3},
    "fusion_dim": [64, 128],
    "fusion_user_profile": {"type": "bool"},
}


def test_canonical_genotypes_drop_fusion_options_that_cannot_matter() -> None:
    space = parse_space(SPACE)
    keys = space.keys()
    genes = {k: i for i, k in enumerate(keys)}
    plain = encode(space, Architecture(num_layers=1))
    assert [plain[genes[k]] for k in FUSION_GENES] == ["none", None, None, None, None]
    shallow = encode(space, Architecture(num_layers=1, fusion="input", fusion_op="add", fusion_dim=128))
    assert [shallow[genes[k]] for k in FUSION_GENES] == ["input", "add", 1, None, False]
    deep = Architecture(
        num_layers=1, fusion="both", fusion_layers=2, fusion_dim=128, fusion_user_profile=True
    )
    assert decode(space, encode(space, deep)) == deep.canonical()
    # 1 (none) + 3 places x 4 ops x (1 + 2 depths x 2 widths) x 2 user profiles
    assert count_architectures(space) == 1 + 3 * 4 * 5 * 2


def test_operators_keep_genotypes_canonical_and_in_the_space() -> None:
    space = parse_space(SPACE)
    rng = random.Random(0)
    seen = set()
    for _ in range(60):
        a, b = sample(space, rng), sample(space, rng)
        for child in (mutate(space, a, rng), *crossover_uniform(space, a, b, rng)):
            assert canonical(space, child) == child
            seen.add(decode(space, child).fusion)
    assert seen == {"none", "input", "output", "both"}


def test_ready_files() -> None:
    point = load_train_spec(ROOT / "search_spaces" / "gat_text.yaml")
    assert point.split.method == "cold_item" and point.architecture.fusion != "none"
    assert point.dataset.text.fields == ["title", "genres"] and point.dataset.text.tags == "none"
    search = load_search_file(ROOT / "search_spaces" / "gat_text_search.yaml")
    assert search.space.may_fuse_text()
    assert not load_search_file(ROOT / "bench" / "spaces" / "quickstart504.yaml").space.may_fuse_text()
    by_key = {param.key: param for param in search.space.params}
    assert [c.field for c in by_key["fusion_dim"].when] == ["fusion_layers"]
    data = yaml.safe_load((ROOT / "search_spaces" / "gat_text_search.yaml").read_text())
    data["space"]["fusion"] = "none"
    for key in FUSION_GENES[1:]:
        data["space"].pop(key)
    fused, plain = count_architectures(search.space), count_architectures(parse_space(data["space"]))
    assert fused == plain * (1 + 3 * 5 * (1 + 2 * 3) * 2)  # 3 places x 5 operators x 7 projections x 2

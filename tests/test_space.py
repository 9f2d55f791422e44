"""Search-space files: parsing, every bad input named by its YAML path, and exact counts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from space_helpers import enumerate_architectures, space_dicts

from gnas.architecture import Architecture, LayerArch
from gnas.space import (
    Bool,
    Choice,
    Fixed,
    FloatRange,
    IntRange,
    SpaceError,
    count_architectures,
    dimension_rows,
    format_count,
    load_search_file,
    parse_search_file,
    parse_space,
)

ROOT = Path(__file__).resolve().parent.parent
GLOBAL_FIELDS = len(Architecture.model_fields)  # num_layers in place of layers
LAYER_FIELDS = len(LayerArch.model_fields)


def problems_of(space: Any) -> list[str]:
    with pytest.raises(SpaceError) as caught:
        parse_space(space)
    return [str(problem) for problem in caught.value.problems]


def test_every_dimension_form() -> None:
    space = parse_space(
        {
            "embedding_dim": [32, 64],
            "num_layers": {"type": "int", "low": 1, "high": 3},
            "combine": "concat",
            "temperature": {"type": "float", "low": 0.01, "high": 1, "log": True},
            "layers": {
                "residual": {"type": "bool"},
                "heads": {"type": "int", "low": 1, "high": 7, "step": 2},
            },
        }
    )
    by_key = {param.key: param for param in space.params}
    assert by_key["embedding_dim"].dimension == Choice((32, 64))
    assert by_key["num_layers"].dimension == IntRange(1, 3)
    assert by_key["combine"].dimension == Fixed("concat") and by_key["combine"].explicit
    assert (
        by_key["score"].dimension == Fixed("dot") and not by_key["score"].explicit
    )  # the Architecture default
    assert by_key["temperature"].dimension == FloatRange(0.01, 1.0, log=True)
    assert by_key["layers[2].residual"].dimension == Bool()
    assert by_key["layers[0].heads"].dimension.values() == (1, 3, 5, 7)
    assert space.max_layers == 3 and space.length == GLOBAL_FIELDS + 3 * LAYER_FIELDS
    assert space.keys()[:5] == ["embedding_dim", "num_layers", "combine", "score", "temperature"]
    assert space.keys()[5:10] == [
        "fusion",
        "fusion_op",
        "fusion_layers",
        "fusion_dim",
        "fusion_user_profile",
    ]
    branch = ["branch", "branch_mix", "branch_k", "branch_alpha", "branch_order", "branch_l2"]
    assert space.keys()[10:16] == branch
    assert space.keys()[16:19] == ["layers[0].conv", "layers[0].hidden", "layers[0].heads"]


def test_layers_as_a_list_and_conditions_on_globals() -> None:
    space = parse_space(
        {
            "num_layers": [1, 2],
            "score": ["dot", "cosine"],
            "layers": [
                {"conv": "gat", "heads": [1, 2]},
                {"conv": "gcn", "residual": {"type": "bool", "when": {"score": "cosine"}}},
            ],
        }
    )
    assert not space.shared_layers
    assert space.layers[0][0].dimension == Fixed("gat") and space.layers[1][0].dimension == Fixed("gcn")
    residual = space.layers[1][8]
    assert (
        residual.name == "residual"
        and residual.when[0].field == "score"
        and residual.when[0].scope == "global"
    )
    # score 2 x (gat heads 2 + gat heads 2 x gcn residual (1 for dot, 2 for cosine))
    assert count_architectures(space) == (2 + 2 * 1) + (2 + 2 * 2)


def test_conditions_read_effective_values() -> None:
    """``heads`` of a GCN layer is 1 whatever its gene: a condition on heads follows the built model."""
    space = parse_space(
        {
            "num_layers": 1,
            "layers": {
                "conv": ["gcn", "gat"],
                "heads": [1, 2],
                "concat_heads": {"type": "bool", "when": {"heads": 2}},
            },
        }
    )
    order = [space.layers[0][position].name for position in space.layer_orders[0]]
    assert order.index("conv") < order.index("heads") < order.index("concat_heads")
    assert count_architectures(space) == 1 + (1 + 2) == len(enumerate_architectures(space) or ())


@pytest.mark.parametrize(
    ("space", "path", "fragment"),
    [
        (
            {"layers": {"dropout": {"type": "uniform"}}},
            "space.layers.dropout.type",
            "valid: choice, int, float, bool",
        ),
        ({"layers": {"conv": "gcnn"}}, "space.layers.conv", "valid: lightgcn, gcn, sage, gat, gatv2"),
        ({"layers": {"conv": ["gcn", "gcnn"]}}, "space.layers.conv[1]", "'gcnn' is not a valid conv"),
        ({"combine": {"type": "choice", "values": []}}, "space.combine.values", "empty choice list"),
        (
            {"layers": [{}, {}, {"heads": {"type": "int", "low": 8, "high": 4}}]},
            "space.layers[2].heads",
            "low 8 > high 4",
        ),
        (
            {"layers": {"dropout": {"type": "float", "low": 0.0, "high": 0.5, "log": True}}},
            "space.layers.dropout",
            "log scale needs low > 0",
        ),
        (
            {"embedding_dim": {"type": "int", "low": 8, "high": 64, "step": 0}},
            "space.embedding_dim.step",
            "positive",
        ),
        (
            {"layers": {"heads": {"type": "choice", "values": [2], "when": {"convv": "gat"}}}},
            "space.layers.heads.when.convv",
            "unknown dimension",
        ),
        ({"layers": {"heads": 0}}, "space.layers.heads", "greater than or equal to 1"),
        (
            {"embedding_dim": {"type": "choice", "values": [32, "big"]}},
            "space.embedding_dim.values[1]",
            "'big' is not a valid embedding_dim",
        ),
        (
            {"layers": {"residual": {"type": "choice", "values": [1, 0]}}},
            "space.layers.residual.values[0]",
            "1 is not a valid residual (valid: false, true)",
        ),
        (
            {"num_layers": {"type": "int", "low": 1, "high": 3}, "layers": [{}, {}]},
            "space.layers",
            "2 layer entries, fewer than the largest num_layers 3",
        ),
        (
            {"layers": {"dropout": {"type": "float", "low": 0.0, "high": 1.0}}},
            "space.layers.dropout.high",
            "less than 1",
        ),
        (
            {"layers": {"heads": {"type": "float", "low": 1, "high": 4}}},
            "space.layers.heads.type",
            "not a real-valued field",
        ),
        (
            {"layers": {"conv": {"type": "choice", "values": ["gat"], "when": {"heads": 2}}}},
            "space.layers.conv.when",
            "circular condition (conv -> heads -> conv)",
        ),
        (
            {"combine": {"type": "choice", "values": ["mean"], "when": {"conv": "gat"}}},
            "space.combine.when.conv",
            "unknown dimension",
        ),
        (
            {"layers": {"heads": {"type": "choice", "values": [2], "when": {"conv": "gatt"}}}},
            "space.layers.heads.when.conv",
            "'gatt' is not a valid conv",
        ),
        (
            {"num_layers": {"type": "choice", "values": [1], "when": {"score": "dot"}}},
            "space.num_layers.when",
            "cannot be conditional",
        ),
        ({"layers": {"heads": {"type": "choice", "value": [2]}}}, "space.layers.heads.value", "unknown key"),
        ({"layers": {"heads": {"values": [2]}}}, "space.layers.heads", "needs a 'type'"),
        ({"embeding_dim": 32}, "space.embeding_dim", "unknown dimension"),
    ],
)
def test_bad_input_names_its_yaml_path(space: dict[str, Any], path: str, fragment: str) -> None:
    first = problems_of(space)[0]
    assert first.startswith(f"{path}: "), first
    assert fragment in first, first


def test_every_problem_is_reported() -> None:
    found = problems_of(
        {"embedding_dim": [], "layers": {"heads": {"type": "int", "low": 4, "high": 2}, "aggr": "avg"}}
    )
    assert [line.split(":")[0] for line in found] == [
        "space.embedding_dim",
        "space.layers.heads",
        "space.layers.aggr",
    ]


def test_search_file_sections_and_unknown_top_level_keys() -> None:
    with pytest.raises(SpaceError) as caught:
        parse_search_file({"architecture": {}, "training": {"max_epochs": 0}}, "f.yaml")
    lines = caught.value.lines()
    assert any(line.startswith("f.yaml: architecture: unknown key") for line in lines)
    assert any(line.startswith("f.yaml: training.max_epochs: ") for line in lines)
    assert any(line.startswith("f.yaml: space: missing key") for line in lines)
    assert str(caught.value).startswith("f.yaml: ") and "more problem" in str(caught.value)


def test_ready_spaces() -> None:
    quick = load_search_file(ROOT / "search_spaces/quickstart.yaml")
    assert quick.dataset.name == "ml-latest-small" and quick.split.ratios == (0.8, 0.1, 0.1)
    assert quick.split.seed == 2020 and quick.training.max_epochs == 200 and quick.training.patience == 10
    budget = quick.search.trial_budget
    assert budget is not None and (budget.max_epochs, budget.patience) == (30, 5)
    # 2 embeddings x 2 combines x 2 scores x 2 fusions x sum over 1..3 layers of 3 convs^n, times the
    # training genes: 2 lr x 2 weight decays x (bpr + softmax at 2 temperatures)
    architectures = 16 * (3 + 3**2 + 3**3)
    assert len(enumerate_architectures(quick.space) or ()) == architectures
    assert count_architectures(quick.space) == architectures * 12
    gat = load_search_file(ROOT / "search_spaces/gat.yaml")
    common = 5 * 4 * 2 * 3  # activation, dropout, residual, norm
    per_layer = (
        common  # lightgcn: hidden ignored
        + 3 * common  # gcn: hidden
        + 3 * 3 * common  # sage: hidden, aggr
        + 2
        * 3
        * (1 + 3 * 2)
        * 3
        * common  # gat, gatv2: hidden, heads (concat only with heads > 1), attention dropout
    )
    globals_ = 3 * 6 * (1 + 4)  # embedding, combine, dot or cosine x temperature
    assert count_architectures(gat.space) == globals_ * sum(per_layer**n for n in range(1, 5))
    assert {param.name for param in gat.space.layers[0] if param.dimension.size > 1} == {
        "conv",
        "hidden",
        "heads",
        "concat_heads",
        "aggr",
        "activation",
        "dropout",
        "attention_dropout",
        "residual",
        "norm",
    }


def test_lightgcn_yaml_is_a_train_file_not_a_search_file() -> None:
    with pytest.raises(SpaceError) as caught:
        load_search_file(ROOT / "search_spaces/lightgcn.yaml")
    assert [str(problem) for problem in caught.value.problems] == [
        "space: missing key",
        "architecture: unknown key",
    ]


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ({"num_layers": 0, "combine": ["mean", "last"]}, 1),  # no layers: combine is ignored
        ({"num_layers": [0, 1], "combine": ["mean", "last"]}, 1 + 2),
        ({"score": "dot", "temperature": {"type": "float", "low": 0.1, "high": 1}}, 1),  # ignored with dot
        ({"score": ["dot", "cosine"], "temperature": {"type": "float", "low": 0.1, "high": 1}}, math.inf),
        (
            {
                "layers": {
                    "conv": "gcn",
                    "dropout": {"type": "float", "low": 0, "high": 0.5, "when": {"conv": "gat"}},
                }
            },
            1,
        ),
        (
            {
                "layers": {
                    "conv": ["gcn", "gat"],
                    "dropout": {"type": "float", "low": 0, "high": 0.5, "when": {"conv": "gat"}},
                }
            },
            math.inf,
        ),
        (
            {
                "num_layers": {"type": "int", "low": 1, "high": 2},
                "layers": {"conv": ["lightgcn", "sage"], "aggr": ["sum", "max"]},
            },
            3 + 9,
        ),
    ],
)
def test_counts(space: dict[str, Any], expected: float) -> None:
    assert count_architectures(parse_space(space)) == expected


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(space_dicts(discrete=True, max_layers=2, small=True))
def test_count_matches_enumeration(space_dict: dict[str, Any]) -> None:
    space = parse_space(space_dict)
    everything = enumerate_architectures(space, limit=400)
    assume(everything is not None)
    assert everything is not None
    assert count_architectures(space) == len(everything)


def test_format_count_and_rows() -> None:
    assert format_count(504) == "504"
    assert format_count(6_966_999_229_440_000_000) == "6,966,999,229,440,000,000 (~7.0e+18)"
    assert format_count(math.inf).startswith("infinite")
    space = parse_space(yaml.safe_load((ROOT / "search_spaces/quickstart.yaml").read_text())["space"])
    rows = {row.dimension: row for row in dimension_rows(space)}
    assert rows["fusion_op"].values == "choice [residual]" and rows["fusion_op"].when == "fusion = input"
    assert rows["layers.norm"].values == "none (default)" and rows["num_layers"].values == "int 1..3"
    assert rows["training.temperature"].when == "loss = softmax"
    # shared layers: one row per layer field; 5 training genes
    assert len(rows) == GLOBAL_FIELDS + LAYER_FIELDS + 5


def test_readme_example_is_a_valid_search_file() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Search spaces") :]
    example = section[
        section.index("```yaml") + len("```yaml") : section.index("```\n", section.index("```yaml"))
    ]
    search = parse_search_file(yaml.safe_load(example), "README.md")
    assert search.name == "quickstart" and search.space.max_layers == 3
    assert count_architectures(search.space) == math.inf  # float dropout

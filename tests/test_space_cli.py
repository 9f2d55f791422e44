"""``gnas space validate | show | sample`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gnas.cli import app
from gnas.space import contains, encode, load_search_file
from gnas.spec import load_train_spec

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "bench" / "spaces" / "quickstart504.yaml"  # a fixed 504-architecture space


def write_space(folder: Path, space: Any, **sections: Any) -> Path:
    data = yaml.safe_load(QUICKSTART.read_text())
    data["space"] = space
    data.update(sections)
    path = folder / "space.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["quickstart", "gat", "strong"])
def test_validate_ready_spaces(name: str) -> None:
    result = runner.invoke(app, ["space", "validate", str(ROOT / "search_spaces" / f"{name}.yaml")])
    assert result.exit_code == 0, result.output
    (line,) = error_lines(result.output)
    assert line.startswith("OK ") and "distinct architectures" in line
    if name == "quickstart":
        assert "7,488 distinct architectures" in line and "up to 3 layers" in line


@pytest.mark.parametrize(
    ("space", "path", "fragment"),
    [
        (
            {"layers": {"norm": {"type": "normal"}}},
            "space.layers.norm.type",
            "unknown dimension type 'normal'",
        ),
        ({"layers": {"conv": "gcnn"}}, "space.layers.conv", "valid: lightgcn, gcn, sage, gat, gatv2"),
        ({"layers": {"conv": []}}, "space.layers.conv", "empty choice list"),
        (
            {"num_layers": 2, "layers": [{}, {"heads": {"type": "int", "low": 8, "high": 4}}]},
            "space.layers[1].heads",
            "low 8 > high 4",
        ),
        (
            {"layers": {"dropout": {"type": "float", "low": 0, "high": 0.5, "log": True}}},
            "space.layers.dropout",
            "log scale needs low > 0",
        ),
        (
            {"embedding_dim": {"type": "int", "low": 16, "high": 64, "step": -16}},
            "space.embedding_dim.step",
            "positive",
        ),
        (
            {"layers": {"heads": {"type": "choice", "values": [2, 4], "when": {"conb": "gat"}}}},
            "space.layers.heads.when.conb",
            "unknown dimension 'conb'",
        ),
        ({"score": "euclid"}, "space.score", "'euclid' is not a valid score (valid: dot, cosine)"),
        ({"layers": {"heads": ["two", 4]}}, "space.layers.heads[0]", "'two' is not a valid heads"),
        (
            {"num_layers": {"type": "int", "low": 1, "high": 3}, "layers": [{}, {}]},
            "space.layers",
            "2 layer entries",
        ),
    ],
)
def test_validate_bad_input(tmp_path: Path, space: Any, path: str, fragment: str) -> None:
    file = write_space(tmp_path, space)
    result = runner.invoke(app, ["space", "validate", str(file)])
    assert result.exit_code == 2
    (line,) = error_lines(result.output)
    assert line.startswith(f"error: {file}: {path}: "), line
    assert fragment in line


def test_validate_lists_every_problem_one_line_each(tmp_path: Path) -> None:
    file = write_space(tmp_path, {"combine": [], "layers": {"aggr": "avg"}}, training={"patience": 0})
    result = runner.invoke(app, ["space", "validate", str(file)])
    assert result.exit_code == 2
    lines = error_lines(result.output)
    assert [line.split(": ")[2] for line in lines] == [
        "training.patience",
        "space.combine",
        "space.layers.aggr",
    ]
    assert all(line.startswith(f"error: {file}: ") for line in lines)


def test_missing_file_and_broken_yaml(tmp_path: Path) -> None:
    result = runner.invoke(app, ["space", "validate", str(tmp_path / "absent.yaml")])
    assert result.exit_code == 2 and "absent.yaml: no such file" in result.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("space: [unclosed\n")
    result = runner.invoke(app, ["space", "show", str(broken)])
    assert result.exit_code == 2 and "not valid YAML" in result.output


def test_show(tmp_path: Path) -> None:
    result = runner.invoke(app, ["space", "show", str(QUICKSTART), "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "layers.heads" in result.output and "conv = gat" in result.output
    assert "choice [lightgcn, gcn, gat]" in result.output and "none (default)" in result.output
    assert "distinct architectures: 504" in result.output
    samples = [
        line.strip() for line in result.output.splitlines() if line.strip()[:3] in ("1. ", "2. ", "3. ")
    ]
    assert len(samples) == 3 and all("layer" in line and "embedding_dim=" in line for line in samples)
    continuous = write_space(tmp_path, {"layers": {"dropout": {"type": "float", "low": 0, "high": 0.5}}})
    assert "infinite (continuous dimensions)" in runner.invoke(app, ["space", "show", str(continuous)]).output


def test_sample_writes_train_files_inside_the_space(tmp_path: Path) -> None:
    out = tmp_path / "samples"
    result = runner.invoke(
        app, ["space", "sample", str(QUICKSTART), "-n", "5", "-o", str(out), "--seed", "11"]
    )
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"quickstart-{i:03d}.yaml" for i in range(5)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left
    search = load_search_file(QUICKSTART)
    genotypes = set()
    for file in files:
        spec = load_train_spec(file)
        assert spec.name == file.stem and spec.seed == search.seed
        assert (spec.dataset, spec.split, spec.training) == (search.dataset, search.split, search.training)
        assert contains(search.space, spec.architecture)
        genotype = encode(search.space, spec.architecture)
        header = next(line for line in file.read_text().splitlines() if line.startswith("# genotype: "))
        assert tuple(json.loads(header.removeprefix("# genotype: "))) == genotype
        genotypes.add(genotype)
    assert len(genotypes) == 5
    again = tmp_path / "again"
    runner.invoke(app, ["space", "sample", str(QUICKSTART), "-n", "5", "-o", str(again), "--seed", "11"])
    assert [f.read_text() for f in files] == [f.read_text() for f in sorted(again.iterdir())]


def test_sample_refuses_a_non_empty_folder_and_fills_an_empty_one(tmp_path: Path) -> None:
    out = tmp_path / "samples"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    result = runner.invoke(app, ["space", "sample", str(QUICKSTART), "-o", str(out)])
    assert result.exit_code == 2 and "not an empty folder" in result.output
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    (out / "mine.txt").unlink()
    result = runner.invoke(app, ["space", "sample", str(QUICKSTART), "-o", str(out), "-n", "2"])
    assert result.exit_code == 0 and len(list(out.iterdir())) == 2


def test_sample_small_space_and_bad_count(tmp_path: Path) -> None:
    file = write_space(tmp_path, {"num_layers": 1, "layers": {"conv": ["gcn", "gat"]}})
    out = tmp_path / "out"
    result = runner.invoke(app, ["space", "sample", str(file), "-n", "5", "-o", str(out)])
    assert result.exit_code == 0 and "only 2 different architectures" in result.output
    assert sorted(load_train_spec(f).architecture.layers[0].conv for f in out.iterdir()) == ["gat", "gcn"]
    result = runner.invoke(app, ["space", "sample", str(file), "-n", "0", "-o", str(tmp_path / "none")])
    assert result.exit_code == 2 and "--num" in result.output and not (tmp_path / "none").exists()

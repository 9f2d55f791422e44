"""`gnas features build` and `gnas train` with fused text end to end (a tiny BERT stands in for the
language model), every bad input as one line with nothing half-written, and the real packaged MiniLM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from gnas.cli import app
from gnas.errors import GnasError
from gnas.spec import TextSpec
from gnas.text.encoder import TextEncoder
from gnas.text.model import locate_model, packaged_model_dir
from gnas.text.texts import compose_texts
from tests.text_helpers import GENRES, tiny_bert

runner = CliRunner()


@pytest.fixture(scope="module")
def bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert")


def write_data(folder: Path) -> dict[str, Any]:
    """A CSV data set where users of one genre watch its movies, with an item-text file."""
    rng = np.random.default_rng(0)
    genre = np.arange(80) % 4
    rows = [
        (f"u{u}", f"m{i}")
        for u in range(40)
        for i in rng.choice(np.flatnonzero(genre == u % 4), size=8, replace=False)
    ]
    pd.DataFrame(rows, columns=["uid", "iid"]).to_csv(folder / "ratings.csv", index=False)
    items = pd.DataFrame(
        {"iid": [f"m{i}" for i in range(80)], "title": [f"item {i % 10}" for i in range(80)]}
    ).assign(genres=[GENRES[g] for g in genre])
    items.to_csv(folder / "items.csv", index=False)
    return {
        "name": "movies",
        "format": "csv",
        "path": str(folder / "ratings.csv"),
        "columns": {"user": "uid", "item": "iid"},
        "item_text": {
            "path": str(folder / "items.csv"),
            "id_column": "iid",
            "text_columns": ["title", "genres"],
        },
    }


def write_config(folder: Path, bert: Path, **text: Any) -> Path:
    dataset = {**write_data(folder), "text": {"model": str(bert), "batch_size": 16, **text}}
    config = {
        "name": "fused",
        "seed": 1,
        "dataset": dataset,
        "split": {"method": "cold_item", "cold_fraction": 0.2, "seed": 1},
        "training": {"max_epochs": 3, "batch_size": 128, "ks": [5], "metric": "ndcg@5"},
        "architecture": {
            "embedding_dim": 8,
            "num_layers": 1,
            "layers": {"conv": "gat", "heads": 2},
            "fusion": "both",
            "fusion_op": "gate",
            "fusion_user_profile": True,
        },
    }
    path = folder / "fused.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    return lines[0]


def test_features_build_then_train_reads_the_cache(
    tmp_path: Path, bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNAS_CACHE_DIR", str(tmp_path / "cache"))
    config = write_config(tmp_path, bert)
    result = runner.invoke(app, ["features", "build", str(config)])
    assert result.exit_code == 0, result.output
    assert "shape 80 x 8 (80 texts embedded)" in result.output
    entries = list((tmp_path / "cache" / "features").iterdir())
    assert (
        len(entries) == 1
        and entries[0].suffix == ".npz"
        and str(entries[0]) in result.output.replace("\n", "")
    )
    again = runner.invoke(app, ["features", "build", str(config)])
    assert "(from the cache)" in again.output

    def no_encoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("train must read the cached features")

    monkeypatch.setattr("gnas.text.encoder.TextEncoder.encode", no_encoding)
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(config), "--out", str(out), "--name", "r"])
    assert result.exit_code == 0, result.output
    assert "cold start" in result.output and "popularity" in result.output
    metrics = json.loads((out / "r" / "metrics.json").read_text())
    report = metrics["cold_start"]
    assert set(report) == {"valid", "test"}
    for part in report.values():
        assert set(part) == {"model", "popularity"}
        assert set(part["model"]) == {"all", "warm", "cold"} == set(part["popularity"])
    assert report["test"]["model"]["all"] == metrics["test"]
    assert report["valid"]["model"]["all"] == metrics["valid"]  # the best epoch's weights


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ({"model": "/no/such/model"}, "dataset.text.model: /no/such/model: no such model directory"),
        ({"model": "EMPTY"}, "is not a text encoder model directory (no config.json)"),
        ({"model": "NOT_TEXT"}, "is not a loadable text encoder"),
        ({"fields": ["title", "plot"]}, "dataset.text.fields[1]: 'plot' is not an item text column"),
        ({"template": "{title} {year}"}, "dataset.text.template: {year} is not one of dataset.text.fields"),
        ({"fields": ["empty"]}, "dataset.text.fields: every item text of 'movies' is empty"),
    ],
)
def test_bad_text_input_is_one_line_and_caches_nothing(
    tmp_path: Path, bert: Path, monkeypatch: pytest.MonkeyPatch, text: dict[str, Any], expected: str
) -> None:
    monkeypatch.setenv("GNAS_CACHE_DIR", str(tmp_path / "cache"))
    if text.get("model") == "EMPTY":
        (tmp_path / "empty").mkdir()
        text = {"model": str(tmp_path / "empty")}
    elif text.get("model") == "NOT_TEXT":  # a config, but no tokenizer or weights
        (tmp_path / "vision").mkdir()
        (tmp_path / "vision" / "config.json").write_text(json.dumps({"model_type": "vit"}))
        text = {"model": str(tmp_path / "vision")}
    config = write_config(tmp_path, bert, **text)
    if text.get("fields") == ["empty"]:
        items = pd.read_csv(tmp_path / "items.csv").assign(empty=" ")
        items.to_csv(tmp_path / "items.csv", index=False)
        data = yaml.safe_load(config.read_text())
        data["dataset"]["item_text"]["text_columns"] = ["title", "empty"]
        config.write_text(yaml.safe_dump(data))
    for command in (
        ["features", "build", str(config)],
        ["train", str(config), "--out", str(tmp_path / "runs")],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 2
        assert expected in one_error_line(result.output)
    cache = tmp_path / "cache" / "features"
    assert not cache.exists() or not any(cache.iterdir())
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_data_set_without_text_cannot_fuse(tmp_path: Path) -> None:
    rows = [(f"u{u}", i) for u in range(10) for i in range(u % 3, u % 3 + 10)]
    pd.DataFrame(rows, columns=["uid", "iid"]).to_csv(tmp_path / "r.csv", index=False)
    config = {
        "dataset": {
            "name": "x",
            "format": "csv",
            "path": str(tmp_path / "r.csv"),
            "columns": {"user": "uid", "item": "iid"},
        },
        "architecture": {"num_layers": 1, "fusion": "input"},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["train", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "'x' has no item text" in one_error_line(result.output)


def test_templates_and_empty_items() -> None:
    text = pd.DataFrame({"title": ["Alien", "", "Heat"], "genres": ["scifi", "", ""]})
    assert compose_texts(text, TextSpec(), "d") == ["Alien. scifi", "", "Heat"]
    assert compose_texts(text, TextSpec(template="{title} ({genres})"), "d") == [
        "Alien (scifi)",
        "",
        "Heat ()",
    ]
    assert compose_texts(text, TextSpec(fields=["genres", "title"]), "d") == ["scifi. Alien", "", "Heat"]
    with pytest.raises(GnasError, match="dataset.text.template"):
        compose_texts(text, TextSpec(template="{title"), "d")


def test_hub_names_are_never_downloaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(GnasError, match="not in the local Hugging Face cache|nothing is downloaded"):
        locate_model("someone/some-model-that-is-not-here")


def test_the_packaged_minilm_embeds_text_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    files = locate_model(None)
    assert files.path == packaged_model_dir() and files.dim == 384
    texts = [
        "A space horror film with an alien on a ship.",
        "Alien (1979). Horror, Sci-Fi",
        "A romantic comedy in Paris.",
    ]
    vectors = TextEncoder(files, device="cpu").encode(texts, batch_size=2, max_length=64)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] and similarity[0, 1] > similarity[1, 2]


def test_a_search_embeds_item_text_once_for_all_trials(
    tmp_path: Path, bert: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gnas.search.run as search_run
    from gnas.search.settings import SearchSettings
    from gnas.space import parse_search_file

    monkeypatch.setenv("GNAS_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[int] = []
    real = search_run.item_features

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(search_run, "item_features", counting)
    config = yaml.safe_load(write_config(tmp_path, bert).read_text())
    config.pop("architecture")
    config["training"]["max_epochs"] = 1
    config["space"] = {
        "embedding_dim": 8,
        "num_layers": 1,
        "fusion": ["none", "input", "output", "both"],
        "fusion_op": ["concat", "add", "gate", "attention"],
        "layers": {"conv": ["lightgcn", "gat"]},
    }
    config["search"] = {"controller": "random", "max_trials": 6, "objectives": [{"metric": "ndcg@5"}]}
    file = parse_search_file(config)
    outcome = search_run.search(
        file, SearchSettings.model_validate(config["search"]), out=tmp_path / "runs", device="cpu"
    )
    assert calls == [1]
    statuses = {r.result.status for r in outcome.records}
    assert statuses == {"ok"}, [r.result.error for r in outcome.records]
    assert any(r.architecture.get("fusion", "none") != "none" for r in outcome.records)

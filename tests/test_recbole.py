"""RecBole atomic files (``dataset.format: recbole``): loading, the shipped split, item text, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from gnas.cli import app
from gnas.data.interactions import TEST, TRAIN, VALID
from gnas.data.registry import load_dataset
from gnas.data.split import split_interactions
from gnas.errors import GnasError
from gnas.spec import DatasetSpec, SplitSpec, TextSpec
from gnas.text.texts import compose_texts
from tests.text_helpers import tiny_bert

runner = CliRunner()
HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"


def atomic(path: Path, header: str, rows: list[tuple[object, ...]]) -> Path:
    """A tab-separated atomic file with ``header`` as its first line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [header] + ["\t".join(str(value) for value in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def plain_folder(root: Path) -> Path:
    folder = root / "toy"
    atomic(
        folder / "toy.inter",
        HEADER,
        [("u1", "007", 5, 100), ("u1", "i2", 2, 200), ("u2", "007", 4, 300), ("u2", "NA", 1, 400)],
    )
    return folder


def item_file(folder: Path, name: str = "toy") -> Path:
    return atomic(
        folder / f"{name}.item",
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tgenre:token_seq\tscore:float",
        [
            ("007", "Dr.  No", 1962, "Action  Thriller", 7.5),
            ("i2", "Heat", 1995, "Crime", 8.0),
            ("NA", "Not Available", 2001, "", 1.0),
            ("cold", "Only Text", 2020, "Drama", 6.0),
            ("007", "a repeated row", 1999, "", 0.0),
        ],
    )


def presplit_rows(users: int = 24) -> dict[str, list[tuple[object, ...]]]:
    """Two taste groups; each user's last item in test, the one before in valid, the rest in train."""
    parts: dict[str, list[tuple[object, ...]]] = {"train": [], "valid": [], "test": []}
    for u in range(users):
        items = [f"i{(u % 2) * 12 + j}" for j in range(10)]
        for j, item in enumerate(items):
            part = "test" if j == 9 else "valid" if j == 8 else "train"
            parts[part].append((f"u{u}", item, 1 + j % 5, 1_600_000_000 + u * 100 + j))
    return parts


def presplit_folder(
    root: Path, parts: tuple[str, ...] = ("train", "valid", "test"), name: str = "bench"
) -> Path:
    folder = root / name
    rows = presplit_rows()
    for part in parts:
        atomic(folder / f"{name}.{part}.inter", HEADER, rows[part])
    return folder


def spec(folder: Path, name: str = "toy", **extra: object) -> DatasetSpec:
    return DatasetSpec.model_validate({"name": name, "format": "recbole", "path": str(folder), **extra})


def pairs_of(data, part: np.ndarray, label: int) -> set[tuple[str, str]]:
    rows = part == label
    return set(zip(data.user_ids[data.user[rows]], data.item_ids[data.item[rows]], strict=True))


# --- loading ----------------------------------------------------------------------------------------


def test_inter_file_loads_with_token_ids_kept_as_text(tmp_path: Path) -> None:
    data = load_dataset(spec(plain_folder(tmp_path)))
    # Tokens stay strings: "007" keeps its zeros and "NA" is an item, not a missing value.
    assert list(data.user_ids) == ["u1", "u2"]
    assert list(data.item_ids) == ["007", "NA", "i2"]
    assert set(zip(data.user_ids[data.user], data.item_ids[data.item], strict=True)) == {
        ("u1", "007"),
        ("u1", "i2"),
        ("u2", "007"),
        ("u2", "NA"),
    }
    assert data.timestamp is not None and sorted(data.timestamp) == [100, 200, 300, 400]
    assert data.fixed_part is None and data.item_text is None


def test_min_rating_reads_the_rating_field_by_its_default_name(tmp_path: Path) -> None:
    data = load_dataset(spec(plain_folder(tmp_path), min_rating=4))
    assert set(zip(data.user_ids[data.user], data.item_ids[data.item], strict=True)) == {
        ("u1", "007"),
        ("u2", "007"),
    }


def test_dataset_columns_name_other_fields(tmp_path: Path) -> None:
    folder = tmp_path / "own"
    atomic(
        folder / "own.inter",
        "session:token\ttrack:token\tplays:float\twhen:float\tuser_id:float",
        [("s1", "t1", 3, 10.0, 1), ("s1", "t2", 1, 20.0, 1), ("s2", "t1", 9, 30.0, 2)],
    )
    columns = {"user": "session", "item": "track", "rating": "plays", "timestamp": "when"}
    data = load_dataset(spec(folder, "own", columns=columns, min_rating=2))
    assert list(data.user_ids) == ["s1", "s2"] and list(data.item_ids) == ["t1"]
    assert sorted(data.timestamp.tolist()) == [10, 30]


def test_item_file_gives_the_item_text_and_text_only_items(tmp_path: Path) -> None:
    folder = plain_folder(tmp_path)
    item_file(folder)
    data = load_dataset(spec(folder))
    assert list(data.item_ids) == ["007", "NA", "cold", "i2"]  # "cold" has text and no interaction
    text = data.item_text
    assert text is not None and list(text.columns) == ["movie_title", "release_year", "genre"]  # no float
    assert text.loc[0].tolist() == ["Dr. No", "1962", "Action Thriller"]  # first row of a repeated id
    assert text.loc[1].tolist() == ["Not Available", "2001", ""]
    texts = compose_texts(text, TextSpec(template="{movie_title} ({release_year}): {genre}"))
    assert texts == [
        "Dr. No (1962): Action Thriller",
        "Not Available (2001):",
        "Only Text (2020): Drama",
        "Heat (1995): Crime",
    ]


def test_item_file_without_text_columns_keeps_its_items(tmp_path: Path) -> None:
    folder = plain_folder(tmp_path)
    atomic(folder / "toy.item", "item_id:token\tprice:float", [("007", 1.0), ("extra", 2.0)])
    data = load_dataset(spec(folder))
    assert data.item_text is None and "extra" in set(data.item_ids)


# --- the shipped split ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["auto", "fixed"])
def test_presplit_files_are_kept_exactly(tmp_path: Path, method: str) -> None:
    data = load_dataset(spec(presplit_folder(tmp_path), "bench"))
    split = split_interactions(data, SplitSpec(method=method))
    rows = presplit_rows()
    for name, label in (("train", TRAIN), ("valid", VALID), ("test", TEST)):
        assert pairs_of(data, split.part, label) == {(u, i) for u, i, _, _ in rows[name]}
    # The same parts whatever the seed: nothing is carved out of train.
    again = split_interactions(data, SplitSpec(method=method, seed=7, ratios=(0.5, 0.25, 0.25)))
    assert np.array_equal(again.part, split.part)


def test_presplit_without_valid_carves_valid_out_of_train_only(tmp_path: Path) -> None:
    data = load_dataset(spec(presplit_folder(tmp_path, ("train", "test")), "bench"))
    split = split_interactions(data, SplitSpec())
    rows = presplit_rows()
    assert pairs_of(data, split.part, TEST) == {(u, i) for u, i, _, _ in rows["test"]}
    valid = pairs_of(data, split.part, VALID)
    assert valid and valid <= {(u, i) for u, i, _, _ in rows["train"] + rows["valid"]}


def test_split_files_win_over_the_inter_file_and_random_split_ignores_them(tmp_path: Path) -> None:
    folder = presplit_folder(tmp_path)
    atomic(folder / "bench.inter", HEADER, [("other", "x", 1, 1)])
    data = load_dataset(spec(folder, "bench"))
    assert "other" not in set(data.user_ids) and data.fixed_part is not None
    shuffled = split_interactions(data, SplitSpec(method="random", seed=3))
    assert pairs_of(data, shuffled.part, TEST) != pairs_of(data, data.fixed_part, TEST)


def test_a_pair_in_two_parts_is_kept_once_in_the_earlier_part(tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    atomic(folder / "dup.train.inter", HEADER, [("u1", "a", 1, 1), ("u1", "b", 1, 2)])
    atomic(folder / "dup.valid.inter", HEADER, [("u1", "c", 1, 3), ("u1", "b", 1, 4)])
    atomic(folder / "dup.test.inter", HEADER, [("u1", "d", 1, 5), ("u1", "c", 1, 6)])
    data = load_dataset(spec(folder, "dup"))
    assert pairs_of(data, data.fixed_part, TRAIN) == {("u1", "a"), ("u1", "b")}
    assert pairs_of(data, data.fixed_part, VALID) == {("u1", "c")}
    assert pairs_of(data, data.fixed_part, TEST) == {("u1", "d")}


# --- bad input --------------------------------------------------------------------------------------


def bad_inter(folder: Path, header: str, rows: list[tuple[object, ...]] | None = None) -> Path:
    return atomic(folder / "toy.inter", header, rows if rows is not None else [("u1", "i1", 1, 1)])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("user_id\titem_id:token\trating:float\ttimestamp:float", "column 'user_id' has no ':type'"),
        (
            "user_id:token\titem_id:str\trating:float\ttimestamp:float",
            "column 'item_id' has unknown type 'str'",
        ),
        (
            "uid:token\titem_id:token\trating:float\ttimestamp:float",
            "no column 'user_id' (dataset.columns.user)",
        ),
        (
            "user_id:token\titem:token\trating:float\ttimestamp:float",
            "no column 'item_id' (dataset.columns.item)",
        ),
        (
            "user_id:float\titem_id:token\trating:float\ttimestamp:float",
            "column 'user_id' (dataset.columns.user) is float",
        ),
        ("user_id:token item_id:token rating:float timestamp:float", "wrong separator? set dataset.sep"),
        ("user_id:token\titem_id:token\trating:float\trating:float", "column 'rating' appears twice"),
    ],
)
def test_bad_headers_name_the_file_and_column(tmp_path: Path, header: str, expected: str) -> None:
    path = bad_inter(tmp_path / "toy", header)
    with pytest.raises(GnasError) as error:
        load_dataset(spec(tmp_path / "toy"))
    message = str(error.value)
    assert message.startswith(f"{path}:") and expected in message and "\n" not in message
    result = runner.invoke(
        app, ["datasets", "info", "toy", "--format", "recbole", "--path", str(path.parent)]
    )
    assert result.exit_code == 2 and one_error_line(result.output) == f"error: {message}"


def test_bad_values_and_missing_files(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    bad_inter(folder, HEADER, [("u1", "i1", "five", 1)])
    with pytest.raises(
        GnasError, match=r"toy\.inter: column 'rating' must hold numbers, data row 1 has 'five'"
    ):
        load_dataset(spec(folder))
    bad_inter(folder, HEADER, [("u1", "", 1, 1)])
    with pytest.raises(GnasError, match=r"toy\.inter: column 'item_id' has 1 empty value"):
        load_dataset(spec(folder))
    bad_inter(folder, HEADER, [])
    with pytest.raises(GnasError, match=r"toy\.inter: no interactions in the file"):
        load_dataset(spec(folder))
    bad_inter(folder, "user_id:token\titem_id:token", [("u1", "i1", 4)])
    with pytest.raises(
        GnasError, match=r"toy\.inter: a data row has more fields than the header's 2 columns"
    ):
        load_dataset(spec(folder))
    bad_inter(folder, "user_id:token\titem_id:token", [("u1", "i1")])
    with pytest.raises(
        GnasError, match=r"toy\.inter: dataset\.min_rating is set but there is no 'rating' column"
    ):
        load_dataset(spec(folder, min_rating=3))
    with pytest.raises(GnasError, match=r"other\.inter: no such file"):
        load_dataset(spec(folder, "other"))
    with pytest.raises(GnasError, match=r"absent: no such folder \(dataset\.path"):
        load_dataset(spec(tmp_path / "absent"))
    atomic(folder / "toy.item", "id:token\ttitle:token_seq", [("i1", "x")])
    with pytest.raises(GnasError, match=r"toy\.item: no column 'item_id' \(dataset\.columns\.item\)"):
        load_dataset(spec(folder))


@pytest.mark.parametrize(
    ("parts", "missing"),
    [(("train",), "test"), (("train", "valid"), "test"), (("valid", "test"), "train"), (("test",), "train")],
)
def test_an_incomplete_presplit_set_names_the_missing_file(
    tmp_path: Path, parts: tuple[str, ...], missing: str
) -> None:
    folder = presplit_folder(tmp_path, parts)
    with pytest.raises(GnasError) as error:
        load_dataset(spec(folder, "bench"))
    assert str(error.value).startswith(f"{folder / f'bench.{missing}.inter'}: no such file")


def test_a_split_file_without_the_first_files_column_is_named(tmp_path: Path) -> None:
    folder = presplit_folder(tmp_path)
    atomic(folder / "bench.test.inter", "user_id:token\titem_id:token", [("u1", "i1")])
    with pytest.raises(
        GnasError, match=r"bench\.test\.inter: no column 'rating' \(dataset\.columns\.rating\)"
    ):
        load_dataset(spec(folder, "bench"))


# --- the command line -------------------------------------------------------------------------------


def one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), output
    return lines[0]


def test_datasets_info_and_split_read_recbole_files(tmp_path: Path) -> None:
    folder = presplit_folder(tmp_path)
    args = ["bench", "--format", "recbole", "--path", str(folder)]
    info = runner.invoke(app, ["datasets", "info", *args, "--json"])
    assert info.exit_code == 0, info.output
    summary = json.loads(info.output)
    rows = presplit_rows()
    assert (summary["users"], summary["items"], summary["interactions"]) == (24, 20, 240)
    assert summary["fixed_split"] is True
    assert (summary["train_interactions"], summary["valid_interactions"], summary["test_interactions"]) == (
        len(rows["train"]),
        len(rows["valid"]),
        len(rows["test"]),
    )
    out = tmp_path / "splits"
    result = runner.invoke(app, ["datasets", "split", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    test = pd.read_csv(out / "test.csv", dtype=str)
    assert set(zip(test["user"], test["item"], strict=True)) == {(u, i) for u, i, _, _ in rows["test"]}


def test_cli_bad_recbole_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "toy"
    bad_inter(folder, "user_id:token\titem_id:text")
    result = runner.invoke(app, ["datasets", "info", "toy", "--format", "recbole", "--path", str(folder)])
    assert result.exit_code == 2
    assert f"{folder / 'toy.inter'}: column 'item_id' has unknown type 'text'" in one_error_line(
        result.output
    )
    out = tmp_path / "splits"
    result = runner.invoke(
        app, ["datasets", "split", "toy", "--format", "recbole", "--path", str(folder), "-o", str(out)]
    )
    assert result.exit_code == 2 and "unknown type 'text'" in one_error_line(result.output)
    assert not out.exists()
    result = runner.invoke(app, ["datasets", "info", "toy", "--format", "parquet", "--path", str(folder)])
    assert result.exit_code == 2 and "dataset.format" in one_error_line(result.output)


def train_config(folder: Path, dataset: dict[str, object], **architecture: object) -> Path:
    config = {
        "name": "recbole",
        "dataset": {"format": "recbole", "path": str(folder), **dataset},
        "training": {"max_epochs": 3, "batch_size": 64, "ks": [5], "metric": "recall@5"},
        "architecture": {"embedding_dim": 8, "num_layers": 2, **architecture},
    }
    path = folder.parent / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_train_end_to_end_on_a_presplit_recbole_set(tmp_path: Path) -> None:
    folder = presplit_folder(tmp_path)
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(train_config(folder, {"name": "bench"})), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (run,) = sorted(out.iterdir())
    metrics = json.loads((run / "metrics.json").read_text())
    rows = presplit_rows()
    assert metrics["split_sizes"] == {part: len(rows[part]) for part in ("train", "valid", "test")}
    assert 1 <= metrics["best_epoch"] <= 3 and "recall@5" in metrics["test"]
    assert pd.read_csv(run / "user_ids.csv", dtype=str)["user_id"].str.startswith("u").all()


def test_train_with_an_incomplete_presplit_set_exits_2_and_leaves_no_run(tmp_path: Path) -> None:
    folder = presplit_folder(tmp_path, ("train", "valid"))
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(train_config(folder, {"name": "bench"})), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{folder / 'bench.test.inter'}: no such file" in one_error_line(result.output)
    assert not out.exists() or list(out.iterdir()) == []


def test_train_fuses_the_item_text_of_the_item_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GNAS_CACHE_DIR", str(tmp_path / "cache"))
    folder = presplit_folder(tmp_path)
    items = [(f"i{i}", f"item {i}", "Drama" if i < 12 else "Comedy", i) for i in range(24)]
    atomic(folder / "bench.item", "item_id:token\ttitle:token_seq\tgenre:token\tyear:float", items)
    text = {"model": str(tiny_bert(tmp_path / "bert")), "template": "{title}. {genre}", "batch_size": 16}
    config = train_config(folder, {"name": "bench", "text": text}, fusion="input")
    built = runner.invoke(app, ["features", "build", str(config)])
    assert built.exit_code == 0, built.output
    assert "(24 texts embedded)" in built.output  # i10, i11, i22, i23 have text and no interaction
    out = tmp_path / "runs"
    result = runner.invoke(app, ["train", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (run,) = sorted(out.iterdir())
    assert json.loads((run / "metrics.json").read_text())["split_sizes"]["test"] == len(
        presplit_rows()["test"]
    )

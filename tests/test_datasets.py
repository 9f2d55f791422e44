"""Data set registry and loaders: small synthetic files for behaviour, the real data sets when
GNAS_DATA_DIR is set (integration)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnas.data.interactions import TEST, TRAIN
from gnas.data.registry import DATASETS, FORMATS, dataset_summary, fetch_dataset, load_dataset
from gnas.errors import GnasError
from gnas.spec import ColumnsSpec, DatasetSpec, ItemTextSpec

REAL_DATA = os.environ.get("GNAS_DATA_DIR")
integration = pytest.mark.skipif(not REAL_DATA, reason="GNAS_DATA_DIR is not set")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the real data dir, the user's cache or a download URL unless it asks for them."""
    monkeypatch.delenv("GNAS_DATA_DIR", raising=False)
    monkeypatch.delenv("GNAS_MOVIELENS_URL", raising=False)
    monkeypatch.setenv("GNAS_CACHE_DIR", str(tmp_path / "cache"))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def movielens_folder(root: Path, ratings: str | None = None) -> Path:
    folder = root / "ml"
    write(
        folder / "ratings.csv",
        ratings
        or "userId,movieId,rating,timestamp\n"
        "1,10,4.0,100\n1,20,2.5,200\n2,10,5.0,300\n2,30,3.0,400\n3,20,4.5,500\n",
    )
    write(
        folder / "movies.csv",
        "movieId,title,genres\n"
        '10,"Alpha, The (1990)",Action|Comedy\n20,Beta (1991),Drama\n'
        "30,Gamma (1992),(no genres listed)\n40,Unrated (1993),Horror|Sci-Fi\n",
    )
    write(
        folder / "tags.csv",
        "userId,movieId,tag,timestamp\n"
        "1,10,funny,1\n2,10,dark,2\n3,10,funny,3\n1,30,  slow ,4\n2,10,Funny,5\n",
    )
    return folder


def lightgcn_folder(root: Path, train: str, test: str) -> Path:
    write(root / "train.txt", train)
    write(root / "test.txt", test)
    return root


def original_pairs(data) -> set[tuple[object, object]]:
    return {(data.user_ids[u], data.item_ids[i]) for u, i in zip(data.user, data.item, strict=True)}


# --- registry -------------------------------------------------------------------------------------


def test_registry_entries_have_known_formats_and_files() -> None:
    assert set(DATASETS) >= {"ml-latest-small", "gowalla"}
    for name, info in DATASETS.items():
        assert info.name == name
        assert info.format in FORMATS
        assert info.files and info.description and info.source
        assert set(info.sha256) <= set(info.files)
    assert DATASETS["ml-latest-small"].format == "movielens"
    assert DATASETS["ml-latest-small"].url is not None
    assert DATASETS["gowalla"].format == "lightgcn"
    assert DATASETS["gowalla"].url is None


def test_unknown_name_without_format_lists_known_names() -> None:
    with pytest.raises(GnasError, match="unknown data set 'nope'") as err:
        load_dataset(DatasetSpec(name="nope"))
    assert "gowalla" in str(err.value) and "ml-latest-small" in str(err.value)
    assert "dataset.format" in str(err.value)
    assert "\n" not in str(err.value)


def test_own_format_without_path_names_the_key() -> None:
    with pytest.raises(GnasError, match="dataset.path"):
        load_dataset(DatasetSpec(name="mine", format="csv"))


def test_format_that_contradicts_a_builtin_is_refused() -> None:
    with pytest.raises(GnasError, match="dataset.format 'csv'.*'gowalla'"):
        load_dataset(DatasetSpec(name="gowalla", format="csv"))


# --- movielens --------------------------------------------------------------------------------------


def test_movielens_folder_items_text_and_timestamps(tmp_path: Path) -> None:
    data = load_dataset(DatasetSpec(name="tiny", format="movielens", path=movielens_folder(tmp_path)))
    assert data.name == "tiny"
    assert (data.num_users, data.num_items, len(data)) == (3, 4, 5)
    assert list(data.item_ids) == [10, 20, 30, 40]  # 40 has no rating but is an item
    assert original_pairs(data) == {(1, 10), (1, 20), (2, 10), (2, 30), (3, 20)}
    assert data.timestamp is not None
    stamps = {
        (data.user_ids[u], data.item_ids[i]): t
        for u, i, t in zip(data.user, data.item, data.timestamp, strict=True)
    }
    assert stamps[(2, 30)] == 400 and stamps[(3, 20)] == 500
    text = data.item_text
    assert text is not None and list(text.columns) == ["title", "genres"] and len(text) == 4
    assert text.loc[0, "title"] == "Alpha, The (1990)"
    assert text.loc[0, "genres"] == "Action, Comedy"
    assert text.loc[2, "genres"] == ""
    assert text.loc[3, "genres"] == "Horror, Sci-Fi"
    # tags are not item text: they stay (user, item, tag) rows, stripped, distinct, in file order
    tags = data.item_tags
    assert tags is not None
    assert [(data.user_ids[u], data.item_ids[i], t) for u, i, t in tags.itertuples(index=False)] == [
        (1, 10, "funny"),
        (2, 10, "dark"),
        (3, 10, "funny"),
        (1, 30, "slow"),
        (2, 10, "Funny"),
    ]
    assert data.fixed_part is None


def test_movielens_min_rating_keeps_items_but_filters_ratings(tmp_path: Path) -> None:
    spec = DatasetSpec(name="tiny", format="movielens", path=movielens_folder(tmp_path), min_rating=4.0)
    data = load_dataset(spec)
    assert original_pairs(data) == {(1, 10), (2, 10), (3, 20)}
    assert data.num_items == 4
    assert dataset_summary(data)["items_with_text"] == 4


def test_movielens_min_rating_that_empties_the_data(tmp_path: Path) -> None:
    spec = DatasetSpec(name="tiny", format="movielens", path=movielens_folder(tmp_path), min_rating=6)
    with pytest.raises(GnasError, match=r"ratings\.csv.*dataset\.min_rating.*0\.5|ratings\.csv.*min_rating"):
        load_dataset(spec)


def test_movielens_missing_movies_file(tmp_path: Path) -> None:
    folder = movielens_folder(tmp_path)
    (folder / "movies.csv").unlink()
    with pytest.raises(GnasError, match=r"movies\.csv: no such file"):
        load_dataset(DatasetSpec(name="tiny", format="movielens", path=folder))


def test_movielens_renamed_column_lists_columns(tmp_path: Path) -> None:
    folder = movielens_folder(tmp_path, "user,movieId,rating,timestamp\n1,10,4,1\n")
    with pytest.raises(GnasError, match=r"ratings\.csv: no column 'userId'.*'user', 'movieId'"):
        load_dataset(DatasetSpec(name="tiny", format="movielens", path=folder))


def test_movielens_non_numeric_rating(tmp_path: Path) -> None:
    folder = movielens_folder(tmp_path, "userId,movieId,rating,timestamp\n1,10,4,1\n2,10,good,2\n")
    with pytest.raises(
        GnasError, match=r"ratings\.csv: column 'rating' must hold numbers, data row 2 has 'good'"
    ):
        load_dataset(DatasetSpec(name="tiny", format="movielens", path=folder))


def test_movielens_tags_are_optional(tmp_path: Path) -> None:
    folder = movielens_folder(tmp_path)
    (folder / "tags.csv").unlink()
    data = load_dataset(DatasetSpec(name="tiny", format="movielens", path=folder))
    assert data.item_text is not None and list(data.item_text.columns) == ["title", "genres"]
    assert data.item_tags is None


def test_item_text_file_adds_to_movielens_text(tmp_path: Path) -> None:
    items = write(tmp_path / "plots.tsv", "item_id\ttitle\tplot\n20\tBeta!\tA beta story\n50\tNew\tcold\n")
    spec = DatasetSpec(
        name="tiny",
        format="movielens",
        path=movielens_folder(tmp_path),
        item_text=ItemTextSpec(path=items, text_columns=["title", "plot"]),
    )
    data = load_dataset(spec)
    assert list(data.item_ids) == [10, 20, 30, 40, 50]
    assert data.item_text is not None
    assert list(data.item_text.columns) == ["title", "genres", "plot"]
    rows = data.item_text.to_dict("records")
    assert rows[0] == {"title": "Alpha, The (1990)", "genres": "Action, Comedy", "plot": ""}
    assert rows[1] == {"title": "Beta!", "genres": "Drama", "plot": "A beta story"}  # the file wins
    assert rows[4] == {"title": "New", "genres": "", "plot": "cold"}
    assert data.item_tags is not None and len(data.item_tags) == 5


# --- lightgcn ---------------------------------------------------------------------------------------


def test_lightgcn_parts_duplicates_and_empty_lines(tmp_path: Path) -> None:
    folder = lightgcn_folder(tmp_path, "0 1 2 2\n1 0\n2\n\n3 4 1\n", "0 3\n1 5\n3 1\n")
    data = load_dataset(DatasetSpec(name="toy", format="lightgcn", path=folder))
    assert list(data.user_ids) == [0, 1, 3]  # user 2 has a line but no items
    assert list(data.item_ids) == [0, 1, 2, 3, 4, 5]  # item 5 only in test
    assert data.fixed_part is not None
    parts = {
        (data.user_ids[u], data.item_ids[i]): p
        for u, i, p in zip(data.user, data.item, data.fixed_part, strict=True)
    }
    assert parts == {
        (0, 1): TRAIN,
        (0, 2): TRAIN,  # listed twice, kept once
        (1, 0): TRAIN,
        (3, 4): TRAIN,
        (3, 1): TRAIN,  # also in test.txt: training wins
        (0, 3): TEST,
        (1, 5): TEST,
    }
    summary = dataset_summary(data)
    assert summary["fixed_split"] is True
    assert (summary["train_interactions"], summary["test_interactions"]) == (5, 2)
    assert summary["items_with_text"] == 0 and summary["has_timestamps"] is False


def test_lightgcn_bad_token_names_file_and_line(tmp_path: Path) -> None:
    folder = lightgcn_folder(tmp_path, "0 1\n1 2 x3\n", "0 2\n")
    with pytest.raises(GnasError, match=r"train\.txt: line 2 has 'x3'"):
        load_dataset(DatasetSpec(name="toy", format="lightgcn", path=folder))


def test_lightgcn_missing_test_file(tmp_path: Path) -> None:
    write(tmp_path / "train.txt", "0 1\n")
    with pytest.raises(GnasError, match=r"test\.txt: no such file"):
        load_dataset(DatasetSpec(name="toy", format="lightgcn", path=tmp_path))


def test_lightgcn_refuses_min_rating(tmp_path: Path) -> None:
    folder = lightgcn_folder(tmp_path, "0 1\n", "0 2\n")
    with pytest.raises(GnasError, match="dataset.min_rating"):
        load_dataset(DatasetSpec(name="toy", format="lightgcn", path=folder, min_rating=3))


# --- csv / tsv / parquet ----------------------------------------------------------------------------


def test_csv_string_ids_timestamps_and_duplicates(tmp_path: Path) -> None:
    path = write(
        tmp_path / "events.csv",
        "who,what,when\nalice,book-b,10\nbob,book-a,20\nalice,book-a,30\nalice,book-b,40\n",
    )
    spec = DatasetSpec(
        name="shop", format="csv", path=path, columns=ColumnsSpec(user="who", item="what", timestamp="when")
    )
    data = load_dataset(spec)
    assert list(data.user_ids) == ["alice", "bob"]
    assert list(data.item_ids) == ["book-a", "book-b"]
    assert len(data) == 3  # (alice, book-b) twice collapses, keeping the latest time
    assert data.timestamp is not None
    stamps = {
        (data.user_ids[u], data.item_ids[i]): t
        for u, i, t in zip(data.user, data.item, data.timestamp, strict=True)
    }
    assert stamps == {("alice", "book-b"): 40, ("bob", "book-a"): 20, ("alice", "book-a"): 30}


def test_tsv_by_extension_and_sep_override(tmp_path: Path) -> None:
    tsv = write(tmp_path / "data.tsv", "user_id\titem_id\n1\t7\n2\t8\n")
    assert len(load_dataset(DatasetSpec(name="t", format="csv", path=tsv))) == 2
    semi = write(tmp_path / "data.txt", "user_id;item_id\nu1;i1\nu1;i2\nu2;i1\n")
    data = load_dataset(DatasetSpec(name="s", format="csv", path=semi, sep=";"))
    assert original_pairs(data) == {("u1", "i1"), ("u1", "i2"), ("u2", "i1")}


def test_wrong_separator_hint(tmp_path: Path) -> None:
    path = write(tmp_path / "data.txt", "user_id;item_id\nu1;i1\n")
    with pytest.raises(GnasError, match=r"data\.txt: no column 'user_id'.*wrong separator"):
        load_dataset(DatasetSpec(name="s", format="csv", path=path))


def test_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "data.parquet"
    pd.DataFrame(
        {"user_id": ["a", "b", "a"], "item_id": [3, 4, 4], "t": pd.to_datetime([1, 2, 3], unit="s")}
    ).to_parquet(path)
    data = load_dataset(DatasetSpec(name="p", format="csv", path=path, columns=ColumnsSpec(timestamp="t")))
    assert original_pairs(data) == {("a", 3), ("b", 4), ("a", 4)}
    assert data.timestamp is not None and sorted(data.timestamp.tolist()) == [1, 2, 3]


def test_csv_min_rating(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "user_id,item_id,stars\n1,1,5\n1,2,1\n2,1,3.5\n")
    spec = DatasetSpec(name="r", format="csv", path=path, min_rating=3.5, columns=ColumnsSpec(rating="stars"))
    assert original_pairs(load_dataset(spec)) == {(1, 1), (2, 1)}


def test_csv_item_text_with_text_only_items(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "user_id,item_id\nu1,i1\nu2,i2\n")
    items = write(tmp_path / "items.csv", "sku,name,blurb\ni1,First,one\ni3,Third,\ni1,Dup,ignored\n")
    spec = DatasetSpec(
        name="r",
        format="csv",
        path=path,
        item_text=ItemTextSpec(path=items, id_column="sku", text_columns=["name", "blurb"]),
    )
    data = load_dataset(spec)
    assert list(data.item_ids) == ["i1", "i2", "i3"]
    assert data.item_text is not None
    assert data.item_text.to_dict("records") == [
        {"name": "First", "blurb": "one"},
        {"name": "", "blurb": ""},
        {"name": "Third", "blurb": ""},
    ]
    assert dataset_summary(data)["items_with_text"] == 2


def test_item_text_ids_of_another_type_are_matched_as_text(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "user_id,item_id\n1,5\n2,6\n")
    items = write(tmp_path / "items.csv", "item_id,title\n5,Five\nx9,Nine\n")
    spec = DatasetSpec(name="r", format="csv", path=path, item_text=ItemTextSpec(path=items))
    data = load_dataset(spec)
    assert list(data.item_ids) == ["5", "6", "x9"]
    assert data.item_text is not None and list(data.item_text["title"]) == ["Five", "", "Nine"]


def test_item_text_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "user_id,item_id\n1,5\n")
    items = write(tmp_path / "items.csv", "item_id,name\n5,Five\n")
    spec = DatasetSpec(name="r", format="csv", path=path, item_text=ItemTextSpec(path=items))
    with pytest.raises(
        GnasError, match=r"items\.csv: no column 'title' \(dataset\.item_text\.text_columns\[0\]\)"
    ):
        load_dataset(spec)


@pytest.mark.parametrize(
    ("content", "columns", "min_rating", "pattern"),
    [
        (
            "u,item_id\n1,2\n",
            ColumnsSpec(),
            None,
            r"no column 'user_id' \(dataset\.columns\.user\); columns are: 'u'",
        ),
        (
            "user_id,item_id\n1,2\n",
            ColumnsSpec(timestamp="ts"),
            None,
            r"no column 'ts' \(dataset\.columns\.timestamp\)",
        ),
        (
            "user_id,item_id,ts\n1,2,100\n1,3,2020-01-01\n",
            ColumnsSpec(timestamp="ts"),
            None,
            r"column 'ts' must hold numbers \(Unix seconds\), data row 2 has '2020-01-01'",
        ),
        (
            "user_id,item_id,r\n1,2,4\n1,3,five\n",
            ColumnsSpec(rating="r"),
            None,
            r"column 'r' must hold numbers, data row 2 has 'five'",
        ),
        ("user_id,item_id,r\n1,2,4\n", ColumnsSpec(rating="r"), 6.0, r"rating >= 6 \(dataset\.min_rating\)"),
        (
            "user_id,item_id\n1,2\n",
            ColumnsSpec(),
            3.0,
            r"dataset\.min_rating is set but dataset\.columns\.rating",
        ),
        ("user_id,item_id\n1,2\n,3\n", ColumnsSpec(), None, r"column 'user_id' has 1 empty value\(s\)"),
        ("user_id,item_id\n", ColumnsSpec(), None, r"no interactions"),
        ("", ColumnsSpec(), None, r"the file is empty"),
    ],
)
def test_bad_csv_inputs_name_file_and_column(
    tmp_path: Path, content: str, columns: ColumnsSpec, min_rating: float | None, pattern: str
) -> None:
    path = write(tmp_path / "bad.csv", content)
    with pytest.raises(GnasError, match=pattern) as err:
        load_dataset(DatasetSpec(name="bad", format="csv", path=path, columns=columns, min_rating=min_rating))
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_unreadable_csv(tmp_path: Path) -> None:
    with pytest.raises(GnasError, match=r"nowhere\.csv: no such file \(dataset\.path\)"):
        load_dataset(DatasetSpec(name="x", format="csv", path=tmp_path / "nowhere.csv"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"user_id,item_id\n\xff\xfe\x00\x81,\xc3\x28\n")
    with pytest.raises(GnasError, match=r"binary\.csv: cannot read this file"):
        load_dataset(DatasetSpec(name="x", format="csv", path=binary))
    with pytest.raises(GnasError, match=r"not a file \(dataset\.path\)"):
        load_dataset(DatasetSpec(name="x", format="csv", path=tmp_path))


def test_a_compression_without_its_package_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packed = tmp_path / "ratings.csv.zst"
    packed.write_bytes(b"\x28\xb5\x2f\xfd")

    def no_zstandard(*args: object, **kwargs: object) -> None:
        raise ImportError("Missing optional dependency 'zstandard'.")

    monkeypatch.setattr(pd, "read_csv", no_zstandard)
    with pytest.raises(
        GnasError, match=r"ratings\.csv\.zst: reading this file needs an optional package .*zstandard"
    ):
        load_dataset(DatasetSpec(name="x", format="csv", path=packed))


# --- locating built-in data sets --------------------------------------------------------------------


def test_lookup_order_data_dir_then_env_then_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = lightgcn_folder(tmp_path / "cache" / "datasets" / "gowalla", "0 1\n", "0 2\n")
    env = lightgcn_folder(tmp_path / "env" / "gowalla", "0 1\n1 1\n", "0 2\n")
    arg = lightgcn_folder(tmp_path / "arg", "0 1\n1 1\n2 1\n", "0 2\n")

    assert fetch_dataset("gowalla") == cache
    assert len(load_dataset(DatasetSpec(name="gowalla"))) == 2
    monkeypatch.setenv("GNAS_DATA_DIR", str(tmp_path / "env"))
    assert fetch_dataset("gowalla") == env
    assert len(load_dataset(DatasetSpec(name="gowalla"))) == 3
    assert fetch_dataset("gowalla", data_dir=arg) == arg
    assert len(load_dataset(DatasetSpec(name="gowalla"), data_dir=arg)) == 4
    # --data-dir may also be a root holding <name>/
    assert fetch_dataset("gowalla", data_dir=tmp_path / "env") == env
    # dataset.path without dataset.format: the built-in data set, from that folder
    assert len(load_dataset(DatasetSpec(name="gowalla", path=arg))) == 4


def test_gowalla_not_found_says_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(
        GnasError, match=r"'gowalla' not found.*train\.txt, test\.txt.*GNAS_DATA_DIR/gowalla/"
    ):
        load_dataset(DatasetSpec(name="gowalla"))


def test_builtin_folder_missing_a_file_is_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "env" / "gowalla" / "train.txt", "0 1\n")
    lightgcn_folder(tmp_path / "cache" / "datasets" / "gowalla", "0 1\n", "0 2\n")
    monkeypatch.setenv("GNAS_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(GnasError, match=r"gowalla \(from \$GNAS_DATA_DIR\): test\.txt is missing"):
        load_dataset(DatasetSpec(name="gowalla"))


def test_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(GnasError, match=r"no such folder \(--data-dir\)"):
        load_dataset(DatasetSpec(name="gowalla"), data_dir=tmp_path / "absent")


def test_movielens_in_data_dir_is_checksummed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = movielens_folder(tmp_path)
    renamed = folder.rename(tmp_path / "ml-latest-small")
    monkeypatch.setenv("GNAS_DATA_DIR", str(tmp_path))
    with pytest.raises(GnasError, match=r"ratings\.csv has SHA-256 .*not the official ml-latest-small"):
        load_dataset(DatasetSpec())
    # The same files load as the user's own MovieLens folder.
    data = load_dataset(DatasetSpec(name="mine", format="movielens", path=renamed))
    assert len(data) == 5


# --- summary ----------------------------------------------------------------------------------------


def test_summary_numbers(tmp_path: Path) -> None:
    data = load_dataset(DatasetSpec(name="tiny", format="movielens", path=movielens_folder(tmp_path)))
    summary = dataset_summary(data)
    assert summary["users"] == 3 and summary["items"] == 4 and summary["interactions"] == 5
    assert summary["density"] == pytest.approx(5 / 12)
    assert (summary["per_user_min"], summary["per_user_median"], summary["per_user_max"]) == (1, 2.0, 2)
    assert summary["has_timestamps"] is True and summary["fixed_split"] is False
    assert "train_interactions" not in summary


# --- the real data sets -----------------------------------------------------------------------------


@integration
@pytest.mark.integration
def test_real_ml_latest_small(monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL_DATA is not None
    monkeypatch.setenv("GNAS_DATA_DIR", REAL_DATA)
    data = load_dataset(DatasetSpec(name="ml-latest-small"))
    assert (data.num_users, data.num_items, len(data)) == (610, 9742, 100836)
    assert data.timestamp is not None and data.timestamp.min() > 8e8
    assert data.item_text is not None and list(data.item_text.columns) == ["title", "genres"]
    toy_story = int(np.flatnonzero(data.item_ids == 1)[0])
    assert data.item_text.loc[toy_story, "title"] == "Toy Story (1995)"
    assert data.item_text.loc[toy_story, "genres"] == "Adventure, Animation, Children, Comedy, Fantasy"
    tags = data.item_tags
    assert tags is not None
    assert list(tags.loc[tags["item"] == toy_story, "tag"].drop_duplicates()) == ["pixar", "fun"]
    pairs = tags[["user", "item"]].drop_duplicates()
    ratings = set(zip(data.user.tolist(), data.item.tolist(), strict=True))
    rated = sum((u, i) in ratings for u, i in pairs.itertuples(index=False))
    assert (len(pairs), rated) == (1775, 1635)  # the count: most tagged pairs are ratings
    summary = dataset_summary(data)
    assert summary["items_with_text"] == 9742 and summary["per_user_min"] == 20
    assert len(set(data.item.tolist())) == 9724  # 18 movies are text-only

    liked = load_dataset(DatasetSpec(name="ml-latest-small", min_rating=4))
    assert len(liked) == 48580 and liked.num_items == 9742


@integration
@pytest.mark.integration
def test_real_gowalla(monkeypatch: pytest.MonkeyPatch) -> None:
    assert REAL_DATA is not None
    monkeypatch.setenv("GNAS_DATA_DIR", REAL_DATA)
    data = load_dataset(DatasetSpec(name="gowalla"))
    assert (data.num_users, data.num_items) == (29858, 40981)
    assert data.fixed_part is not None
    assert int((data.fixed_part == TRAIN).sum()) == 810128
    assert int((data.fixed_part == TEST).sum()) == 217242
    assert list(data.user_ids[:3]) == [0, 1, 2] and data.item_ids[-1] == 40980

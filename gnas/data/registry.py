"""The built-in data sets, the file formats, and ``load_dataset``: a DatasetSpec in, Interactions out.

A new data set in a known format is one ``DATASETS`` entry; a new format is one reader module
(``read_x(path, spec) -> RawInteractions``) plus one ``FORMATS`` entry.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gnas.data.info import DatasetInfo
from gnas.data.interactions import Interactions
from gnas.data.itemtext import read_item_text
from gnas.data.lightgcn import read_lightgcn
from gnas.data.locate import locate_dataset
from gnas.data.movielens import read_movielens
from gnas.data.raw import RawInteractions
from gnas.data.recbole import read_recbole
from gnas.data.summary import dataset_summary
from gnas.data.tabular import read_tabular
from gnas.errors import GnasError
from gnas.spec import DatasetSpec

__all__ = ["DATASETS", "FORMATS", "DatasetInfo", "dataset_summary", "fetch_dataset", "load_dataset"]

FormatReader = Callable[[Path, DatasetSpec], RawInteractions]

FORMATS: dict[str, FormatReader] = {
    "movielens": read_movielens,
    "lightgcn": read_lightgcn,
    "csv": read_tabular,
    "recbole": read_recbole,
}

DATASETS: dict[str, DatasetInfo] = {
    "ml-latest-small": DatasetInfo(
        name="ml-latest-small",
        format="movielens",
        description="MovieLens latest-small: 100,836 ratings (0.5-5) of 9,742 movies by 610 users, "
        "with timestamps, titles, genres and user tags",
        files=("ratings.csv", "movies.csv", "tags.csv"),
        source="https://grouplens.org/datasets/movielens/latest/ (downloaded automatically)",
        url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        url_env="GNAS_MOVIELENS_URL",
        archive_folder="ml-latest-small",
        sha256={
            "ratings.csv": "80da8b3393dae325bbba5a31f291a6ba55d8d4f4396de3c456f2c1635b1b70e8",
            "movies.csv": "c47b783f23eb304413307e1bb05335e427737da20ec8d3c0e96335567dd5f3dc",
            "tags.csv": "68eec00a0820c2faa8863a6df7032f13d5899a4462bce9a97213905297ff3d34",
        },
    ),
    "gowalla": DatasetInfo(
        name="gowalla",
        format="lightgcn",
        description="Gowalla check-ins in the LightGCN/NGCF split: 29,858 users, 40,981 locations, "
        "810,128 train and 217,242 test interactions, implicit, no text",
        files=("train.txt", "test.txt"),
        source="train.txt and test.txt of https://github.com/gusye1234/LightGCN-PyTorch/tree/master/data/gowalla",
        fixed_split=True,
    ),
}


def known_names() -> str:
    """The registered names, for messages."""
    return ", ".join(sorted(DATASETS))


def dataset_info(name: str) -> DatasetInfo:
    """The registered data set ``name``, or a GnasError listing the known ones."""
    if name not in DATASETS:
        raise GnasError(
            f"unknown data set {name!r} (dataset.name); known: {known_names()}; for your own files set "
            f"dataset.format ({', '.join(FORMATS)}) and dataset.path"
        )
    return DATASETS[name]


def fetch_dataset(name: str, data_dir: Path | None = None, url: str | None = None) -> Path:
    """The folder with a registered data set's verified files, downloading it into the cache if needed."""
    return locate_dataset(dataset_info(name), data_dir, url)


def read_raw(spec: DatasetSpec, data_dir: Path | None = None) -> RawInteractions:
    """Parse the files ``spec`` points to, before ids are made dense."""
    info = DATASETS.get(spec.name)
    if spec.path is not None:
        if spec.format is not None:
            return FORMATS[spec.format](spec.path, spec)
        if info is None:
            raise GnasError(
                f"{spec.path}: dataset.path is set but dataset.format is not, and {spec.name!r} is not a "
                f"built-in data set ({known_names()}); set dataset.format ({', '.join(FORMATS)})"
            )
        return FORMATS[info.format](locate_dataset(info, spec.path, data_dir_key="dataset.path"), spec)
    if info is None:
        if spec.format is not None:
            raise GnasError(
                f"dataset.path is required for your own data set {spec.name!r} (format {spec.format})"
            )
        dataset_info(spec.name)  # raises, listing the known names
    assert info is not None
    if spec.format is not None and spec.format != info.format:
        raise GnasError(
            f"dataset.format {spec.format!r} does not match the built-in {spec.name!r} ({info.format}); "
            "set dataset.path to load your own files"
        )
    return FORMATS[info.format](locate_dataset(info, data_dir), spec)


def load_dataset(spec: DatasetSpec, data_dir: Path | None = None) -> Interactions:
    """Load the data set ``spec`` describes (built-in or the user's own) with dense ids.

    ``data_dir`` (``--data-dir``) is where to look for a built-in data set first; ``spec.item_text``
    adds a user's item-text file to any format.
    """
    raw = read_raw(spec, data_dir)
    if spec.item_text is not None:
        raw = raw.with_item_text(read_item_text(spec.item_text))
    return raw.to_interactions(spec.name)

"""RecBole atomic files (https://recbole.io/docs/user_guide/data/atomic_files.html) in a folder.

``dataset.path`` is the folder, ``dataset.name`` the files' stem: ``NAME.inter`` holds the
interactions, or the benchmark files ``NAME.train.inter``, ``NAME.test.inter`` and optionally
``NAME.valid.inter`` hold a shipped split, which is kept (each row labelled TRAIN, VALID or TEST; the
split files win over ``NAME.inter``). An optional ``NAME.item`` gives the item text: its token and
token_seq columns other than the item id. Every file is tab-separated (``dataset.sep`` overrides it,
as RecBole's ``field_separator`` does) with a ``name:type`` header, type one of token, token_seq,
float, float_seq. Columns are RecBole's default field names unless ``dataset.columns`` names others:
user ``user_id``, item ``item_id``, and ``rating`` / ``timestamp`` when the header has them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gnas.data.interactions import TEST, TRAIN, VALID
from gnas.data.raw import ITEM, PART, TIMESTAMP, USER, RawInteractions
from gnas.data.tables import (
    id_values,
    min_rating_filter,
    numeric_values,
    read_errors,
    require_file,
    timestamp_values,
)
from gnas.errors import GnasError
from gnas.spec import DatasetSpec

TYPES = ("token", "token_seq", "float", "float_seq")
TEXT_TYPES = ("token", "token_seq")
SPLIT_FILES = {"train": TRAIN, "valid": VALID, "test": TEST}
KEY = "recbole format"


@dataclass(frozen=True)
class _Fields:
    """The interaction columns of one data set; ``rating``/``timestamp`` are None when absent."""

    user: str
    item: str
    rating: str | None
    timestamp: str | None


def read_recbole(folder: Path, spec: DatasetSpec) -> RawInteractions:
    """The interactions (with a ``part`` column for a shipped split) and the ``.item`` text."""
    if not folder.is_dir():
        raise GnasError(f"{folder}: no such folder (dataset.path; a folder with {spec.name}.inter)")
    parts = _split_files(folder, spec.name)
    paths = list(parts) if parts else [folder / f"{spec.name}.inter"]
    require_file(paths[0], f"dataset.path and dataset.name: {KEY}")
    fields = _fields(paths[0], read_header(paths[0], spec.sep), spec)
    frames = []
    for path in paths:
        frame = _interactions(path, fields, spec)
        if path in parts:
            frame[PART] = np.full(len(frame), parts[path], dtype=np.int8)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    item_path = folder / f"{spec.name}.item"
    if not item_path.exists():
        return RawInteractions(frame=frame)
    text = read_item_file(item_path, fields.item, spec.sep)
    return RawInteractions(
        frame=frame, item_text=text if text.shape[1] else None, all_item_ids=text.index.to_numpy()
    )


def _split_files(folder: Path, name: str) -> dict[Path, int]:
    """The benchmark files present, by part; {} if none; a GnasError for an incomplete set."""
    present = {
        folder / f"{name}.{part}.inter": label
        for part, label in SPLIT_FILES.items()
        if (folder / f"{name}.{part}.inter").exists()
    }
    if present:
        for part in ("train", "test"):
            path = folder / f"{name}.{part}.inter"
            if path not in present:
                found = ", ".join(p.name for p in present)
                raise GnasError(
                    f"{path}: no such file ({KEY}: a pre-split data set needs {name}.train.inter and "
                    f"{name}.test.inter, {name}.valid.inter optional; found {found})"
                )
    return present


def read_header(path: Path, sep: str | None) -> dict[str, str]:
    """The header's columns as {name: type}; GnasError naming the file and the bad column."""
    require_file(path, KEY)
    with read_errors(path, KEY), path.open(encoding="utf-8") as handle:
        line = handle.readline().rstrip("\r\n")
    if not line.strip():
        raise GnasError(f"{path}: the file is empty; a RecBole file starts with a name:type header")
    header: dict[str, str] = {}
    entries = line.split(sep or "\t")
    hint = " (one column only: wrong separator? set dataset.sep)" if len(entries) == 1 else ""
    for entry in entries:
        name, colon, kind = entry.strip().partition(":")
        if not colon or not name:
            raise GnasError(
                f"{path}: column {entry!r} has no ':type' in the header; RecBole headers are name:type "
                f"with type one of {', '.join(TYPES)}{hint}"
            )
        if kind not in TYPES:
            raise GnasError(
                f"{path}: column {name!r} has unknown type {kind!r}; "
                f"RecBole types are {', '.join(TYPES)}{hint}"
            )
        if name in header:
            raise GnasError(f"{path}: column {name!r} appears twice in the header")
        header[name] = kind
    return header


def _fields(path: Path, header: dict[str, str], spec: DatasetSpec) -> _Fields:
    """Which columns are user, item, rating and timestamp, checked against the first file's header."""
    columns = spec.columns
    for column, key in ((columns.user, "dataset.columns.user"), (columns.item, "dataset.columns.item")):
        _require(path, header, column, key)
        if header[column] != "token":
            raise GnasError(
                f"{path}: column {column!r} ({key}) is {header[column]}; RecBole ids are token columns"
            )
    rating = columns.rating or ("rating" if "rating" in header else None)
    timestamp = columns.timestamp or ("timestamp" if "timestamp" in header else None)
    if columns.rating is not None:
        _require(path, header, columns.rating, "dataset.columns.rating")
    if columns.timestamp is not None:
        _require(path, header, columns.timestamp, "dataset.columns.timestamp")
    if spec.min_rating is not None and rating is None:
        raise GnasError(
            f"{path}: dataset.min_rating is set but there is no 'rating' column "
            f"(set dataset.columns.rating); columns are: {_listing(header)}"
        )
    return _Fields(user=columns.user, item=columns.item, rating=rating, timestamp=timestamp)


def _require(path: Path, header: dict[str, str], column: str, key: str) -> None:
    if column not in header:
        raise GnasError(f"{path}: no column {column!r} ({key}); columns are: {_listing(header)}")


def _listing(header: dict[str, str]) -> str:
    return ", ".join(repr(f"{name}:{kind}") for name, kind in header.items())


def read_atomic(path: Path, sep: str | None) -> tuple[pd.DataFrame, dict[str, str]]:
    """The file's rows as strings (only empty cells are missing, a token 'NA' stays 'NA') and its header."""
    header = read_header(path, sep)
    try:
        with read_errors(path, KEY), warnings.catch_warnings():
            # pandas only warns when rows are longer than the header, dropping their last fields.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(
                path,
                sep=sep or "\t",
                dtype=str,
                index_col=False,
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8",
            )
    except pd.errors.ParserWarning:
        raise GnasError(
            f"{path}: a data row has more fields than the header's {len(header)} columns ({KEY})"
        ) from None
    return table.set_axis(list(header), axis=1), header


def _interactions(path: Path, fields: _Fields, spec: DatasetSpec) -> pd.DataFrame:
    """One file's interactions (columns user, item, timestamp when present), min_rating applied."""
    table, header = read_atomic(path, spec.sep)
    wanted = {fields.user: "dataset.columns.user", fields.item: "dataset.columns.item"}
    if fields.rating is not None:
        wanted[fields.rating] = "dataset.columns.rating"
    if fields.timestamp is not None:
        wanted[fields.timestamp] = "dataset.columns.timestamp"
    for column, key in wanted.items():
        _require(path, header, column, key)
    if table.empty:
        raise GnasError(f"{path}: no interactions in the file ({KEY})")
    data = {USER: id_values(table, fields.user, path), ITEM: id_values(table, fields.item, path)}
    if fields.timestamp is not None:
        data[TIMESTAMP] = timestamp_values(table, fields.timestamp, path)
    frame = pd.DataFrame(data)
    if fields.rating is not None:
        rating = numeric_values(table, fields.rating, path)
        if spec.min_rating is not None:
            frame = min_rating_filter(frame, rating, spec.min_rating, path)
    return frame.reset_index(drop=True)


def read_item_file(path: Path, item: str, sep: str | None) -> pd.DataFrame:
    """The token and token_seq columns (sequences as space-joined text), indexed by item id.

    A repeated id keeps its first row, as RecBole does.
    """
    table, header = read_atomic(path, sep)
    _require(path, header, item, "dataset.columns.item")
    ids = id_values(table, item, path)
    columns = [name for name, kind in header.items() if kind in TEXT_TYPES and name != item]
    text = table[columns].fillna("")
    for name in columns:
        if header[name] == "token_seq":
            text[name] = text[name].str.split().str.join(" ")
    text.index = pd.Index(ids.to_numpy(), name="item")
    return text[~text.index.duplicated(keep="first")]

"""Reading a user's table files and checking their columns, with one-line GnasErrors.

Shared by the MovieLens and the tabular readers so that a missing file, a renamed column or a
non-numeric value is always reported the same way: the file, the column and the YAML key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from gnas.errors import GnasError

_COMPRESSED = {".gz", ".bz2", ".xz", ".zip", ".zst"}
_PARQUET = {".parquet", ".pq"}
_TAB = {".tsv", ".tab"}


def one_line(exc: BaseException) -> str:
    """An exception's message squeezed onto a single line."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def table_suffix(path: Path) -> str:
    """The file's type suffix, ignoring a compression suffix (``a.tsv.gz`` -> ``.tsv``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def require_file(path: Path, key: str) -> None:
    """Raise unless ``path`` is an existing file; ``key`` names the YAML key that gave it."""
    if not path.exists():
        raise GnasError(f"{path}: no such file ({key})")
    if not path.is_file():
        raise GnasError(f"{path}: not a file ({key})")


@contextmanager
def read_errors(path: Path, key: str) -> Iterator[None]:
    """pandas' errors while reading ``path`` as one-line GnasErrors (``key``: the YAML key that gave it)."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise GnasError(f"{path}: the file is empty ({key})") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise GnasError(f"{path}: cannot read this file ({one_line(exc)})") from None


def read_table(path: Path, key: str, sep: str | None = None) -> pd.DataFrame:
    """Read CSV/TSV (optionally compressed) or Parquet; the separator comes from ``sep`` or the suffix."""
    require_file(path, key)
    suffix = table_suffix(path)
    try:
        with read_errors(path, key):
            if suffix in _PARQUET:
                return pd.read_parquet(path)
            return pd.read_csv(path, sep=sep or ("\t" if suffix in _TAB else ","))
    except ImportError as exc:  # pandas reads Parquet and some compressions with optional packages
        need = "pyarrow" if suffix in _PARQUET else "an optional package"
        raise GnasError(f"{path}: reading this file needs {need} ({one_line(exc)})") from None


def require_columns(frame: pd.DataFrame, path: Path, columns: dict[str, str]) -> None:
    """Raise naming the first absent column (and why it is needed) and listing the columns that exist.

    ``columns`` maps each required column name to the YAML key (or format) that asks for it.
    """
    for column, key in columns.items():
        if column not in frame.columns:
            present = ", ".join(repr(str(c)) for c in frame.columns)
            hint = " (one column only: wrong separator? set dataset.sep)" if len(frame.columns) == 1 else ""
            raise GnasError(f"{path}: no column {column!r} ({key}); columns are: {present}{hint}")


def _refuse_missing(values: pd.Series, column: str, path: Path) -> None:
    missing = values.isna()
    if missing.any():
        row = int(missing.to_numpy().argmax()) + 1
        raise GnasError(
            f"{path}: column {column!r} has {int(missing.sum())} empty value(s), the first in data row {row}"
        )


def id_values(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """An id column of any type, refusing empty cells (they would silently become id -1)."""
    values = frame[column]
    _refuse_missing(values, column, path)
    return values


def numeric_values(frame: pd.DataFrame, column: str, path: Path, what: str = "numbers") -> pd.Series:
    """A column as floats, refusing text and empty cells with the first offending row."""
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype("float64")
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna() & values.notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise GnasError(
                f"{path}: column {column!r} must hold {what}, data row {row + 1} has {values.iloc[row]!r}"
            )
    _refuse_missing(numbers, column, path)
    return numbers


def timestamp_values(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Unix seconds as int64, from numbers or from a datetime column (e.g. Parquet)."""
    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        _refuse_missing(values, column, path)
        utc = pd.to_datetime(values, utc=True)
        return ((utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("int64")
    return numeric_values(frame, column, path, "numbers (Unix seconds)").astype("int64")


def min_rating_filter(frame: pd.DataFrame, rating: pd.Series, min_rating: float, path: Path) -> pd.DataFrame:
    """Keep rows with rating >= min_rating; an empty result names the key and the rating range."""
    kept = frame[(rating >= min_rating).to_numpy()]
    if kept.empty:
        low, high = (f"{rating.min():g}", f"{rating.max():g}") if len(rating) else ("-", "-")
        raise GnasError(
            f"{path}: no interactions left with rating >= {min_rating:g} (dataset.min_rating); "
            f"ratings range from {low} to {high}"
        )
    return kept

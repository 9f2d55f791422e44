"""A user's own interaction table: CSV, TSV (optionally compressed) or Parquet.

Columns come from ``dataset.columns`` (user, item, optional rating and timestamp); ids may be of
any type, strings included. ``dataset.min_rating`` needs a rating column.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gnas.data.raw import ITEM, TIMESTAMP, USER, RawInteractions
from gnas.data.tables import (
    id_values,
    min_rating_filter,
    numeric_values,
    read_table,
    require_columns,
    timestamp_values,
)
from gnas.errors import GnasError
from gnas.spec import DatasetSpec


def read_tabular(path: Path, spec: DatasetSpec) -> RawInteractions:
    """One row per interaction; the rating only filters (``min_rating``), it is not kept."""
    columns = spec.columns
    table = read_table(path, "dataset.path", spec.sep)
    wanted = {columns.user: "dataset.columns.user", columns.item: "dataset.columns.item"}
    if columns.rating is not None:
        wanted[columns.rating] = "dataset.columns.rating"
    if columns.timestamp is not None:
        wanted[columns.timestamp] = "dataset.columns.timestamp"
    require_columns(table, path, wanted)
    if spec.min_rating is not None and columns.rating is None:
        present = ", ".join(repr(str(c)) for c in table.columns)
        raise GnasError(
            f"{path}: dataset.min_rating is set but dataset.columns.rating is not; columns are: {present}"
        )
    data = {USER: id_values(table, columns.user, path), ITEM: id_values(table, columns.item, path)}
    if columns.timestamp is not None:
        data[TIMESTAMP] = timestamp_values(table, columns.timestamp, path)
    frame = pd.DataFrame(data)
    if frame.empty:
        raise GnasError(f"{path}: no interactions in the file (dataset.path)")
    if columns.rating is not None:
        rating = numeric_values(table, columns.rating, path)
        if spec.min_rating is not None:
            frame = min_rating_filter(frame, rating, spec.min_rating, path)
    return RawInteractions(frame=frame)

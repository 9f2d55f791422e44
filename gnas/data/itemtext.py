"""A user's item-text file (``dataset.item_text``): one row per item, an id and text columns."""

from __future__ import annotations

import pandas as pd

from gnas.data.tables import id_values, read_table, require_columns
from gnas.spec import ItemTextSpec


def read_item_text(spec: ItemTextSpec) -> pd.DataFrame:
    """Text columns as strings ("" for empty cells), indexed by item id; repeated ids keep their first row."""
    table = read_table(spec.path, "dataset.item_text.path", spec.sep)
    wanted = {c: f"dataset.item_text.text_columns[{i}]" for i, c in enumerate(spec.text_columns)}
    wanted = {spec.id_column: "dataset.item_text.id_column", **wanted}
    require_columns(table, spec.path, wanted)
    ids = id_values(table, spec.id_column, spec.path)
    text = table[list(dict.fromkeys(spec.text_columns))].fillna("").astype(str)
    text.index = pd.Index(ids.to_numpy(), name="item")
    return text[~text.index.duplicated(keep="first")]

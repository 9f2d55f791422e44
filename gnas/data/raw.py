"""The common output of every format reader, before ids are made dense.

Readers only parse and validate; turning rows into an ``Interactions`` (dense ids, de-duplication)
and attaching a user's item-text file happen once, here, for all formats.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gnas.data.interactions import Interactions

USER, ITEM, TIMESTAMP, PART, TAG = "user", "item", "timestamp", "part", "tag"


@dataclass(frozen=True)
class RawInteractions:
    """One row per interaction: columns ``user``, ``item`` and optionally ``timestamp``, ``part``.

    ``item_text`` is indexed by original item id (one column per text field); ``all_item_ids``
    lists items to keep even without interactions (text-only items can still be recommended).
    ``tags`` (columns ``user``, ``item``, ``tag``, original ids) are user tags of (user, item) pairs.
    """

    frame: pd.DataFrame
    item_text: pd.DataFrame | None = None
    all_item_ids: np.ndarray | None = None
    tags: pd.DataFrame | None = None

    def with_item_text(self, text: pd.DataFrame) -> RawInteractions:
        """Add a user's text columns and items; for the items it lists, its values win in shared columns."""
        frame = self.frame
        if _kind(text.index.to_numpy()) != _kind(frame[ITEM].to_numpy()):
            # e.g. numeric ids in one file and codes like "i7" in the other: compare them as text.
            frame = frame.assign(**{ITEM: frame[ITEM].astype(str)})
            text = text.set_axis(text.index.astype(str))
            old_text = (
                None if self.item_text is None else self.item_text.set_axis(self.item_text.index.astype(str))
            )
            old_ids = None if self.all_item_ids is None else self.all_item_ids.astype(str).astype(object)
            tags = None if self.tags is None else self.tags.assign(**{ITEM: self.tags[ITEM].astype(str)})
        else:
            old_text, old_ids, tags = self.item_text, self.all_item_ids, self.tags
        if old_text is not None:
            text = _overlay(old_text, text)
        ids = text.index.to_numpy()
        if old_ids is not None:
            ids = np.concatenate([np.asarray(old_ids), ids])
        return replace(self, frame=frame, item_text=text, all_item_ids=ids, tags=tags)

    def to_interactions(self, name: str) -> Interactions:
        """Dense ids, duplicates collapsed (see ``Interactions.from_frame``)."""
        text = None if self.item_text is None else self.item_text.fillna("").astype(str)
        return Interactions.from_frame(
            name,
            self.frame,
            user=USER,
            item=ITEM,
            timestamp=TIMESTAMP if TIMESTAMP in self.frame.columns else None,
            fixed_part=PART if PART in self.frame.columns else None,
            item_text=text,
            all_item_ids=self.all_item_ids,
            tags=self.tags,
        )


def _overlay(base: pd.DataFrame, top: pd.DataFrame) -> pd.DataFrame:
    """``base`` with ``top``'s columns added; rows of ``top`` replace ``base``'s values in shared columns."""
    index = base.index.union(top.index, sort=False)
    merged = base.reindex(index)
    added = top.reindex(index)
    listed = index.isin(top.index)
    for column in top.columns:
        merged[column] = added[column].where(listed, merged[column]) if column in base else added[column]
    return merged


def _kind(values: np.ndarray) -> str:
    """'number' or 'other': ids of different kinds cannot be compared or sorted together."""
    return "number" if values.dtype.kind in "iufb" else "other"

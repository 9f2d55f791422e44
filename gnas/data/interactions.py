"""User-item interactions with dense integer ids and the maps back to the original ids."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gnas.errors import GnasError

TRAIN, VALID, TEST = 0, 1, 2


@dataclass(frozen=True)
class Interactions:
    """A de-duplicated implicit-feedback data set.

    ``user[i]``/``item[i]`` are dense indices; ``user_ids[u]``/``item_ids[v]`` give the original ids
    back (export and recommend need them). ``fixed_part`` holds TRAIN/TEST per interaction for data
    sets that ship their own split. ``item_text`` has one row per dense item index. ``item_tags`` are
    user tags of (user, item) pairs (columns ``user``, ``item`` as dense indices, ``tag``); they are
    not item text, since a split may hold their pair out (see ``gnas.text.tags``).
    """

    name: str
    user: np.ndarray
    item: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    timestamp: np.ndarray | None = None
    fixed_part: np.ndarray | None = None
    item_text: pd.DataFrame | None = None
    item_tags: pd.DataFrame | None = None

    @property
    def num_users(self) -> int:
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.user)

    @classmethod
    def from_frame(
        cls,
        name: str,
        frame: pd.DataFrame,
        *,
        user: str = "user",
        item: str = "item",
        timestamp: str | None = None,
        fixed_part: str | None = None,
        item_text: pd.DataFrame | None = None,
        all_item_ids: np.ndarray | None = None,
        tags: pd.DataFrame | None = None,
    ) -> Interactions:
        """Map ids of any type to dense indices and collapse duplicate (user, item) pairs.

        Duplicates keep their latest timestamp and, for fixed splits, the training label. ``item_text``
        is indexed by original item id; ``all_item_ids`` keeps items that have text but no interaction
        (so cold items with text can still be ranked). ``tags`` (columns ``user``, ``item``, ``tag``,
        original ids) keep the rows whose user and item are known.
        """
        if frame.empty:
            raise GnasError(f"data set {name!r} has no interactions (after filtering)")
        cols = [user, item] + [c for c in (timestamp, fixed_part) if c]
        frame = frame[cols]
        order = [(c, up) for c, up in ((fixed_part, True), (timestamp, False)) if c]
        if order:
            # Keep the first of each pair after this sort: TRAIN before TEST, then the latest time.
            frame = frame.sort_values([c for c, _ in order], ascending=[up for _, up in order], kind="stable")
        frame = frame.drop_duplicates([user, item], keep="first").sort_index(kind="stable")

        user_codes, user_ids = pd.factorize(frame[user], sort=True)
        item_ids: np.ndarray
        if all_item_ids is None:
            item_codes, item_index = pd.factorize(frame[item], sort=True)
            item_ids = np.asarray(item_index)
        else:
            item_ids = np.sort(pd.unique(np.concatenate([np.asarray(all_item_ids), frame[item].to_numpy()])))
            item_codes = np.searchsorted(item_ids, frame[item].to_numpy())
        text = None
        if item_text is not None:
            text = item_text.reindex(item_ids).fillna("").reset_index(drop=True)
        return cls(
            name=name,
            user=np.asarray(user_codes, dtype=np.int64),
            item=np.asarray(item_codes, dtype=np.int64),
            user_ids=np.asarray(user_ids),
            item_ids=np.asarray(item_ids),
            timestamp=None if timestamp is None else frame[timestamp].to_numpy(dtype=np.int64),
            fixed_part=None if fixed_part is None else frame[fixed_part].to_numpy(dtype=np.int8),
            item_text=text,
            item_tags=None if tags is None else _dense_tags(tags, np.asarray(user_ids), np.asarray(item_ids)),
        )


def _dense_tags(tags: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray) -> pd.DataFrame:
    """``tags`` with dense user and item indices; rows of unknown users or items are dropped."""
    user = pd.Index(user_ids).get_indexer(tags["user"])
    item = pd.Index(item_ids).get_indexer(tags["item"])
    keep = (user >= 0) & (item >= 0)
    return pd.DataFrame(
        {
            "user": user[keep].astype(np.int64),
            "item": item[keep].astype(np.int64),
            "tag": tags["tag"].to_numpy()[keep],
        }
    ).reset_index(drop=True)

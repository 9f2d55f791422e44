"""Which item text a split allows: the data set's item text, plus (``dataset.text.tags: train``) the
user tags of (user, item) pairs in the split's training part, never those of a held-out pair.

A held-out (valid, test or cold) pair's tag names what its user thought of the item, so reading it
into the item's text would hand the model part of the answer it is scored on. ``text_source`` names
what the text was built from (and, with training tags, which split) for the feature cache key.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from gnas.data.interactions import TRAIN, Interactions
from gnas.data.split import Split
from gnas.errors import GnasError
from gnas.spec import TextSpec

TAGS = "tags"


def train_tags(split: Split) -> pd.Series:
    """Per dense item: the distinct tags of its training pairs joined with ", " (first-seen order)."""
    data = split.interactions
    tags = data.item_tags
    empty = pd.Series([""] * data.num_items, dtype=object)
    if tags is None or tags.empty:
        return empty
    user, item = split.edges(TRAIN)
    train_pairs = pd.MultiIndex.from_arrays([user, item])
    kept = tags[pd.MultiIndex.from_arrays([tags["user"], tags["item"]]).isin(train_pairs)]
    joined = kept.drop_duplicates(["item", "tag"]).groupby("item", sort=False)["tag"].agg(", ".join)
    return joined.reindex(range(data.num_items)).fillna("").astype(object)


def split_fingerprint(split: Split) -> str:
    """A hash of which interactions are training ones: two different splits never share it."""
    data = split.interactions
    digest = hashlib.sha256(data.name.encode())
    for array in (data.user, data.item, split.part == TRAIN):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def allowed_item_text(source: Split | Interactions, spec: TextSpec) -> pd.DataFrame | None:
    """The item text table the texts are composed from: ``tags: train`` adds a ``tags`` column.

    GnasError (naming ``dataset.text.tags``) when training tags are asked for without a split, for a
    data set without user tags, or when the item text already has a ``tags`` column.
    """
    data = source.interactions if isinstance(source, Split) else source
    if spec.tags == "none":
        return data.item_text
    if not isinstance(source, Split):
        raise GnasError("dataset.text.tags: train needs the split (tags of training pairs only)")
    if data.item_tags is None:
        raise GnasError(
            f"dataset.text.tags: train: data set {data.name!r} has no user tags (a MovieLens tags.csv); "
            "use tags: none"
        )
    table = data.item_text if data.item_text is not None else pd.DataFrame(index=range(data.num_items))
    if TAGS in table.columns:
        raise GnasError(
            f"dataset.text.tags: train: the item text of {data.name!r} already has a {TAGS!r} column; "
            "rename that column or use tags: none"
        )
    return table.assign(**{TAGS: train_tags(source).to_numpy()})


def text_source(source: Split | Interactions, spec: TextSpec) -> str:
    """What the texts were built from, for the cache key: ``tags=none`` or ``tags=train split=<hash>``."""
    if spec.tags == "none":
        return "tags=none"
    assert isinstance(source, Split), "allowed_item_text refuses training tags without a split"
    return f"tags=train split={split_fingerprint(source)}"

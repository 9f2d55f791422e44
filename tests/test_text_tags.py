"""Item text holds only what the split allows: user tags of training pairs (``tags: train``) or none."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnas.data.interactions import TRAIN, Interactions
from gnas.data.split import Split, split_interactions
from gnas.errors import GnasError
from gnas.spec import SplitSpec, TextSpec
from gnas.text.build import item_features
from gnas.text.cache import FeatureCache
from gnas.text.encoder import OnBatch
from tests.text_helpers import FakeEncoder


class RecordingEncoder(FakeEncoder):
    """The fake encoder, keeping every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(
        self, texts: Sequence[str], batch_size: int, max_length: int, on_batch: OnBatch | None = None
    ) -> np.ndarray:
        self.texts.extend(texts)
        return super().encode(texts, batch_size, max_length, on_batch)


def tagged_data(users: int = 12, items: int = 30, per_user: int = 10, seed: int = 0) -> Interactions:
    """Every (user, item) interaction carries its own tag ``t<user>x<item>``; one tag has no rating."""
    rng = np.random.default_rng(seed)
    pairs = [(u, int(i)) for u in range(users) for i in rng.choice(items, per_user, replace=False)]
    frame = pd.DataFrame(pairs, columns=["user", "item"]).assign(ts=np.arange(len(pairs)))
    tags = pd.DataFrame([(u, i, f"t{u}x{i}") for u, i in pairs], columns=["user", "item", "tag"])
    unrated = min(set(range(items)) - {i for u, i in pairs if u == 0})
    tags = pd.concat([tags, pd.DataFrame([(0, unrated, "unrated")], columns=["user", "item", "tag"])])
    text = pd.DataFrame({"title": [f"movie {i}" for i in range(items)]}, index=pd.Index(range(items)))
    return Interactions.from_frame(
        "tagged", frame, timestamp="ts", item_text=text, all_item_ids=np.arange(items), tags=tags
    )


def split(data: Interactions, seed: int, method: str = "random") -> Split:
    return split_interactions(data, SplitSpec(method=method, seed=seed, cold_fraction=0.2))


def pair_tag(data: Interactions, row: int) -> str:
    return f"t{data.user_ids[data.user[row]]}x{data.item_ids[data.item[row]]}"


@pytest.mark.parametrize("method", ["random", "cold_item"])
def test_a_held_out_pairs_tag_never_reaches_the_item_text(tmp_path: Path, method: str) -> None:
    data = tagged_data()
    parts = split(data, seed=3, method=method)
    encoder = RecordingEncoder()
    item_features(parts, TextSpec(tags="train"), cache=FeatureCache(tmp_path), encoder=encoder)
    words = {word for text in encoder.texts for word in text.replace(".", ",").replace(",", " ").split()}
    held_out = [pair_tag(data, row) for row in np.flatnonzero(parts.part != TRAIN)]
    trained = [pair_tag(data, row) for row in np.flatnonzero(parts.part == TRAIN)]
    assert held_out and not words.intersection(held_out)
    assert set(trained) <= words
    assert "unrated" not in words  # a tag without a training interaction is not a training pair's
    for item in parts.cold_items:  # a cold item has no training pair, so no tag at all
        assert encoder.texts[int(item)] == f"movie {data.item_ids[item]}"


def test_no_tags_by_default(tmp_path: Path) -> None:
    data = tagged_data()
    encoder = RecordingEncoder()
    item_features(split(data, seed=3), TextSpec(), cache=FeatureCache(tmp_path), encoder=encoder)
    assert encoder.texts == [f"movie {i}" for i in range(data.num_items)]


def test_two_splits_give_two_cache_entries(tmp_path: Path) -> None:
    data, cache, encoder = tagged_data(), FeatureCache(tmp_path), FakeEncoder()
    first = item_features(split(data, seed=1), TextSpec(tags="train"), cache=cache, encoder=encoder)
    second = item_features(split(data, seed=2), TextSpec(tags="train"), cache=cache, encoder=encoder)
    again = item_features(split(data, seed=1), TextSpec(tags="train"), cache=cache, encoder=encoder)
    assert first.path != second.path and not second.cached
    assert again.cached and again.path == first.path and encoder.calls == 2
    plain = [item_features(split(data, seed=s), TextSpec(), cache=cache, encoder=encoder) for s in (1, 2)]
    assert plain[0].path == plain[1].path and plain[1].cached  # text without tags is the same for both
    assert len({first.path, second.path, plain[0].path}) == 3 and len(list(tmp_path.iterdir())) == 3


def test_train_tags_need_a_split_and_tags(tmp_path: Path) -> None:
    data = tagged_data()
    with pytest.raises(GnasError, match="dataset.text.tags: train needs the split"):
        item_features(data, TextSpec(tags="train"), cache=FeatureCache(tmp_path), encoder=FakeEncoder())
    untagged = Interactions(**{**data.__dict__, "item_tags": None})
    with pytest.raises(GnasError, match="dataset.text.tags: train: data set 'tagged' has no user tags"):
        item_features(
            split(untagged, 1), TextSpec(tags="train"), cache=FeatureCache(tmp_path), encoder=FakeEncoder()
        )
    with pytest.raises(GnasError, match=r"fields\[1\]: 'tags' .*dataset.text.tags: train"):
        item_features(
            split(data, 1),
            TextSpec(fields=["title", "tags"]),
            cache=FeatureCache(tmp_path),
            encoder=FakeEncoder(),
        )
    assert not tmp_path.exists() or not list(tmp_path.iterdir())  # nothing cached

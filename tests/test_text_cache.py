"""The feature cache: keyed by what decides the matrix, written atomically, verified on read."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from gnas.errors import GnasError
from gnas.spec import TextSpec
from gnas.text.build import item_features
from gnas.text.cache import FeatureCache, feature_key
from tests.text_helpers import FakeEncoder, taste_data


def test_key_changes_with_model_texts_pooling_length_and_source() -> None:
    key = feature_key("m1", ["a", "b"], "mean-l2", 128, "tags=none")
    assert key == feature_key("m1", ["a", "b"], "mean-l2", 128, "tags=none")
    others = [
        feature_key("m2", ["a", "b"], "mean-l2", 128, "tags=none"),
        feature_key("m1", ["a", "c"], "mean-l2", 128, "tags=none"),
        feature_key("m1", ["ab", ""], "mean-l2", 128, "tags=none"),
        feature_key("m1", ["a", "b"], "cls", 128, "tags=none"),
        feature_key("m1", ["a", "b"], "mean-l2", 64, "tags=none"),
        feature_key("m1", ["a", "b"], "mean-l2", 128, "tags=train split=1"),
        feature_key("m1", ["a", "b"], "mean-l2", 128, "tags=train split=2"),
    ]
    assert len({key, *others}) == 8


def test_computed_once_then_read_from_the_cache(tmp_path: Path) -> None:
    data, _ = taste_data(users=16, items_per_group=5, per_user=3)
    encoder, cache = FakeEncoder(), FeatureCache(tmp_path)
    first = item_features(data, TextSpec(), cache=cache, encoder=encoder)
    second = item_features(data, TextSpec(), cache=cache, encoder=encoder)
    assert not first.cached and second.cached and encoder.calls == 1
    assert first.path == second.path and first.path.parent == tmp_path
    assert np.array_equal(first.features.matrix.numpy(), second.features.matrix.numpy())
    assert first.features.matrix.shape == (data.num_items, 8)
    assert [p.name for p in tmp_path.iterdir()] == [first.path.name]  # no temporary file left
    item_features(data, TextSpec(max_length=5), cache=cache, encoder=encoder)
    assert encoder.calls == 2  # another max_length is another entry
    item_features(data, TextSpec(), cache=cache, encoder=encoder, rebuild=True)
    assert encoder.calls == 3


def test_items_without_text_are_not_encoded(tmp_path: Path) -> None:
    data, _ = taste_data(users=16, items_per_group=5, per_user=3)
    text = data.item_text.copy()
    text.loc[:2, :] = ""
    data = type(data)(**{**data.__dict__, "item_text": text})
    built = item_features(data, TextSpec(), cache=FeatureCache(tmp_path), encoder=FakeEncoder())
    assert built.texts == data.num_items - 3
    assert not built.features.present[:3].any() and built.features.present[3:].all()
    assert built.features.matrix[:3].abs().sum() == 0


@pytest.mark.parametrize("damage", ["truncate", "garbage", "checksum"])
def test_corrupt_entries_are_rebuilt_with_a_warning(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    data, _ = taste_data(users=16, items_per_group=5, per_user=3)
    encoder, cache = FakeEncoder(), FeatureCache(tmp_path)
    path = item_features(data, TextSpec(), cache=cache, encoder=encoder).path
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not an archive")
    else:  # a valid archive whose matrix does not match its recorded checksum
        with np.load(path) as archive:
            parts = {name: archive[name] for name in archive.files}
        parts["matrix"] = parts["matrix"] + 1.0
        with path.open("wb") as handle:
            np.savez(handle, **parts)
    with caplog.at_level(logging.WARNING, logger="gnas.text"):
        rebuilt = item_features(data, TextSpec(), cache=cache, encoder=encoder)
    assert not rebuilt.cached and encoder.calls == 2
    assert "rebuilding" in caplog.text and str(path) in caplog.text
    assert item_features(data, TextSpec(), cache=cache, encoder=encoder).cached


def test_cached_dimension_mismatch_is_a_one_line_error(tmp_path: Path) -> None:
    data, _ = taste_data(users=16, items_per_group=5, per_user=3)
    cache = FeatureCache(tmp_path)
    path = item_features(data, TextSpec(), cache=cache, encoder=FakeEncoder(dim=8)).path
    with pytest.raises(GnasError, match=r"cached features are 8 wide but the model embeds into 4") as error:
        item_features(data, TextSpec(), cache=cache, encoder=FakeEncoder(dim=4))
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_a_failed_encoding_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    data, _ = taste_data(users=16, items_per_group=5, per_user=3)

    class Failing(FakeEncoder):
        def encode(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        item_features(data, TextSpec(), cache=FeatureCache(tmp_path / "f"), encoder=Failing())
    assert not (tmp_path / "f").exists() or not any((tmp_path / "f").iterdir())


def test_default_cache_dir_follows_gnas_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GNAS_CACHE_DIR", str(tmp_path))
    assert FeatureCache().root == tmp_path / "features"

"""Item text -> the feature matrix of a data set, computed once and then read from the cache.

``item_features`` composes one text per item from what the split allows (``gnas.text.tags``), derives
the cache key from the model's identity, the texts, the pooling, ``max_length`` and the text's source
(tags or not, which split), and either loads the verified cached matrix or encodes the
texts (items without text are skipped: they get the model's learned "no text" vector) and stores it.
A search calls it once, before its first trial; every trial and worker then shares the matrix.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from gnas.data.interactions import Interactions
from gnas.data.split import Split
from gnas.errors import GnasError
from gnas.spec import TextSpec
from gnas.text.cache import FeatureCache, feature_key
from gnas.text.encoder import OnBatch, TextEncoder
from gnas.text.features import ItemFeatures
from gnas.text.model import locate_model
from gnas.text.tags import allowed_item_text, text_source
from gnas.text.texts import compose_texts


class Encoder(Protocol):
    """What the feature builder needs of an encoder (tests pass a small fake)."""

    identity: str
    dim: int | None
    pooling: str

    def encode(
        self, texts: Sequence[str], batch_size: int, max_length: int, on_batch: OnBatch | None
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class FeatureBuild:
    """The features, the cache file holding them, seconds taken and whether the cache already had them."""

    features: ItemFeatures
    path: Path
    seconds: float
    cached: bool
    texts: int


def item_features(
    source: Split | Interactions,
    spec: TextSpec,
    *,
    cache: FeatureCache | None = None,
    device: str = "auto",
    encoder: Encoder | None = None,
    rebuild: bool = False,
    on_batch: OnBatch | None = None,
) -> FeatureBuild:
    """The item feature matrix of ``source`` as ``spec`` (``dataset.text``) says, from the cache if present.

    ``source`` is the split (needed for ``tags: train``) or, for text without tags, the data set.
    ``on_batch`` reports encoding progress (it is not called on a cache hit). ``rebuild`` ignores a
    cached entry. Nothing is written unless the whole matrix was computed.
    """
    started = time.perf_counter()
    data = source.interactions if isinstance(source, Split) else source
    texts = compose_texts(allowed_item_text(source, spec), spec, repr(data.name))
    origin = text_source(source, spec)
    if encoder is None:
        encoder = TextEncoder(locate_model(spec.model), device)
    cache = cache or FeatureCache()
    key = feature_key(encoder.identity, texts, encoder.pooling, spec.max_length, origin)
    present = np.array([bool(text) for text in texts])
    found = None if rebuild else cache.load(key, len(texts), encoder.dim)
    if found is not None:
        features = ItemFeatures.from_numpy(found.matrix, found.present)
        return FeatureBuild(features, found.path, time.perf_counter() - started, True, int(present.sum()))
    index = np.flatnonzero(present)
    encoded = encoder.encode([texts[i] for i in index], spec.batch_size, spec.max_length, on_batch)
    if encoded.ndim != 2 or encoded.shape[0] != len(index):
        raise GnasError(f"dataset.text.model: the encoder returned {encoded.shape} for {len(index)} texts")
    if encoder.dim is not None and encoded.shape[1] != encoder.dim:
        raise GnasError(
            f"dataset.text.model: embeddings are {encoded.shape[1]} wide, the model declares {encoder.dim}"
        )
    matrix = np.zeros((len(texts), encoded.shape[1]), dtype=np.float32)
    matrix[index] = encoded
    meta = {
        "dataset": data.name,
        "model": encoder.identity,
        "pooling": encoder.pooling,
        "max_length": spec.max_length,
        "source": origin,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    path = cache.save(key, matrix, present, meta)
    features = ItemFeatures.from_numpy(matrix, present)
    return FeatureBuild(features, path, time.perf_counter() - started, False, len(index))

"""Synthetic data where item text decides taste, a fake encoder and a tiny BERT model directory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from gnas.data.interactions import Interactions
from gnas.text.encoder import OnBatch
from gnas.text.features import ItemFeatures

GENRES = ("horror", "comedy", "western", "romance", "scifi", "drama", "war", "musical")


def taste_data(
    groups: int = 8, users: int = 200, items_per_group: int = 50, per_user: int = 20, seed: int = 0
) -> tuple[Interactions, ItemFeatures]:
    """Each user likes one genre and interacts only with items of it; item text names the genre.

    The features are the genre's one-hot vector plus noise (unit length), so text alone tells a cold
    item's audience, and item ids alone tell nothing about an item never seen in training.
    """
    rng = np.random.default_rng(seed)
    num_items = groups * items_per_group
    genre = np.arange(num_items) % groups
    rows = []
    for user in range(users):
        liked = np.flatnonzero(genre == user % groups)
        for item in rng.choice(liked, size=per_user, replace=False):
            rows.append((f"u{user:03d}", f"i{item:03d}", int(rng.integers(1_000, 1_000_000))))
    frame = pd.DataFrame(rows, columns=["user", "item", "ts"])
    text = pd.DataFrame(
        {"title": [f"item {i}" for i in range(num_items)], "genres": [GENRES[g] for g in genre]},
        index=pd.Index([f"i{i:03d}" for i in range(num_items)], name="item"),
    )
    data = Interactions.from_frame("taste", frame, timestamp="ts", item_text=text)
    matrix = np.eye(16, dtype=np.float32)[genre] + 0.3 * rng.standard_normal((num_items, 16)).astype(
        np.float32
    )
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    order = np.searchsorted([f"i{i:03d}" for i in range(num_items)], data.item_ids)
    return data, ItemFeatures.from_numpy(matrix[order])


class FakeEncoder:
    """Bag-of-characters embeddings: deterministic, instant, counts its calls."""

    pooling = "mean-l2"

    def __init__(self, dim: int = 8, identity: str = "fake-1") -> None:
        self.dim: int | None = dim
        self.identity = identity
        self.calls = 0

    def encode(
        self, texts: Sequence[str], batch_size: int, max_length: int, on_batch: OnBatch | None = None
    ) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim or 8), dtype=np.float32)
        for row, text in enumerate(texts):
            for char in text[:max_length]:
                out[row, ord(char) % out.shape[1]] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        if on_batch is not None:
            on_batch(len(texts), len(texts))
        return out


def tiny_bert(folder: Path) -> Path:
    """A randomly initialised 1-layer BERT (hidden 8) with a word-level vocabulary, saved to ``folder``."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "item", ".", *GENRES, *map(str, range(10))]
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(words),
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(folder)
    return folder

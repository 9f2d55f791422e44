r"""Sentence embeddings of item texts with ``transformers``: mean pooling and L2 normalisation.

For a text with token states :math:`\mathbf{s}_1..\mathbf{s}_n` (padding masked out),

.. math::
    \mathbf{t} = \frac{\bar{\mathbf{s}}}{\lVert\bar{\mathbf{s}}\rVert_2}, \qquad
    \bar{\mathbf{s}} = \frac{1}{n}\sum_{j=1}^{n} \mathbf{s}_j,

which is how sentence-transformers models such as all-MiniLM-L6-v2 are meant to be pooled. Texts are
encoded in batches sorted by length (less padding), on CUDA when present, in half precision there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from gnas.device import resolve_device
from gnas.errors import GnasError
from gnas.text.model import KEY, ModelFiles

POOLING = "mean-l2"

OnBatch = Callable[[int, int], None]
"""Called after each batch with (texts done, texts in all)."""


def mean_pool(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L2-normalised mean of the token states where ``mask`` is 1."""
    weights = mask.unsqueeze(-1).to(states.dtype)
    summed = (states * weights).sum(1)
    pooled = summed / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


class TextEncoder:
    """A transformers encoder loaded from local files only; ``encode`` returns ``[N, dim]`` float32."""

    pooling = POOLING

    def __init__(self, files: ModelFiles, device: str = "auto") -> None:
        self.files = files
        self.identity = files.identity
        self.dim = files.dim
        self.device = resolve_device(device)
        self._loaded: tuple[Any, Any] | None = None

    def _load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # ours is the only bar
            path = str(self.files.path)
            try:
                tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
                model = AutoModel.from_pretrained(path, local_files_only=True)
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise GnasError(
                    f"{KEY}: {self.files.path} is not a loadable text encoder ({first})"
                ) from None
            model.eval().to(self.device)
            if self.device.type == "cuda":
                model.half()
            self._loaded = (tokenizer, model)
        return self._loaded

    def encode(
        self,
        texts: Sequence[str],
        batch_size: int = 64,
        max_length: int = 128,
        on_batch: OnBatch | None = None,
    ) -> np.ndarray:
        """Embed ``texts`` (non-empty strings) into unit-length rows, in the order given."""
        tokenizer, model = self._load()
        order = np.argsort([len(text) for text in texts], kind="stable")
        out = np.zeros((len(texts), 0), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                index = order[start : start + batch_size]
                batch = tokenizer(
                    [texts[i] for i in index],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                ).to(self.device)
                try:
                    states = model(**batch).last_hidden_state
                except (AttributeError, TypeError, ValueError) as exc:
                    raise GnasError(f"{KEY}: {self.files.path} is not a text encoder ({exc})") from None
                pooled = mean_pool(states, batch["attention_mask"]).cpu().numpy()
                if out.shape[1] == 0:
                    out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
                out[index] = pooled
                if on_batch is not None:
                    on_batch(min(start + batch_size, len(texts)), len(texts))
        return out

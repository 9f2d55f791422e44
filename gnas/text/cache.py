"""Item feature matrices on disk, keyed by what determines them, written atomically, verified on read.

A key is a hash of (model identity, the texts, pooling, max_length, the text's source: with or
without user tags and, with training tags, which split; see ``gnas.text.tags``); the file
``<cache>/features/<key>.npz`` holds the matrix, the "has text" mask and a JSON header (key, shape,
SHA-256 of the matrix). The file is written under a temporary name and renamed, so a reader never sees
half of one. A file that cannot be read, whose header is not its key's, or whose checksum fails is
stale or corrupt: it is reported and rebuilt. One whose width differs from the model's is an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gnas.data.locate import cache_root
from gnas.errors import GnasError
from gnas.runs import atomic_file

log = logging.getLogger("gnas.text")

FORMAT = 2  # 2: the key includes the text's source (tags, split)


def feature_key(identity: str, texts: Sequence[str], pooling: str, max_length: int, source: str) -> str:
    """The cache key of a feature matrix: changes whenever the model, a text, pooling, max_length or
    the text's source (e.g. ``tags=train split=<hash>``) do, so no split reads another split's entry."""
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT, identity, pooling, max_length, source]).encode())
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def checksum(matrix: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(matrix).tobytes()).hexdigest()


@dataclass(frozen=True)
class CachedFeatures:
    matrix: np.ndarray
    present: np.ndarray
    path: Path


class FeatureCache:
    """The feature files under ``root`` (default ``$GNAS_CACHE_DIR/features``, ``~/.cache/gnas/features``)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_root() / "features"

    def path(self, key: str) -> Path:
        return self.root / f"{key}.npz"

    def load(self, key: str, rows: int, dim: int | None) -> CachedFeatures | None:
        """The verified entry of ``key``, or None when it is missing, stale or corrupt (then rebuilt)."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as archive:
                header = json.loads(str(archive["header"]))
                matrix, present = archive["matrix"], archive["present"]
        except Exception as exc:  # truncated, not a zip, missing member: rebuild
            log.warning("feature cache %s is unreadable (%s); rebuilding it", path, type(exc).__name__)
            return None
        if header.get("key") != key or matrix.dtype != np.float32 or matrix.ndim != 2:
            log.warning("feature cache %s is stale (key or dtype differ); rebuilding it", path)
            return None
        if matrix.shape[0] != rows or present.shape != (rows,) or header.get("sha256") != checksum(matrix):
            log.warning("feature cache %s is corrupt (shape or checksum differ); rebuilding it", path)
            return None
        if dim is not None and matrix.shape[1] != dim:
            raise GnasError(
                f"{path}: cached features are {matrix.shape[1]} wide but the model embeds into {dim}; delete "
                "the file or run `gnas features build --rebuild`"
            )
        return CachedFeatures(matrix, present.astype(bool), path)

    def save(self, key: str, matrix: np.ndarray, present: np.ndarray, meta: dict[str, object]) -> Path:
        """Write the entry atomically (temporary file in the same folder, then rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        header = {**meta, "key": key, "shape": list(matrix.shape), "sha256": checksum(matrix)}
        target = self.path(key)
        with atomic_file(target) as handle:
            np.savez(handle, matrix=matrix, present=np.asarray(present, bool), header=json.dumps(header))
        return target

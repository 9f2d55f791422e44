"""Where a registered data set's files are found, in a fixed order.

1. the ``data_dir`` argument (``--data-dir``): that folder or its ``<name>/`` subfolder;
2. ``$GNAS_DATA_DIR/<name>/``;
3. the cache ``$GNAS_CACHE_DIR/datasets/<name>/`` (default ``~/.cache/gnas``);
4. a download into the cache, for data sets that have one.

A folder found in 1-3 is used as is, never skipped: if a file is missing or fails its checksum the
error says so, instead of quietly loading something else.
"""

from __future__ import annotations

import os
from pathlib import Path

from gnas.data.download import dataset_url, download_dataset
from gnas.data.info import DatasetInfo
from gnas.data.integrity import first_problem
from gnas.errors import GnasError

CACHE = "the gnas cache"


def cache_root() -> Path:
    """``$GNAS_CACHE_DIR``, else ``~/.cache/gnas``."""
    env = os.environ.get("GNAS_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "gnas"


def dataset_cache_dir(name: str) -> Path:
    """The cache folder of one data set."""
    return cache_root() / "datasets" / name


def locate_dataset(
    info: DatasetInfo, data_dir: Path | None = None, url: str | None = None, data_dir_key: str = "--data-dir"
) -> Path:
    """The folder holding ``info``'s verified files, downloading them into the cache if needed.

    ``data_dir_key`` names where ``data_dir`` came from in error messages (``--data-dir`` or a YAML key).
    """
    if data_dir is not None:
        if not data_dir.is_dir():
            raise GnasError(f"{data_dir}: no such folder ({data_dir_key})")
        folder = data_dir / info.name if (data_dir / info.name).is_dir() else data_dir
        return _checked(folder, info, data_dir_key)
    env = os.environ.get("GNAS_DATA_DIR")
    if env and (Path(env).expanduser() / info.name).is_dir():
        return _checked(Path(env).expanduser() / info.name, info, "$GNAS_DATA_DIR")
    cached = dataset_cache_dir(info.name)
    if cached.is_dir():
        return _checked(cached, info, CACHE)
    if dataset_url(info, url) is None:
        where = f"GNAS_DATA_DIR={env}" if env else "GNAS_DATA_DIR is unset"
        raise GnasError(
            f"data set {info.name!r} not found ({where}) and it cannot be downloaded: "
            f"put {', '.join(info.files)} in $GNAS_DATA_DIR/{info.name}/ or pass --data-dir "
            f"(source: {info.source})"
        )
    return download_dataset(info, cached, url)


def _checked(folder: Path, info: DatasetInfo, origin: str) -> Path:
    """``folder`` if all of ``info``'s files are there and match their checksums, else a GnasError."""
    problem = first_problem(folder, info.files, info.sha256)
    if problem is None:
        return folder
    if origin == CACHE and dataset_url(info) is not None:
        fix = f"delete {folder} to download it again"
    elif "SHA-256" in problem:
        fix = (
            f"this is not the official {info.name}; to load your own copy set "
            f"dataset.format: {info.format} and dataset.path"
        )
    else:
        fix = f"{info.name} needs {', '.join(info.files)}"
    raise GnasError(f"{folder} (from {origin}): {problem}; {fix}")

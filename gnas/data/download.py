"""Download a registered data set's zip into the cache, verified, all or nothing.

Everything happens in a temporary folder inside the cache; the data set folder appears (by one
atomic rename) only after every pinned file passed its SHA-256 check, so a failed or corrupt
download never leaves a partial file or folder behind.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from gnas.data.info import DatasetInfo
from gnas.data.integrity import first_problem
from gnas.data.tables import one_line
from gnas.errors import GnasError

TIMEOUT_S = 60.0
CHUNK = 1 << 16


def dataset_url(info: DatasetInfo, url: str | None = None) -> str | None:
    """The URL to use: the argument, else the environment override, else the registered one."""
    if url:
        return url
    if info.url_env and os.environ.get(info.url_env):
        return os.environ[info.url_env]
    return info.url


def offline_hint(info: DatasetInfo) -> str:
    """How to supply a data set by hand, for error messages."""
    return f"to work offline put {', '.join(info.files)} in $GNAS_DATA_DIR/{info.name}/ or pass --data-dir"


def download_dataset(info: DatasetInfo, dest: Path, url: str | None = None) -> Path:
    """Fetch, extract and verify ``info``'s zip so that its files end up in ``dest``; returns ``dest``."""
    source = dataset_url(info, url)
    if source is None:
        raise GnasError(
            f"data set {info.name!r} has no download; {offline_hint(info)} (source: {info.source})"
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{info.name}-download-", dir=dest.parent))
    try:
        archive = work / "archive.zip"
        _fetch(source, archive, info)
        extracted = work / info.name
        _extract(archive, extracted, info, source)
        problem = first_problem(extracted, info.files, info.sha256)
        if problem is not None:
            raise GnasError(
                f"download of {info.name} from {source} is corrupt: {problem}; {offline_hint(info)}"
            )
        try:
            extracted.rename(dest)
        except OSError:
            # Another process finished first: use its copy if it is complete.
            if not dest.is_dir() or first_problem(dest, info.files, info.sha256) is not None:
                raise
    except OSError as exc:
        raise GnasError(
            f"download of {info.name} into {dest} failed: {one_line(exc)}; {offline_hint(info)}"
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _fetch(url: str, target: Path, info: DatasetInfo) -> None:
    """Stream ``url`` into ``target`` with a progress bar on stderr."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, target.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
                task = progress.add_task(f"downloading {info.name}", total=total)
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    progress.advance(task, len(chunk))
    except urllib.error.HTTPError as exc:
        problem = f"HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        problem = one_line(exc.reason) if isinstance(exc.reason, BaseException) else str(exc.reason)
    except (OSError, ValueError, http.client.HTTPException) as exc:
        problem = one_line(exc)
    else:
        return
    raise GnasError(f"download of {info.name} from {url} failed: {problem}; {offline_hint(info)}")


def _extract(archive: Path, target: Path, info: DatasetInfo, url: str) -> None:
    """Unpack the files directly inside ``info.archive_folder`` (or at the top) of the zip, flat.

    Only plain names are written, so a crafted zip cannot write outside ``target``.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            target.mkdir()
            for member in zf.infolist():
                parts = PurePosixPath(member.filename).parts
                if (
                    member.is_dir()
                    or not parts
                    or parts[-1] in (".", "..")
                    or parts[:-1] not in ((), (info.archive_folder,))
                ):
                    continue
                with zf.open(member) as src, (target / parts[-1]).open("wb") as out:
                    shutil.copyfileobj(src, out)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise GnasError(
            f"download of {info.name} from {url} is not a readable zip ({one_line(exc)}); "
            f"{offline_hint(info)}"
        ) from None

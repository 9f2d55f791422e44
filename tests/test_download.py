"""Downloads against a local HTTP server: verified files land in the cache, failures leave nothing."""

from __future__ import annotations

import hashlib
import os
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gnas.data.download import download_dataset
from gnas.data.info import DatasetInfo
from gnas.data.locate import dataset_cache_dir, locate_dataset
from gnas.data.registry import DATASETS, load_dataset
from gnas.errors import GnasError
from gnas.spec import DatasetSpec

REAL_DATA = os.environ.get("GNAS_DATA_DIR")
integration = pytest.mark.skipif(not REAL_DATA, reason="GNAS_DATA_DIR is not set")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GNAS_DATA_DIR", raising=False)
    monkeypatch.delenv("GNAS_MOVIELENS_URL", raising=False)
    monkeypatch.setenv("GNAS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@contextmanager
def serve(directory: Path) -> Iterator[tuple[str, list[str]]]:
    """A server on 127.0.0.1 (free port) serving ``directory``; yields its URL and the paths asked for."""
    hits: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(directory), **kwargs)

        def do_GET(self) -> None:
            hits.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def make_zip(path: Path, files: dict[str, bytes], folder: str | None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        if folder:
            zf.writestr(f"{folder}/", b"")
        for name, data in files.items():
            zf.writestr(f"{folder}/{name}" if folder else name, data)
    return path


def cache_leftovers(tmp_path: Path) -> list[str]:
    root = tmp_path / "cache" / "datasets"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


FILES = {"a.csv": b"x,y\n1,2\n", "b.csv": b"hello\n"}
TOY = DatasetInfo(
    name="toy",
    format="csv",
    description="toy",
    files=("a.csv", "b.csv"),
    source="tests",
    url="http://127.0.0.1:9/never-used.zip",
    archive_folder="toy",
    sha256={name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()},
)


def test_download_puts_verified_files_in_cache_then_reuses_them(tmp_path: Path) -> None:
    make_zip(tmp_path / "www" / "toy.zip", {**FILES, "README.txt": b"extra"}, "toy")
    with serve(tmp_path / "www") as (url, hits):
        folder = locate_dataset(TOY, url=f"{url}/toy.zip")
        assert hits == ["/toy.zip"]
    assert folder == dataset_cache_dir("toy") == tmp_path / "cache" / "datasets" / "toy"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == {**FILES, "README.txt": b"extra"}
    assert cache_leftovers(tmp_path) == ["toy"]
    # The server is gone and the registered URL is unreachable: the cache answers.
    assert locate_dataset(TOY) == folder


def test_flat_zip_is_accepted_and_unsafe_names_are_ignored(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "www" / "toy.zip", FILES, None)
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("../escape.txt", b"no")
        zf.writestr("other/deep.txt", b"no")
    with serve(tmp_path / "www") as (url, _):
        folder = download_dataset(TOY, tmp_path / "cache" / "datasets" / "toy", url=f"{url}/toy.zip")
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "b.csv"]
    assert not (tmp_path / "cache" / "escape.txt").exists()


@pytest.mark.parametrize(
    ("files", "body", "pattern"),
    [
        ({**FILES, "a.csv": b"x,y\n1,3\n"}, None, r"toy from .* is corrupt: a\.csv has SHA-256"),
        ({"a.csv": FILES["a.csv"]}, None, r"is corrupt: b\.csv is missing"),
        (None, b"<html>not a zip</html>", r"is not a readable zip"),
        (None, None, r"HTTP 404"),
    ],
)
def test_failed_download_leaves_nothing(
    tmp_path: Path, files: dict[str, bytes] | None, body: bytes | None, pattern: str
) -> None:
    www = tmp_path / "www"
    www.mkdir()
    if files is not None:
        make_zip(www / "toy.zip", files, "toy")
    if body is not None:
        (www / "toy.zip").write_bytes(body)
    with serve(www) as (url, _), pytest.raises(GnasError, match=pattern) as err:
        locate_dataset(TOY, url=f"{url}/toy.zip")
    message = str(err.value)
    assert "$GNAS_DATA_DIR/toy/" in message and "--data-dir" in message and "\n" not in message
    assert cache_leftovers(tmp_path) == []


def test_unreachable_server(tmp_path: Path) -> None:
    with serve(tmp_path) as (url, _):
        pass  # closed again: nothing listens on that port now
    with pytest.raises(GnasError, match=r"download of toy from http://127\.0\.0\.1:\d+/toy\.zip failed"):
        locate_dataset(TOY, url=f"{url}/toy.zip")
    assert cache_leftovers(tmp_path) == []


def test_url_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = DatasetInfo(**{**TOY.__dict__, "url_env": "GNAS_TOY_URL"})
    make_zip(tmp_path / "www" / "t.zip", FILES, "toy")
    with serve(tmp_path / "www") as (url, hits):
        monkeypatch.setenv("GNAS_TOY_URL", f"{url}/t.zip")
        locate_dataset(info)
    assert hits == ["/t.zip"]


# --- the official ml-latest-small layout, built from the real files --------------------------------


def real_movielens_files() -> dict[str, bytes]:
    assert REAL_DATA is not None
    folder = Path(REAL_DATA) / "ml-latest-small"
    return {name: (folder / name).read_bytes() for name in DATASETS["ml-latest-small"].files}


@integration
@pytest.mark.integration
def test_movielens_download_into_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_zip(tmp_path / "www" / "ml-latest-small.zip", real_movielens_files(), "ml-latest-small")
    with serve(tmp_path / "www") as (url, hits):
        monkeypatch.setenv("GNAS_MOVIELENS_URL", f"{url}/ml-latest-small.zip")
        data = load_dataset(DatasetSpec(name="ml-latest-small"))
        assert hits == ["/ml-latest-small.zip"]
    assert (data.num_users, data.num_items, len(data)) == (610, 9742, 100836)
    cached = tmp_path / "cache" / "datasets" / "ml-latest-small"
    assert sorted(p.name for p in cached.iterdir()) == ["movies.csv", "ratings.csv", "tags.csv"]
    assert cache_leftovers(tmp_path) == ["ml-latest-small"]
    # Second load: no server, no download.
    monkeypatch.setenv("GNAS_MOVIELENS_URL", f"{url}/ml-latest-small.zip")
    again = load_dataset(DatasetSpec(name="ml-latest-small"))
    assert len(again) == 100836 and hits == ["/ml-latest-small.zip"]


@integration
@pytest.mark.integration
@pytest.mark.parametrize("failure", ["corrupt", "404"])
def test_movielens_failed_download_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    files = real_movielens_files()
    ratings = bytearray(files["ratings.csv"])
    ratings[1000] = ord("9") if ratings[1000] != ord("9") else ord("8")
    files["ratings.csv"] = bytes(ratings)
    www = tmp_path / "www"
    www.mkdir()
    if failure == "corrupt":
        make_zip(www / "ml-latest-small.zip", files, "ml-latest-small")
    with serve(www) as (url, _):
        monkeypatch.setenv("GNAS_MOVIELENS_URL", f"{url}/ml-latest-small.zip")
        with pytest.raises(GnasError) as err:
            load_dataset(DatasetSpec(name="ml-latest-small"))
    message = str(err.value)
    assert ("ratings.csv has SHA-256" in message) if failure == "corrupt" else ("HTTP 404" in message)
    assert "$GNAS_DATA_DIR/ml-latest-small/" in message and "--data-dir" in message
    assert cache_leftovers(tmp_path) == []

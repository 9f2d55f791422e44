"""What gnas knows about a built-in data set: its format, files, origin and checksums."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DatasetInfo:
    """A registered data set.

    ``files`` must all be present in its folder; ``sha256`` pins the ones that are checked before
    use (wherever they were found). ``url`` (overridable by the environment variable ``url_env``)
    points to a zip whose ``archive_folder`` holds the files; without ``url`` the user must put
    the files in place themselves, following ``source``.
    """

    name: str
    format: str
    description: str
    files: tuple[str, ...]
    source: str
    url: str | None = None
    url_env: str | None = None
    archive_folder: str | None = None
    sha256: Mapping[str, str] = field(default_factory=dict)
    fixed_split: bool = False

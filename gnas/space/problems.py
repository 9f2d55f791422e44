"""Problems found in a search-space file: each names the YAML path it is about."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gnas.errors import GnasError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, at ``path`` (``space.layers[1].heads``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class SpaceError(GnasError):
    """Every problem of a search-space file; ``str()`` is the first one plus how many more there are."""

    def __init__(self, problems: Sequence[Problem], source: str = "<space>") -> None:
        self.problems = tuple(problems)
        self.source = source
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem(s))" if more > 0 else ""
        super().__init__(f"{source}: {self.problems[0]}{suffix}")

    def lines(self) -> list[str]:
        """One line per problem, each starting with the file name."""
        return [f"{self.source}: {problem}" for problem in self.problems]


class NotInSpace(GnasError):
    """An architecture or genotype that the search space cannot produce."""


def join_path(base: str, *parts: str | int) -> str:
    """``join_path("space", "layers", 1, "heads") == "space.layers[1].heads"``."""
    path = base
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def location(loc: Iterable[Any]) -> str:
    """A pydantic error location as a YAML path."""
    return join_path("", *loc) or "<top level>"


def show(value: Any) -> str:
    """A value as it would be written in YAML, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def plain(value: Any) -> str:
    """A value as YAML flow text, strings unquoted: for tables (``choice [gcn, gat]``)."""
    return value if isinstance(value, str) else show(value)

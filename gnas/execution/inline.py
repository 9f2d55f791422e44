"""The in-process executor: trials run one after another in this process (debugging, tests, 1 core)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class InlineExecutor:
    """A ``map``-like executor, as DEAP's toolbox uses one; ``slots`` is how many trials run at once."""

    slots = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return [fn(item) for item in items]

"""The executor contract the search loop relies on: submit candidates, collect them as they finish.

Executors are asynchronous in spirit: the loop keeps up to ``slots`` candidates submitted and tells
the controller about each as soon as it finishes, so no worker waits for the slowest of a batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gnas.errors import GnasError
from gnas.search.candidate import Candidate, TrialResult

TrialFunction = Callable[[Candidate], TrialResult]


class WorkersLost(GnasError):
    """The machines running the trials are gone for good (a Ray head node, or the node this process
    is connected to, died): no further result will come. Raised by ``next_result``; the search stops
    with every finished trial logged, and ``--resume`` goes on once the cluster is back."""


class Executor(Protocol):
    """Runs trials; ``slots`` is how many may be in flight at once."""

    slots: int

    def submit(self, candidate: Candidate) -> None:
        """Start evaluating ``candidate`` (may return before it has run)."""

    def next_result(self) -> tuple[Candidate, TrialResult]:
        """Block until a submitted candidate has finished; return it with its result (raises
        :class:`WorkersLost` when no worker is left that could run it)."""

    def shutdown(self) -> None:
        """Cancel whatever is still in flight and release the workers."""

"""Pruning questions from Ray workers, answered by the controller in the driver process.

A pruner (Optuna's) lives with the controller and its study, so a remote trial cannot call it. Each
validation pass of a remote trial asks a small async actor instead and waits; the executor, while it
waits for results, collects the questions, asks the controller and posts the answers. Only searches
whose controller prunes use it: every question costs a round trip (tens of milliseconds). Should the
broker die, trials are no longer pruned: a question then gets "no" and the search goes on.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ray
from ray.exceptions import RayError

from gnas.search.candidate import Candidate

Question = tuple[int, int, float]  # trial, step, value


class PruneBroker:
    """Holds each worker's question until the driver answers it (an async Ray actor, no CPU reserved)."""

    def __init__(self) -> None:
        self._questions: list[Question] = []
        self._waiting: dict[tuple[int, int], asyncio.Future[bool]] = {}

    async def ask(self, trial: int, step: int, value: float) -> bool:
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting[(trial, step)] = future
        self._questions.append((trial, step, value))
        return await future

    async def questions(self) -> list[Question]:
        questions, self._questions = self._questions, []
        return questions

    async def answer(self, answers: list[tuple[int, int, bool]]) -> None:
        for trial, step, prune in answers:
            future = self._waiting.pop((trial, step), None)
            if future is not None and not future.done():
                future.set_result(prune)


def start_broker() -> Any:
    """A new broker actor (its handle is what workers receive)."""
    return ray.remote(num_cpus=0)(PruneBroker).remote()


class RemotePruneCheck:
    """The ``should_prune`` a remote trial calls: asks the broker and waits for the driver's answer."""

    def __init__(self, broker: Any) -> None:
        self.broker = broker

    def __call__(self, candidate: Candidate, step: int, value: float) -> bool:
        try:
            return bool(ray.get(self.broker.ask.remote(candidate.trial, step, float(value))))
        except RayError:  # the broker died: don't prune (the driver warns once)
            return False

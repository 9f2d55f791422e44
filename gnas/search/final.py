"""The final stage of a search: the best screening candidates and the seed points retrain at the full
budget with several seeds, and the best mean validation value wins.

Screening trials train a short budget (``search.trial_budget``), which favours architectures that
converge fast; so after the search loop the ``search.final.top_k`` best distinct candidates by the
primary validation objective, plus the seed points (``search.evolution.seed_points`` that the space
holds, e.g. LightGCN), train the full ``training:`` budget with ``search.final.seeds`` seeds each (the
search's seed, then the next ones), on the search's executor. Each finished run is appended to
``final.jsonl`` (flushed and fsynced) before the next is asked for, so a resumed search does not redo
it. Validation only: the search never loads test data.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gnas.errors import GnasError
from gnas.execution.base import Executor
from gnas.search.budgets import candidate_training
from gnas.search.candidate import Candidate, TrialResult
from gnas.search.controllers.evolution import SEED_POINTS
from gnas.search.objectives import Objectives
from gnas.search.ranking import leaderboard
from gnas.search.runlog import RunLog, TrialRecord, read_trials, repair_trials
from gnas.search.settings import SearchSettings
from gnas.space import Genotype, NotInSpace, SearchFile, architecture_mapping, decode, encode

FINAL = "final.jsonl"

OnRun = Callable[["FinalRun", int, int], None]  # a finished run, runs done, runs planned


@dataclass(frozen=True)
class Entry:
    """A candidate of the final stage: its genotype, the screening trial that ranked it (None: a seed
    point the search did not train), that trial's primary value, and the seed point it is (if any)."""

    genotype: Genotype
    trial: int | None
    screening: float | None
    seed_point: str | None = None

    @property
    def label(self) -> str:
        """``trial 12``, ``trial 3 (lightgcn point)`` or ``lightgcn point``."""
        point = f"{self.seed_point} point" if self.seed_point else ""
        if self.trial is None:
            return point
        return f"trial {self.trial}" + (f" ({point})" if point else "")


@dataclass(frozen=True)
class FinalRun:
    """One finished final-stage run (``candidate.stage`` ``final``, its ``seed``) and the training
    settings it ran with (the full budget and the candidate's own genes)."""

    record: TrialRecord
    training: dict[str, Any]

    @property
    def key(self) -> tuple[Genotype, int | None, str]:
        return _key(self.record.candidate.genotype, self.record.candidate.seed, self.training)

    def to_json(self) -> dict[str, Any]:
        return {**self.record.to_json(), "training": self.training}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FinalRun:
        return cls(TrialRecord.from_json(data), dict(data["training"]))


@dataclass(frozen=True)
class Standing:
    """An entry with its final runs (seed order): the mean and sample sd of the primary objective over
    the ok runs; ``complete`` when every planned seed finished ok (only complete entries can win)."""

    entry: Entry
    runs: tuple[FinalRun, ...]
    seeds: tuple[int, ...]
    objectives: Objectives

    @property
    def values(self) -> list[float]:
        return [run.record.result.values[0] for run in self.runs if _usable(run.record.result)]

    @property
    def complete(self) -> bool:
        return len(self.values) == len(self.seeds)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.values) if self.values else None

    @property
    def sd(self) -> float | None:
        values = self.values
        return statistics.stdev(values) if len(values) > 1 else (0.0 if values else None)

    @property
    def main(self) -> FinalRun | None:
        """The run with the search's own seed: what ``gnas train`` of the exported file reproduces."""
        return next((run for run in self.runs if run.record.candidate.seed == self.seeds[0]), None)

    def sort_key(self) -> tuple[int, float]:
        mean = self.mean
        return (0 if self.complete else 1, math.inf if mean is None else -self.objectives.weights[0] * mean)


def final_seeds(file: SearchFile, settings: SearchSettings) -> tuple[int, ...]:
    """The seeds of every final run: the search's seed, then the next ones."""
    return tuple(file.seed + i for i in range(settings.final.seeds))


def seed_point_genotypes(file: SearchFile, settings: SearchSettings) -> list[tuple[str, Genotype]]:
    """The named seed points the space holds (a point outside the space is left out: it cannot be
    compared inside this search)."""
    found = []
    for name in settings.evolution.seed_points:
        if name not in SEED_POINTS:
            known = ", ".join(SEED_POINTS)
            raise GnasError(f"search.evolution.seed_points: unknown point {name!r} (known: {known})")
        try:
            found.append((name, encode(file.space, SEED_POINTS[name])))
        except NotInSpace:
            continue
    return found


def plan(
    records: Sequence[TrialRecord], file: SearchFile, settings: SearchSettings, objectives: Objectives
) -> list[Entry]:
    """The final stage's entries: the ``top_k`` best distinct screening candidates by the primary
    validation objective, then the seed points not among them; none when ``top_k`` is 0."""
    if settings.final.top_k == 0:
        return []
    ranked = leaderboard(records, objectives)
    best: dict[Genotype, TrialRecord] = {}
    for record in ranked:  # best first: the first record of a genotype is its best
        best.setdefault(record.candidate.genotype, record)
    points: dict[Genotype, str] = {}
    for name, genotype in seed_point_genotypes(file, settings):
        points.setdefault(genotype, name)
    chosen = list(best)[: settings.final.top_k]
    chosen += [genotype for genotype in points if genotype not in chosen]
    entries = []
    for genotype in chosen:
        found = best.get(genotype)
        trial, value = (None, None) if found is None else (found.candidate.trial, found.result.values[0])
        entries.append(Entry(genotype, trial, value, points.get(genotype)))
    return entries


def run_training(file: SearchFile, genotype: Genotype) -> dict[str, Any]:
    """The training settings of a final run of ``genotype``: the full budget, then its own genes."""
    return candidate_training(file.training, file.space, genotype).model_dump(mode="json")


def read_final(run_dir: Path) -> list[FinalRun]:
    """The final runs logged in ``run_dir`` (none before the final stage started)."""
    if not (run_dir / FINAL).is_file():
        return []
    try:
        return [FinalRun.from_json(line) for line in read_trials(run_dir, FINAL)]
    except (KeyError, TypeError, ValueError) as exc:
        raise GnasError(f"{run_dir / FINAL}: not a final-stage log ({type(exc).__name__}: {exc})") from None


def standings(
    entries: Sequence[Entry],
    runs: Sequence[FinalRun],
    file: SearchFile,
    settings: SearchSettings,
    objectives: Objectives,
) -> list[Standing]:
    """Every entry with its logged runs, best mean first (complete entries before incomplete ones);
    a run logged with other training settings (a forced resume) does not count."""
    seeds = final_seeds(file, settings)
    by_key = {run.key: run for run in runs}
    table = []
    for entry in entries:
        training = run_training(file, entry.genotype)
        found = [by_key.get(_key(entry.genotype, seed, training)) for seed in seeds]
        table.append(Standing(entry, tuple(run for run in found if run is not None), seeds, objectives))
    return sorted(table, key=Standing.sort_key)


def winner(table: Sequence[Standing]) -> Standing | None:
    """The complete entry with the best mean (``table`` as :func:`standings` orders it)."""
    return next((standing for standing in table if standing.complete), None)


def run_final_stage(
    entries: Sequence[Entry],
    executor: Executor,
    file: SearchFile,
    settings: SearchSettings,
    run_dir: Path,
    *,
    started: float,
    on_run: OnRun | None = None,
) -> list[FinalRun]:
    """Train every (entry, seed) run not in ``final.jsonl`` yet on ``executor``, ``slots`` at a time,
    appending each to the log as it finishes; return every logged run. ``started`` is the search's
    ``time.monotonic()`` origin (for ``logged_at``)."""
    if (run_dir / FINAL).is_file():
        repair_trials(run_dir, FINAL)  # a line cut short by a kill: that run trains again
    done = read_final(run_dir)
    known = {run.key for run in done}
    todo: deque[Candidate] = deque()
    trainings: dict[Genotype, dict[str, Any]] = {}
    for entry in entries:
        trainings[entry.genotype] = run_training(file, entry.genotype)
        for seed in final_seeds(file, settings):
            if _key(entry.genotype, seed, trainings[entry.genotype]) not in known:
                number = len(done) + len(todo)
                todo.append(Candidate(number, entry.genotype, origin=entry.label, stage="final", seed=seed))
    total = len(entries) * settings.final.seeds
    log = RunLog(run_dir, FINAL)
    in_flight = 0
    try:
        while todo or in_flight:
            while todo and in_flight < executor.slots:
                executor.submit(todo.popleft())
                in_flight += 1
            candidate, result = executor.next_result()
            in_flight -= 1
            arch = architecture_mapping(decode(file.space, candidate.genotype))
            record = TrialRecord(candidate, result, arch, None, round(time.monotonic() - started, 3))
            run = FinalRun(record, trainings[candidate.genotype])
            log.append(record, training=run.training)
            done.append(run)
            if on_run is not None:
                on_run(run, total - len(todo) - in_flight, total)
    finally:
        log.close()
    return done


def _usable(result: TrialResult) -> bool:
    return result.status == "ok" and bool(result.values) and math.isfinite(result.values[0])


def _key(genotype: Genotype, seed: int | None, training: dict[str, Any]) -> tuple[Genotype, int | None, str]:
    return (tuple(genotype), seed, repr(sorted(training.items())))

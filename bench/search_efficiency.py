"""Benchmark: evolution, TPE and random search at equal trial budgets on ml-latest-small.

For each controller and seed, runs a search over bench/spaces/quickstart504.yaml (training shortened by
--epochs) and records the best validation NDCG@20 after n trials. Prints the mean over seeds per n,
and how many trials evolution and TPE need to reach random's final best. With matplotlib installed
(`pip install -e '.[bench]'`), also writes the curves to --plot.

With --table (a CSV from bench/search_table.py holding every architecture of the space trained once),
the controllers are replayed against those measured results instead of training: the same
controllers, budgets and dedup, at a cost that allows many seeds.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/search_efficiency.py [--trials 16] [--seeds 3]
       python bench/search_efficiency.py --table bench/results/quickstart-e5.csv --trials 40 --seeds 20
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import tempfile
from collections import deque
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_table import read_table  # noqa: E402

from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.registry import build_controller
from gnas.search.driver import drive
from gnas.search.objectives import Objectives
from gnas.search.run import search
from gnas.search.settings import SearchSettings
from gnas.space import Genotype, load_search_file

CONTROLLERS = ("evolution", "regularized", "optuna", "random")
Table = dict[Genotype, dict[str, str]]
METRIC = "ndcg@20"


def settings_for(controller: str, trials: int, population: int | None) -> SearchSettings:
    """The controllers' default settings (evolution's population unless given), no seed points."""
    evolution: dict[str, object] = {"seed_points": []}
    if population is not None:
        evolution["population"] = population
    return SearchSettings.model_validate(
        {
            "controller": controller,
            "max_trials": trials,
            "objectives": [{"metric": METRIC}],
            "evolution": evolution,
        }
    )


def curve_of(results: list[TrialResult], trials: int) -> list[float]:
    """Best value after each trained trial (duplicates told a cached result do not count)."""
    curve, best = [], float("-inf")
    for result in results:
        if result.status == "ok":
            best = max(best, result.metrics[METRIC])
        curve.append(best)
    return curve + [best] * (trials - len(curve))


def best_so_far(
    controller: str, seed: int, trials: int, epochs: int, space: Path, out: Path, population: int | None
) -> list[float]:
    file = load_search_file(space)
    file = dataclasses.replace(file, training=file.training.model_copy(update={"max_epochs": epochs}))
    settings = settings_for(controller, trials, population)
    outcome = search(file, settings, out=out, name=f"{controller}-{seed}", seed=seed, device="cpu")
    return curve_of([r.result for r in outcome.records if r.cached_from is None], trials)


class TableExecutor:
    """An executor whose trials look their results up in a table of measured results."""

    slots = 1

    def __init__(self, table: Table, objectives: Objectives) -> None:
        self.table, self.objectives, self.queue = table, objectives, deque[Candidate]()

    def submit(self, candidate: Candidate) -> None:
        self.queue.append(candidate)

    def next_result(self) -> tuple[Candidate, TrialResult]:
        candidate = self.queue.popleft()
        row = self.table[candidate.genotype]
        if row["status"] != "ok":
            return candidate, TrialResult("failed", error=row["status"])
        metrics = {name: float(row[name]) for name in (METRIC, "recall@20", "params")}
        return candidate, TrialResult("ok", metrics, self.objectives.values(metrics))

    def shutdown(self) -> None:
        self.queue.clear()


def replayed(
    controller: str,
    seed: int,
    trials: int,
    space: Path,
    table: dict[Genotype, dict[str, str]],
    population: int | None,
) -> list[float]:
    file = load_search_file(space)
    settings = settings_for(controller, trials, population)
    objectives = Objectives.from_specs(settings.objectives)
    search_controller = build_controller(settings, file.space, objectives, seed, Budget(), None)
    results: list[TrialResult] = []
    drive(
        search_controller,
        TableExecutor(table, objectives),
        max_trials=trials,
        on_result=lambda c, r, source: results.append(r) if source is None else None,
    )
    return curve_of(results, trials)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="max_epochs per trial")
    parser.add_argument("--space", type=Path, default=Path("bench/spaces/quickstart504.yaml"))
    parser.add_argument(
        "--population", type=int, default=None, help="evolution's population (default: its own)"
    )
    parser.add_argument("--plot", type=Path, default=Path("bench/search_efficiency.png"))
    parser.add_argument(
        "--table", type=Path, default=None, help="replay against this table (search_table.py)"
    )
    args = parser.parse_args()
    table = read_table(args.table) if args.table else None
    print(
        f"{date.today()} {platform.node()} {platform.machine()} trials={args.trials} seeds={args.seeds} "
        f"space={args.space} "
        + (f"table={args.table} ({len(table)} rows)" if table else f"epochs={args.epochs}")
    )
    curves: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as out:
        for controller in CONTROLLERS:
            runs = [
                replayed(controller, seed, args.trials, args.space, table, args.population)
                if table
                else best_so_far(
                    controller, seed, args.trials, args.epochs, args.space, Path(out), args.population
                )
                for seed in range(args.seeds)
            ]
            curves[controller] = np.mean(runs, axis=0)
            finals = ", ".join(f"{run[-1]:.4f}" for run in runs)
            print(f"{controller}: final best per seed {finals}", flush=True)

    print(f"\nmean best validation {METRIC} after n trials")
    print("n".rjust(4) + "".join(c.rjust(12) for c in CONTROLLERS))
    for n in range(args.trials):
        print(f"{n + 1:4d}" + "".join(f"{curves[c][n]:12.4f}" for c in CONTROLLERS))
    target = curves["random"][-1]
    for controller in (c for c in CONTROLLERS if c != "random"):
        reached = np.flatnonzero(curves[controller] >= target)
        when = f"{reached[0] + 1} trials" if len(reached) else "not within the budget"
        print(
            f"{controller} reaches random's final mean best {target:.4f} after {when} (random: {args.trials})"
        )

    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for controller, curve in curves.items():
        ax.plot(range(1, args.trials + 1), curve, label=controller)
    ax.axhline(target, color="grey", linestyle=":", label="random's final best")
    ax.axvline(args.trials / 2, color="grey", linestyle="--", label="half the trials")
    ax.set_title(f"{args.space.stem}, {args.seeds} seeds", fontsize=10)
    ax.set_xlabel("trials")
    ax.set_ylabel(f"best validation {METRIC} (mean of {args.seeds} seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()

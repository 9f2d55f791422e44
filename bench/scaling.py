"""Benchmark: trials per hour on Ray workers with 1 and 2 workers, and the per-trial overhead.

A fixed list of 8 candidates of bench/spaces/quickstart504.yaml (sampled once, seeded) trains on
ml-latest-small with a short budget (--epochs) through the search loop (``drive``) and the Ray
executor, once with ``max_concurrent: 1`` and once with 2 (one CPU and one torch thread per
trial). Trials per hour count from the first submission to the last result (Ray's start-up is
reported apart); the overhead per trial is submit -> start in the worker and finish in the worker ->
handed to the loop.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/scaling.py [--epochs 3] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from gnas.execution.ray import RayExecutor
from gnas.execution.settings import WorkerSettings
from gnas.search.candidate import Budget
from gnas.search.controllers.fixed import FixedListController
from gnas.search.driver import drive
from gnas.search.executors import place_context
from gnas.search.objectives import Objectives
from gnas.search.run import SearchData, for_objectives
from gnas.search.trial import TrialContext, run_trial
from gnas.space import decode as decode_genotype
from gnas.space import load_search_file, sample_distinct, summarize

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()

    file = load_search_file(ROOT / "bench" / "spaces" / "quickstart504.yaml")
    objectives = Objectives.from_specs(file.search.objectives)
    file = for_objectives(file, objectives, file.seed)
    data = SearchData.load(file, args.data_dir, "cpu", executor="ray")
    context = TrialContext(file.space, objectives, data.graph, data.valid, file.training, file.seed)
    genotypes = sample_distinct(file.space, 2020, args.candidates)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    for trial, genotype in enumerate(genotypes):
        print(f"  trial {trial}: {summarize(decode_genotype(file.space, genotype))}")

    rates: dict[int, float] = {}
    for workers in args.workers:
        settings = WorkerSettings(cpus_per_trial=1, gpus_per_trial=0, max_concurrent=workers)
        started = time.monotonic()
        executor = RayExecutor(context, run_trial, place_context, settings, device="cpu")
        startup = time.monotonic() - started
        controller = FixedListController(file.space, objectives, genotypes, Budget(epochs=args.epochs))
        try:
            began = time.monotonic()
            drive(controller, executor)
            wall = time.monotonic() - began
        finally:
            executor.shutdown()
        failed = [t for t, r in controller.told.items() if r.status != "ok"]
        start_gap = [t.started - t.submitted for t in executor.timings]
        tell_gap = [t.returned - t.finished for t in executor.timings]
        busy = sum(t.finished - t.started for t in executor.timings)
        rates[workers] = len(genotypes) / wall * 3600
        print(
            f"{workers} worker(s): {wall:.1f} s for {len(genotypes)} trials = {rates[workers]:.0f} trials/h "
            f"(Ray start {startup:.1f} s; trial time in workers {busy:.1f} s; failed {failed}); "
            f"submit->start mean {statistics.mean(start_gap):.3f} s max {max(start_gap):.3f} s; "
            f"finish->told mean {statistics.mean(tell_gap):.3f} s max {max(tell_gap):.3f} s; "
            f"load {os.getloadavg()[0]:.2f}"
        )
    if 1 in rates and len(rates) > 1:
        best = max(rates)
        print(f"speed-up {best} vs 1 worker: {rates[best] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()

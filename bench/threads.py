"""Benchmark: torch's default threads against gnas's thread policy (gnas/threads.py), idle and busy.

Three parts, each run in fresh ``gnas`` processes so that OpenMP starts with the variables under test:

- train: ``search_spaces/lightgcn.yaml`` for exactly 20 epochs (patience above 20) on ml-latest-small,
  ``train_seconds`` from metrics.json, with the machine otherwise idle and beside one busy process
  (``python3 -c "while True: pass"``), for today's default (``GNAS_THREADS=off``: torch's threads,
  OpenMP's own wait policy) and the policy (auto), side by side; ratios busy/idle and policy/today.
- search: a 2-worker Ray search (cpus_per_trial 1, a small space, short trials, no final stage):
  trials per hour from the last trial's ``logged_at``, idle and busy, today and the policy.
- crossover (``--crossover``): seconds per LightGCN epoch with 1 and 2 threads on random graphs of
  growing size, which sets ``gnas.threads.SMALL_WORK``.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/threads.py [--parts train search] [--repeats 1]
       python bench/threads.py --crossover
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GNAS = str(Path(sys.executable).with_name("gnas"))  # the venv's entry point
VARIANTS = {"today": {"GNAS_THREADS": "off"}, "policy": {}}
_CLEARED = ("GNAS_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "KMP_BLOCKTIME")


@contextmanager
def load(busy: bool) -> Iterator[None]:
    """One process spinning on one core while the block runs (nothing when ``busy`` is False)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        time.sleep(0.5 if busy else 0.0)  # let it take its core before the run decides its threads
        yield
    finally:
        if spinner is not None:
            spinner.kill()
            spinner.wait()


def run_gnas(args: list[str], variant: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(VARIANTS[variant])
    done = subprocess.run([GNAS, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"gnas {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")


def train_seconds(folder: Path, variant: str, tag: str) -> tuple[float, dict]:
    """The 20-epoch LightGCN's train_seconds and the threads its config.yaml recorded."""
    spec = yaml.safe_load((ROOT / "search_spaces/lightgcn.yaml").read_text())
    spec["training"].update(max_epochs=20, patience=100)
    path = folder / "lightgcn20.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    run_gnas(["train", str(path), "--device", "cpu", "--out", str(folder), "--name", tag], variant)
    metrics = json.loads((folder / tag / "metrics.json").read_text())
    config = yaml.safe_load((folder / tag / "config.yaml").read_text())
    return float(metrics["train_seconds"]), config.get("threads", {})


def trials_per_hour(folder: Path, variant: str, tag: str, trials: int) -> tuple[float, dict]:
    """A 2-worker search's trials per hour (search seconds at its last logged trial)."""
    spec = yaml.safe_load((ROOT / "bench/spaces/quickstart504.yaml").read_text())
    spec["training"].update(max_epochs=5, patience=5)
    spec["space"]["layers"]["conv"] = ["lightgcn", "gcn"]
    spec["space"]["layers"].pop("heads", None)
    spec["search"].update(max_trials=trials, time_budget="20m", final={"top_k": 0}, baselines=[])
    spec["search"].pop("trial_budget", None)  # every trial trains the 5 epochs above
    spec["workers"] = {"cpus_per_trial": 1, "max_concurrent": 2}
    path = folder / "search.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    run_gnas(
        ["search", str(path), "--device", "cpu", "--executor", "ray", "--out", str(folder), "--name", tag],
        variant,
    )
    lines = (folder / tag / "trials.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    last = max(record["logged_at"] for record in records)
    spec_file = yaml.safe_load((folder / tag / "spec.yaml").read_text())
    return len(records) / last * 3600, spec_file.get("threads", {})


def measure(part: str, repeats: int, trials: int) -> dict[tuple[str, str], list[float]]:
    """Every (condition, variant) of one part, interleaved so slow drift hits both variants alike."""
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="gnas-bench-threads-") as tmp:
        for repeat in range(repeats):
            for condition in ("idle", "busy"):
                with load(condition == "busy"):
                    for variant in VARIANTS:
                        tag = f"{part}-{condition}-{variant}-{repeat}"
                        if part == "train":
                            value, threads = train_seconds(Path(tmp), variant, tag)
                        else:
                            value, threads = trials_per_hour(Path(tmp), variant, tag, trials)
                        results.setdefault((condition, variant), []).append(value)
                        shown = f"{threads.get('intra_op')} threads ({threads.get('reason', '')})"
                        print(f"  {tag}: {value:.1f}  [{shown}]", flush=True)
    return results


def report(part: str, results: dict[tuple[str, str], list[float]]) -> None:
    """A table of medians and the ratios the issue's targets are stated in."""
    unit = "train_seconds" if part == "train" else "trials/hour"
    median = {key: sorted(values)[len(values) // 2] for key, values in results.items()}
    print(f"\n{part}: median {unit} ({len(next(iter(results.values())))} run(s) each)")
    print("| variant | idle | busy | busy / idle |\n|---|---|---|---|")
    for variant in VARIANTS:
        idle, busy = median[("idle", variant)], median[("busy", variant)]
        ratio = busy / idle if part == "train" else idle / busy  # both read as "times slower when busy"
        print(f"| {variant} | {idle:.1f} | {busy:.1f} | {ratio:.2f}x slower |")
    for condition in ("idle", "busy"):
        today, policy = median[(condition, "today")], median[(condition, "policy")]
        ratio = policy / today if part == "train" else today / policy
        print(f"{condition}: policy takes {ratio:.2f}x today's time")


def crossover(sizes: list[int], epochs: int) -> None:
    """Seconds per LightGCN epoch with 1 and 2 threads on random graphs of ``sizes`` interactions."""
    import numpy as np
    import torch

    from gnas.architecture import Architecture
    from gnas.data.graph import graph_from_edges
    from gnas.models.registry import build_model
    from gnas.spec import TrainingSpec
    from gnas.training.trainer import NegativeSampler, train_one_epoch

    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}")
    print("| interactions | 1 thread s/epoch | 2 threads s/epoch | 2 / 1 |\n|---|---|---|---|")
    spec = TrainingSpec()
    for size in sizes:
        rng = np.random.default_rng(0)
        users, items = max(10, size // 160), max(20, size // 10)  # ml-latest-small's shape, scaled
        graph = graph_from_edges(rng.integers(users, size=size), rng.integers(items, size=size), users, items)
        seconds = []
        for count in (1, 2):
            torch.set_num_threads(count)
            torch.manual_seed(0)
            model = build_model(Architecture(), users, items, None)
            optimizer = torch.optim.Adam(model.parameters(), lr=spec.lr)
            sampler = NegativeSampler(graph.train_user, graph.train_item, graph.num_items)
            generator = torch.Generator().manual_seed(0)
            train_one_epoch(model, graph, optimizer, sampler, spec, generator)  # warm-up
            started = time.perf_counter()
            for _ in range(epochs):
                train_one_epoch(model, graph, optimizer, sampler, spec, generator)
            seconds.append((time.perf_counter() - started) / epochs)
        print(f"| {size} | {seconds[0]:.4f} | {seconds[1]:.4f} | {seconds[1] / seconds[0]:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", choices=["train", "search"], default=["train", "search"])
    parser.add_argument("--repeats", type=int, default=1, help="runs per condition and variant")
    parser.add_argument("--trials", type=int, default=8, help="trials per search")
    parser.add_argument("--crossover", action="store_true", help="only the 1-vs-2-thread epoch crossover")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[1_000, 5_000, 10_000, 20_000, 40_000, 80_000]
    )
    args = parser.parse_args()
    load_now = os.getloadavg()
    print(
        f"{date.today()} {platform.node()} {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average at start {load_now[0]:.2f}"
    )
    if args.crossover:
        crossover(args.sizes, epochs=5)
        return
    for part in args.parts:
        print(f"{part}:", flush=True)
        report(part, measure(part, args.repeats, args.trials))


if __name__ == "__main__":
    main()

"""Benchmark: is the search worth using? Its retrained winner against random search and the LightGCN point.

On one split (the search file's, seed 2020), for each search seed and controller (round-robin: seed 0
evolution, seed 0 random, seed 1 evolution, ...) the README main job runs as a user runs it, as
subprocesses: ``gnas search FILE --controller C --seed S`` (wall time end to end: search loop, baselines
and final stage), then ``gnas train OUT/NAME/best.yaml`` (the winner retrained at the full budget). Once,
``gnas train`` of the LightGCN point (``search_spaces/lightgcn.yaml``, to convergence) and of the
strongest baselines (EASE, ItemKNN) gives the references. Selection is on validation only (the search
never loads test); test is read once per finished model, by ``gnas train``.

Each finished job is appended to ``--results`` (JSON lines, with date, machine, git commit and command);
jobs already there are skipped, so a stopped run continues and a later session can add seeds. ``--table``
prints the markdown table for BENCHMARKS.md, with whether the target is met per controller: the
winner's test NDCG@20 >= 1.05x the LightGCN point's, with the search (final stage included) <= 30 min.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/search_vs_random.py [--seeds 0 1 2]
           [--controllers evolution random] [--file F] [--out DIR] [--results FILE] [--threads N]
       python bench/search_vs_random.py --table [--file F]
Smoke only: ``--max-trials N`` (kept apart in the table), ``--no-references``, ``--executor inline``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "search_vs_random.jsonl"
REFERENCES = {name: ROOT / "search_spaces" / f"{name}.yaml" for name in ("lightgcn", "ease", "itemknn")}
TARGET_RATIO, TARGET_SECONDS = 1.05, 30 * 60


def machine() -> dict[str, Any]:
    """Where and on what code a job ran (``dirty``: tracked files other than the results differ from
    the commit)."""
    git = ["git", "-C", str(ROOT)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results"],
        capture_output=True,
    )
    return {
        "date": datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "torch": metadata.version("torch"),
        "commit": commit,
        "dirty": bool(status.stdout.strip()),
    }


def read_results(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def append(path: Path, row: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps(row, sort_keys=True) + "\n")


def gnas(args: Sequence[str], log: Path, threads: str | None) -> tuple[list[str], float]:
    """Run ``gnas ARGS`` (output to ``log``); the command and its wall seconds. Raises on failure."""
    command = ["gnas", *(["--threads", threads] if threads else []), *args]
    executable = shutil.which("gnas") or str(Path(sys.executable).parent / "gnas")
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with log.open("w") as handle:
        code = subprocess.run([executable, *command[1:]], stdout=handle, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - start
    if code:
        tail = "\n".join(log.read_text().splitlines()[-15:])
        raise RuntimeError(f"{' '.join(command)} exited {code} (log {log}):\n{tail}")
    return command, seconds


def trained(out: Path, name: str, args: Sequence[str], threads: str | None) -> dict[str, Any]:
    """``gnas train ARGS --name NAME --out OUT``: its valid and test figures (test read once, here)."""
    shutil.rmtree(out / name, ignore_errors=True)  # a stopped earlier attempt: start it again
    command, seconds = gnas(
        ["train", *args, "--name", name, "--out", str(out)], out / "logs" / f"{name}.log", threads
    )
    metrics = json.loads((out / name / "metrics.json").read_text())
    figures = {
        f"{part}_{m}": metrics[part][m] for part in ("valid", "test") for m in ("ndcg@20", "recall@20")
    }
    return {
        **figures,
        "train_seconds": metrics["train_seconds"],
        "train_wall_seconds": seconds,
        "train_command": command,
    }


def winner_line(best: dict[str, Any]) -> str:
    """The winner in one line: its architecture, then the training genes it chose (lr, loss, ...)."""
    from gnas.architecture import Architecture
    from gnas.space import summarize

    budget = {"max_epochs", "patience", "metric", "ks", "time_budget"}
    genes = [f"{key}={value}" for key, value in best["training"].items() if key not in budget]
    return "; ".join([summarize(Architecture.model_validate(best["architecture"])), *genes])


def search_job(args: argparse.Namespace, controller: str, seed: int) -> dict[str, Any]:
    """One search (timed end to end) and the retrain of its best.yaml, as a results row."""
    name = f"{args.file.stem}-{controller}-s{seed}"
    run = args.out / name
    shutil.rmtree(run, ignore_errors=True)  # a stopped earlier attempt: its timing would be wrong
    flags = ["--controller", controller, "--seed", str(seed), "--name", name, "--out", str(args.out)]
    flags += ["--max-trials", str(args.max_trials)] if args.max_trials else []
    flags += ["--executor", args.executor] if args.executor else []
    command, seconds = gnas(
        ["search", str(args.file), *flags], args.out / "logs" / f"{name}.log", args.threads
    )
    trials = read_results(run / "trials.jsonl")
    best = yaml.safe_load((run / "best.yaml").read_text())
    result = best.get("search_result", {})
    final = result.get("final") or {}  # empty: no final stage, the screening best won
    return {
        "search_seconds": seconds,
        "search_command": command,
        "trials": len(trials),
        "trials_trained": sum(t.get("cached_from") is None for t in trials),
        "trials_ok": sum(t.get("status") == "ok" for t in trials),
        "winner_trial": result.get("trial"),
        "winner_stage": result.get("stage"),
        "final_valid_mean": final.get("mean"),
        "final_valid_sd": final.get("sd"),
        "final_seeds": final.get("seeds"),
        "winner": winner_line(best),
        **trained(args.out, f"{name}-best", [str(run / "best.yaml")], args.threads),
    }


def check_split(file: Path) -> None:
    """Refuse references whose data set or split differ from the search file's."""
    from gnas.space import load_search_file
    from gnas.spec import load_train_spec

    search = load_search_file(file)
    for path in REFERENCES.values():
        ref = load_train_spec(path)
        if ref.split != search.split or ref.dataset != search.dataset:
            raise SystemExit(f"{path}: data set or split differ from {file}'s; not comparable")


def run(args: argparse.Namespace) -> None:
    done = read_results(args.results)
    keys = {row["key"] for row in done}
    jobs: list[tuple[str, dict[str, Any]]] = []
    if args.references:
        check_split(args.file)
        jobs += [(f"reference {name}", {"reference": name}) for name in REFERENCES]
    for seed in args.seeds:
        for controller in args.controllers:
            key = f"search {args.file} {controller} seed {seed} max_trials {args.max_trials}"
            jobs.append((key, {"file": str(args.file), "controller": controller, "seed": seed}))
    failed = 0
    for key, job in jobs:
        if key in keys:
            print(f"skip (in {args.results}): {key}")
            continue
        print(f"run: {key}", flush=True)
        try:
            if "reference" in job:
                path = REFERENCES[job["reference"]]
                row = trained(args.out, f"ref-{job['reference']}", [str(path)], args.threads)
            else:
                row = search_job(args, job["controller"], job["seed"])
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            failed += 1
            continue
        append(args.results, {"key": key, **job, "max_trials": args.max_trials, **row, **machine()})
        print(f"done: {key}: test ndcg@20 {row['test_ndcg@20']:.4f}", flush=True)
    if failed:
        raise SystemExit(f"{failed} job(s) failed; run again to retry them")


def mean_sd(values: Sequence[float], digits: int = 4) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {sd:.{digits}f}"


def markdown(cells: Sequence[object]) -> None:
    print("| " + " | ".join(str(cell) for cell in cells) + " |")


def table(args: argparse.Namespace) -> None:
    """The markdown table of ``args.file``'s searches (every row, winning or losing) and the references."""
    rows = read_results(args.results)
    refs = {row["reference"]: row for row in rows if "reference" in row}
    point = refs.get("lightgcn", {}).get("test_ndcg@20")
    figures = ("test_ndcg@20", "valid_ndcg@20", "test_recall@20")
    markdown(["model", "n", "test NDCG@20", "valid NDCG@20", "test Recall@20", "× LightGCN test", "minutes"])
    markdown(["---"] * 7)
    verdicts = []
    for controller in dict.fromkeys(row["controller"] for row in rows if "controller" in row):
        runs = [r for r in rows if r.get("controller") == controller and r["file"] == str(args.file)]
        runs = [r for r in runs if r["max_trials"] == args.max_trials]
        if not runs:
            continue
        tests = [r["test_ndcg@20"] for r in runs]
        minutes = [r["search_seconds"] / 60 for r in runs]
        ratio = f"{statistics.fmean(tests) / point:.3f}" if point else "n/a"
        cells = [mean_sd([r[key] for r in runs]) for key in figures]
        label = f"{controller} search winner, retrained"
        markdown([label, len(runs), *cells, ratio, f"{mean_sd(minutes, 1)} search"])
        for run in sorted(runs, key=lambda r: r["seed"]):
            each = [f"{run[key]:.4f}" for key in figures]
            ratio_each = f"{run['test_ndcg@20'] / point:.3f}" if point else "n/a"
            wall = f"{run['search_seconds'] / 60:.1f} search ({run['trials']} trials)"
            markdown([f"&nbsp;&nbsp;seed {run['seed']}: {run['winner']}", 1, *each, ratio_each, wall])
        if point is None:
            verdicts.append(f"{controller}: target unknown (no LightGCN point in {args.results})")
            continue
        need = TARGET_RATIO * point
        alone = sum(r["test_ndcg@20"] >= need and r["search_seconds"] <= TARGET_SECONDS for r in runs)
        met = statistics.fmean(tests) >= need and max(minutes) * 60 <= TARGET_SECONDS
        verdicts.append(
            f"{controller}: target {'met' if met else 'NOT met'} over n={len(runs)} seed(s): mean test "
            f"{statistics.fmean(tests):.4f} against {need:.4f} needed, slowest search {max(minutes):.1f} min "
            f"({alone}/{len(runs)} seeds meet it alone)"
        )
    for name, label in (
        ("lightgcn", "LightGCN point (64-d, 3 layers)"),
        ("ease", "EASE"),
        ("itemknn", "ItemKNN"),
    ):
        ref = refs.get(name)
        if ref is None:
            markdown([label, 0, "not run", "", "", "", ""])
            continue
        ratio = f"{ref['test_ndcg@20'] / point:.3f}" if point else "n/a"
        cells = [f"{ref[key]:.4f}" for key in figures]
        markdown([label, 1, *cells, ratio, f"{ref['train_wall_seconds'] / 60:.1f} train"])
    print(
        f"\ntarget: winner test NDCG@20 >= {TARGET_RATIO}x the LightGCN point's, search <= 30 min end to end"
    )
    for line in verdicts:
        print(f"- {line}")
    for place in sorted({f"{r['platform']}, {r['cpus']} CPUs, torch {r['torch']}" for r in rows}):
        print(f"machine: {place}")
    print(
        f"commits: {', '.join(sorted({r['commit'][:10] + ('+dirty' if r['dirty'] else '') for r in rows}))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--controllers", nargs="+", default=["evolution", "random"])
    parser.add_argument("--file", type=Path, default=Path("search_spaces/quickstart.yaml"))
    parser.add_argument("--out", type=Path, default=Path("runs/bench-search-vs-random"))
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--max-trials", type=int, help="overrides search.max_trials (smoke runs only)")
    parser.add_argument("--executor", help="passed to gnas search (default: the file's, Ray)")
    parser.add_argument("--threads", help="gnas --threads (default: gnas decides)")
    parser.add_argument(
        "--no-references", dest="references", action="store_false", help="skip LightGCN/EASE/ItemKNN"
    )
    parser.add_argument("--table", action="store_true", help="print the markdown table from --results")
    args = parser.parse_args()
    if args.table:
        table(args)
    else:
        run(args)


if __name__ == "__main__":
    main()

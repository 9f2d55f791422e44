"""Benchmark helper: train every architecture of a (small, finite) search space once and keep the
results in a CSV table, so that search controllers can be compared over many seeds by replaying
them against real, measured trial results (the tabular-benchmark approach of NAS-Bench).

Each architecture is trained exactly as a search trial would be (same split, seed and training
settings, --epochs as max_epochs) and scored on validation. The table is appended to as it goes:
run it again to continue after a stop.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/search_table.py [--epochs 10]
           [--space bench/spaces/quickstart504.yaml] [--table bench/results/quickstart-e10.csv]
           [--workers 2] [--device cuda]
       (--workers N trains N architectures at a time, one process each; on a GPU they share it)
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import json
import multiprocessing
import time
from pathlib import Path

import torch

from gnas.search.candidate import Candidate
from gnas.search.objectives import Objectives
from gnas.search.run import SearchData, for_objectives
from gnas.search.trial import TrialContext, run_trial
from gnas.space import Genotype, SearchFile, canonical, decode, load_search_file, summarize
from gnas.space.count import count_architectures

FIELDS = ("genotype", "architecture", "status", "ndcg@20", "recall@20", "params", "epochs", "seconds")


def all_genotypes(file: SearchFile) -> list[Genotype]:
    """Every canonical genotype of the space: the canonical forms of every combination of gene values
    (inactive genes included, so the cost grows with the gene count: ~25 s for gat_medium's 3,330)."""
    domains = [param.dimension.values() for param in file.space.params]
    finite = [values for values in domains if values is not None]
    if len(finite) < len(domains):
        raise SystemExit("the space is infinite: a table needs a finite space")
    found = {canonical(file.space, genes): None for genes in itertools.product(*finite)}
    if len(found) != count_architectures(file.space):
        raise RuntimeError(f"enumerated {len(found)} architectures, count_architectures says otherwise")
    return sorted(found, key=lambda genotype: json.dumps(genotype))


def table_file(space: Path, epochs: int) -> Path:
    return Path("bench/results") / f"{space.stem}-e{epochs}.csv"


def read_table(path: Path) -> dict[Genotype, dict[str, str]]:
    if not path.exists():
        return {}
    with open(path, newline="") as handle:
        return {tuple(json.loads(row["genotype"])): row for row in csv.DictReader(handle)}


def shortened(file: SearchFile, epochs: int) -> SearchFile:
    objectives = Objectives.from_specs(file.search.objectives)
    file = for_objectives(file, objectives, file.seed)
    return dataclasses.replace(file, training=file.training.model_copy(update={"max_epochs": epochs}))


_context: TrialContext | None = None


def start_worker(file: SearchFile, device: str, threads: int) -> None:
    """Load the data once per worker process, on its device."""
    global _context
    torch.set_num_threads(threads)
    data = SearchData.load(file, None, device, executor="inline")
    objectives = Objectives.from_specs(file.search.objectives)
    _context = TrialContext(file.space, objectives, data.graph, data.valid, file.training, file.seed)


def train_row(genotype: Genotype) -> dict[str, object]:
    assert _context is not None, "start_worker runs first"
    result = run_trial(_context, Candidate(0, genotype))
    return {
        "genotype": json.dumps(list(genotype)),
        "architecture": summarize(decode(_context.space, genotype)),
        "status": result.status,
        "ndcg@20": result.metrics.get("ndcg@20", ""),
        "recall@20": result.metrics.get("recall@20", ""),
        "params": result.metrics.get("params", ""),
        "epochs": result.epochs,
        "seconds": round(result.seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", type=Path, default=Path("bench/spaces/quickstart504.yaml"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--table", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=1, help="processes training at a time")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, ...: where every worker trains")
    args = parser.parse_args()
    path = args.table or table_file(args.space, args.epochs)
    path.parent.mkdir(parents=True, exist_ok=True)
    file = shortened(load_search_file(args.space), args.epochs)
    genotypes = all_genotypes(file)
    done = read_table(path)
    todo = [g for g in genotypes if g not in done]
    print(f"{len(genotypes)} architectures, {len(done)} in {path}, {len(todo)} to train", flush=True)
    started = time.monotonic()
    spawn = multiprocessing.get_context("spawn")  # CUDA cannot be shared with forked processes
    initargs = (file, args.device, args.threads)
    with (
        open(path, "a", newline="") as handle,
        spawn.Pool(args.workers, initializer=start_worker, initargs=initargs) as pool,
    ):  # on Ctrl-C the pool is terminated: the rows written stay, the rest are trained next time
        writer = csv.DictWriter(handle, FIELDS)
        if handle.tell() == 0:
            writer.writeheader()
        for index, row in enumerate(pool.imap_unordered(train_row, todo), start=1):
            writer.writerow(row)
            handle.flush()
            elapsed = (time.monotonic() - started) / 60
            value = row["ndcg@20"]
            shown = f"{row['status']} {value:.4f}" if isinstance(value, float) else str(row["status"])
            print(f"{index}/{len(todo)} {elapsed:.1f} min {shown} {row['architecture']}", flush=True)


if __name__ == "__main__":
    main()

"""Benchmark helper: train every architecture of a (small, finite) search space once and keep the
results in a CSV table, so that search controllers can be compared over many seeds by replaying
them against real, measured trial results (the tabular-benchmark approach of NAS-Bench).

Each architecture is trained exactly as a search trial would be (same split, seed and training
settings, --epochs as max_epochs) and scored on validation. The table is appended to as it goes:
run it again to continue after a stop.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/search_table.py [--epochs 10]
           [--space search_spaces/quickstart.yaml] [--table bench/results/quickstart-e10.csv]
       (one process per core: --shard 0/2 and --shard 1/2 append to the same table)
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import random
import time
from pathlib import Path

import torch

from gnas.search.base import Candidate
from gnas.search.objectives import Objectives
from gnas.search.run import SearchData, for_objectives
from gnas.search.trial import TrialContext, run_trial
from gnas.space import Genotype, SearchFile, decode, load_search_file, sample, summarize
from gnas.space.count import count_architectures

FIELDS = ("genotype", "architecture", "status", "ndcg@20", "recall@20", "params", "epochs", "seconds")


def all_genotypes(file: SearchFile, seed: int = 0) -> list[Genotype]:
    """Every canonical genotype of the space (sampled until all of them have come up)."""
    total = count_architectures(file.space)
    if not isinstance(total, int):
        raise SystemExit("the space is infinite: a table needs a finite space")
    rng, seen = random.Random(seed), dict[Genotype, None]()
    while len(seen) < total:
        seen.setdefault(sample(file.space, rng), None)
    return sorted(seen, key=lambda g: json.dumps(g))


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", type=Path, default=Path("search_spaces/quickstart.yaml"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--table", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--shard", default="0/1", help="i/n: train every n-th missing row from the i-th")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    path = args.table or table_file(args.space, args.epochs)
    path.parent.mkdir(parents=True, exist_ok=True)
    file = shortened(load_search_file(args.space), args.epochs)
    genotypes = all_genotypes(file)
    done = read_table(path)
    shard, shards = (int(part) for part in args.shard.split("/"))
    todo = [g for g in genotypes if g not in done][shard::shards]
    print(f"{len(genotypes)} architectures, {len(done)} in {path}, {len(todo)} to train", flush=True)
    data = SearchData.load(file, None, "cpu", executor="inline")
    context = TrialContext(
        file.space,
        Objectives.from_specs(file.search.objectives),
        data.graph,
        data.valid,
        file.training,
        file.seed,
    )
    started = time.monotonic()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        if not done:
            writer.writeheader()
        for index, genotype in enumerate(todo, start=1):
            result = run_trial(context, Candidate(index, genotype))
            writer.writerow(
                {
                    "genotype": json.dumps(list(genotype)),
                    "architecture": summarize(decode(file.space, genotype)),
                    "status": result.status,
                    "ndcg@20": result.metrics.get("ndcg@20", ""),
                    "recall@20": result.metrics.get("recall@20", ""),
                    "params": result.metrics.get("params", ""),
                    "epochs": result.epochs,
                    "seconds": round(result.seconds, 2),
                }
            )
            handle.flush()
            elapsed = (time.monotonic() - started) / 60
            value = result.metrics.get("ndcg@20", float("nan"))
            shown = summarize(decode(file.space, genotype))
            print(f"{index}/{len(todo)} {elapsed:.1f} min {result.status} {value:.4f} {shown}", flush=True)


if __name__ == "__main__":
    main()

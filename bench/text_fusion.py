"""Benchmark: item text fusion on LightGCN (64-d, 3 layers, ``search_spaces/lightgcn.yaml``), ml-latest-small.

Each variant is the same LightGCN with one text fusion design (``VARIANTS``), trained with ``gnas.train``
to convergence (the YAML's max_epochs, default patience) on the seed-2020 split:

- ``warm``: the YAML's random per-user 80/10/10 split; the figure is NDCG@20 over all items;
- ``cold``: ``split.method: cold_item`` (10% of the movies, with all their ratings, out of training);
  the figure is cold Recall@20 (ranked among cold items) beside popularity, from the cold-start report.

Every finished run is appended to ``--results`` (JSON lines), so variants can be run one invocation at a
time and the table printed from the file. The design is chosen on VALIDATION: the table prints only
validation figures unless ``--show-test`` names the variants whose test figures may be read (the chosen
one and the no-text LightGCN), once.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/text_fusion.py --run none gate-both --split warm cold
       GNAS_DATA_DIR=../shared/datasets python bench/text_fusion.py --table [--show-test none residual-input]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import torch

from gnas.space import summarize
from gnas.spec import TrainSpec, load_train_spec
from gnas.train import train

CONFIG = Path(__file__).resolve().parent.parent / "search_spaces" / "lightgcn.yaml"
RESULTS = Path(__file__).resolve().parent / "results" / "text_fusion.jsonl"

VARIANTS: dict[str, dict[str, Any]] = {
    "none": {"fusion": "none"},
    "gate-both": {"fusion": "both", "fusion_op": "gate"},  # the design as it stood (issue 15's row)
    "gate-input": {"fusion": "input", "fusion_op": "gate"},
    "residual-input": {"fusion": "input", "fusion_op": "residual"},
    "residual-both": {"fusion": "both", "fusion_op": "residual"},
    "residual-input-mlp": {"fusion": "input", "fusion_op": "residual", "fusion_layers": 2, "fusion_dim": 128},
    "residual-input-users": {"fusion": "input", "fusion_op": "residual", "fusion_user_profile": True},
}
COLD = {"method": "cold_item", "cold_fraction": 0.1}


def variant_spec(base: TrainSpec, variant: str, split: str) -> TrainSpec:
    """``base`` with the variant's architecture and, for ``cold``, the cold-item split."""
    arch = base.architecture.model_copy(update=VARIANTS[variant])
    spec = base.model_copy(update={"architecture": arch, "name": f"text-{variant}-{split}"})
    if split == "cold":
        spec = spec.model_copy(update={"split": spec.split.model_copy(update=COLD)})
    return spec


def run(base: TrainSpec, variant: str, split: str, data_dir: Path | None, results: Path, note: str) -> None:
    """Train one variant on one split and append its figures to ``results``."""
    spec = variant_spec(base, variant, split)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        outcome = train(spec, data_dir=data_dir, out=Path(out), device="cpu")
    row: dict[str, Any] = {
        "variant": variant,
        "split": split,
        "note": note,
        "architecture": summarize(spec.architecture),
        "best_epoch": outcome.fit.best_epoch,
        "epochs": outcome.fit.epochs_run,
        "seconds": round(time.perf_counter() - began, 1),
        "valid_ndcg@20": outcome.valid["ndcg@20"],
        "test_ndcg@20": outcome.test["ndcg@20"],
        "date": str(date.today()),
    }
    if outcome.cold_start is not None:
        for part in ("valid", "test"):
            report = outcome.cold_start[part]
            row[f"{part}_cold_recall@20"] = report["model"]["cold"]["recall@20"]
            row[f"{part}_cold_popularity_recall@20"] = report["popularity"]["cold"]["recall@20"]
            row[f"{part}_warm_ndcg@20"] = report["model"]["warm"]["ndcg@20"]
    results.parent.mkdir(parents=True, exist_ok=True)
    with results.open("a") as handle:
        handle.write(json.dumps(row) + "\n")
    shown = f"valid NDCG@20 {row['valid_ndcg@20']:.4f}"
    if split == "cold":
        shown += (
            f", valid cold Recall@20 {row['valid_cold_recall@20']:.4f} "
            f"(popularity {row['valid_cold_popularity_recall@20']:.4f})"
        )
    epochs = f"best epoch {row['best_epoch']}/{row['epochs']}"
    print(f"{variant} ({split}): {epochs}, {row['seconds']:.0f} s, {shown}")


def table(results: Path, show_test: set[str]) -> None:
    """The measured rows as Markdown: validation always, test only for the ``show_test`` variants."""
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}")
    print(
        "| variant | split | note | valid NDCG@20 | test NDCG@20 | cold Recall@20 valid / test (popularity) "
        "| best epoch / run | s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        test = f"{row['test_ndcg@20']:.4f}" if row["variant"] in show_test else "(not read)"
        cold = ""
        if "valid_cold_recall@20" in row:
            cold = f"{row['valid_cold_recall@20']:.4f} ({row['valid_cold_popularity_recall@20']:.4f})"
            if row["variant"] in show_test:
                cold += f" / {row['test_cold_recall@20']:.4f} ({row['test_cold_popularity_recall@20']:.4f})"
        cells = [row["variant"], row["split"], row["note"], f"{row['valid_ndcg@20']:.4f}", test, cold]
        cells += [f"{row['best_epoch']} / {row['epochs']}", f"{row['seconds']:.0f}"]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--run", nargs="+", choices=list(VARIANTS), default=[])
    parser.add_argument("--split", nargs="+", choices=["warm", "cold"], default=["warm"])
    parser.add_argument("--note", default="", help="a label stored with the rows (e.g. the code version)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--table", action="store_true", help="print the table of --results")
    parser.add_argument("--show-test", nargs="*", default=[], help="variants whose test figures are read")
    args = parser.parse_args()
    base = load_train_spec(args.config)
    for split in args.split:
        for variant in args.run:
            run(base, variant, split, args.data_dir, args.results, args.note)
    if args.table:
        table(args.results, set(args.show_test))


if __name__ == "__main__":
    main()

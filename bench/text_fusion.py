"""Benchmark: language-model item features fused into a graph recommender, on ml-latest-small.

One architecture (``search_spaces/gat_text.yaml``: two GAT layers) is trained twice on the same item
cold-start split (10% of the movies, with all their ratings, held out of training; half valid, half
test) and the same seed: with ``fusion: none`` and with the file's fusion. Both early-stop on
validation and score test once. Printed: warm test NDCG@20 of both (ranked among warm items; target:
fusion not worse), cold test Recall@20 (ranked among cold items) of the fused model against the
popularity baseline (target: at least 5x), and the seconds the item features took (read from the
feature cache after the first `gnas features build ml-latest-small`).

The popularity baseline breaks ties (every cold item has zero training interactions) in a seeded
random order; ``--baselines`` prints it beside the same baseline with ties broken by item index (the
evaluator's own rule, which in MovieLens ranks cold movies by id, roughly by when they entered the
catalogue), without training anything.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/text_fusion.py [--epochs 40] [--patience 5]
       GNAS_DATA_DIR=../shared/datasets python bench/text_fusion.py --baselines
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch

from gnas.data.interactions import TRAIN
from gnas.data.registry import load_dataset
from gnas.space import summarize
from gnas.spec import TrainSpec, load_train_spec
from gnas.text.build import item_features
from gnas.train import prepare_graph, train
from gnas.training.coldstart import popularity_scorer, segment_evaluators

CONFIG = Path(__file__).resolve().parent.parent / "search_spaces" / "gat_text.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--baselines", action="store_true", help="only the popularity baselines")
    args = parser.parse_args()

    spec = load_train_spec(args.config)
    if args.baselines:
        baselines(spec, args.data_dir)
        return
    training = spec.training.model_copy(update={"max_epochs": args.epochs, "patience": args.patience})
    spec = spec.model_copy(update={"training": training})
    started = time.perf_counter()
    features = item_features(load_dataset(spec.dataset, args.data_dir), spec.dataset.text)
    feature_seconds = time.perf_counter() - started
    origin = "cache" if features.cached else "encoded"
    print(f"item features {tuple(features.features.matrix.shape)} ({origin}) in {feature_seconds:.1f} s")

    plain_arch = spec.architecture.model_copy(update={"fusion": "none"})
    results = {}
    with tempfile.TemporaryDirectory() as out:
        for label, arch in (("none", plain_arch), ("fusion", spec.architecture)):
            run = spec.model_copy(update={"architecture": arch, "name": f"bench-{label}"})
            began = time.perf_counter()
            outcome = train(run, data_dir=args.data_dir, out=Path(out))
            assert outcome.cold_start is not None, "the config must use split.method: cold_item"
            results[label] = (outcome, time.perf_counter() - began)
            test = outcome.cold_start["test"]["model"]
            print(
                f"{label:>6}: best epoch {outcome.fit.best_epoch}/{outcome.fit.epochs_run} "
                f"({outcome.fit.stop_reason}), {results[label][1]:.0f} s; test warm NDCG@20 "
                f"{test['warm']['ndcg@20']:.4f}, cold Recall@20 {test['cold']['recall@20']:.4f}, "
                f"all NDCG@20 {test['all']['ndcg@20']:.4f}",
                flush=True,
            )
    none_test = results["none"][0].cold_start["test"]  # type: ignore[index]
    fused_test = results["fusion"][0].cold_start["test"]  # type: ignore[index]
    machine = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}"
    )
    print(f"\ndate {date.today()}, {machine}")
    print(f"architecture: {summarize(spec.architecture)}")
    print("| test | fusion: none | fusion | popularity |")
    print("| --- | --- | --- | --- |")
    rows = (("warm", "ndcg@20", "NDCG@20"), ("cold", "recall@20", "Recall@20"), ("all", "ndcg@20", "NDCG@20"))
    for segment, key, shown in rows:
        values = [none_test["model"], fused_test["model"], fused_test["popularity"]]
        print(f"| {segment} items {shown} | " + " | ".join(f"{v[segment][key]:.4f}" for v in values) + " |")
    warm_none, warm_fused = none_test["model"]["warm"]["ndcg@20"], fused_test["model"]["warm"]["ndcg@20"]
    cold_fused, cold_pop = (
        fused_test["model"]["cold"]["recall@20"],
        fused_test["popularity"]["cold"]["recall@20"],
    )
    ratio = cold_fused / cold_pop if cold_pop > 0 else float("inf")
    verdict = "not worse" if warm_fused >= warm_none else "WORSE"
    print(f"warm: fusion {verdict} ({warm_fused - warm_none:+.4f}); cold: fusion / popularity = {ratio:.1f}x")


def baselines(spec: TrainSpec, data_dir: Path | None) -> None:
    """Test popularity Recall@20 / NDCG@20 per segment: ties at random (the report's) and by item index."""
    split, _ = prepare_graph(spec.dataset, spec.split, data_dir)
    cpu = torch.device("cpu")
    _, items = split.edges(TRAIN)
    counts = torch.from_numpy(np.bincount(items, minlength=split.interactions.num_items).astype(np.float64))
    scorers = {
        "random ties": popularity_scorer(split, cpu),
        "index ties": lambda u: counts.expand(len(u), -1),
    }
    print(f"{len(split.cold_items)} cold items; split sizes {split.sizes()}")
    for segment, evaluator in segment_evaluators(split, "test", spec.training, cpu).items():
        for label, scorer in scorers.items():
            m = evaluator.evaluate(scorer)
            shown = f"Recall@20 {m['recall@20']:.4f}, NDCG@20 {m['ndcg@20']:.4f}"
            print(f"test {segment:>4} popularity ({label}): {shown}")


if __name__ == "__main__":
    main()

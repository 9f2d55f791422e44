"""Benchmark: the memory check's estimate against the measured peak of one training epoch.

For a few architectures (the plain LightGCN point and text-fusing variants) on ml-latest-small,
each in a fresh process: the resident memory one epoch of training adds on top of the loaded graph,
model and text features (peak RSS sampled every 5 ms), beside what ``gnas.models.cost.estimate``
predicts for it (activations, gradients and Adam's two moments). Text features are random 384-d rows
(the width of all-MiniLM-L6-v2; their values do not change the memory). One CPU thread.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/memory_estimate.py
"""

from __future__ import annotations

import gc
import json
import platform
import subprocess
import sys
from datetime import date
from pathlib import Path

import torch
from trainer import peak_rss_during

from gnas.architecture import Architecture
from gnas.models.cost import GraphSize, estimate
from gnas.models.registry import build_model
from gnas.space import load_search_file
from gnas.text.features import ItemFeatures
from gnas.train import prepare_graph
from gnas.training.sampling import NegativeSampler
from gnas.training.trainer import train_one_epoch

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURES = [
    {},
    {"fusion": "input", "fusion_op": "add"},
    {"fusion": "both", "fusion_op": "gate"},
    {"fusion": "output", "fusion_op": "attention", "fusion_layers": 2},
    {"fusion": "both", "fusion_op": "gate", "fusion_user_profile": True},
    {
        "fusion": "both",
        "fusion_op": "concat",
        "fusion_user_profile": True,
        "fusion_layers": 2,
        "fusion_dim": 128,
    },
]
TEXT_DIM = 384


def measure(fields: dict[str, object]) -> tuple[float, float]:
    """(measured MiB, estimated MiB) of one epoch of ``Architecture(**fields)``."""
    torch.set_num_threads(1)
    file = load_search_file(ROOT / "search_spaces/quickstart.yaml")
    _, graph = prepare_graph(file.dataset, file.split)
    arch = Architecture(**fields)
    fuses = arch.canonical().fusion != "none"
    text = ItemFeatures(torch.randn(graph.num_items, TEXT_DIM), torch.ones(graph.num_items, dtype=torch.bool))
    text = text if fuses else None
    model = build_model(arch, graph.num_users, graph.num_items, text)
    optimizer = torch.optim.Adam(model.parameters())
    sampler = NegativeSampler(graph.train_user, graph.train_item, graph.num_items)
    generator = torch.Generator().manual_seed(0)
    gc.collect()
    _, _, peak = peak_rss_during(
        lambda: train_one_epoch(model, graph, optimizer, sampler, file.training, generator)
    )
    cost = estimate(arch, GraphSize.of(graph, text), file.training.batch_size)
    return peak, (cost.activation_bytes + 12 * cost.parameters) / 2**20


def main() -> None:
    if len(sys.argv) == 2:  # a child: one architecture
        print(json.dumps(measure(json.loads(sys.argv[1]))))
        return
    print(f"{date.today()} {platform.node()} {platform.machine()} ml-latest-small, one epoch, 1 thread")
    print(f"{'architecture':70s} {'measured':>9s} {'estimate':>9s} {'ratio':>6s}")
    for fields in ARCHITECTURES:
        child = [sys.executable, __file__, json.dumps(fields)]
        measured, estimated = json.loads(
            subprocess.run(child, capture_output=True, check=True, text=True).stdout
        )
        name = ", ".join(f"{k}={v}" for k, v in fields.items()) or "LightGCN point (no text)"
        print(f"{name:70s} {measured:7.0f} MiB {estimated:5.0f} MiB {estimated / measured:6.2f}")


if __name__ == "__main__":
    main()

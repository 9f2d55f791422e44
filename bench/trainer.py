"""Benchmark: gnas's LightGCN trainer against a straightforward PyG reference loop.

ml-latest-small (default): both train a 64-d, 3-layer LightGCN on the same split and are scored by
the same full-ranking evaluator. Prints the reference's best validation NDCG@20 and when it got
there, when gnas first reached that value, the speed-up, and both test NDCG@20 / Recall@20 (each
model scored once on test, with its best-validation weights).

--dataset gowalla: seconds per epoch for both, and seconds and peak memory of one full-ranking
evaluation of every Gowalla user.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/trainer.py [--dataset gowalla]
"""

from __future__ import annotations

import argparse
import os
import platform
import threading
import time
from datetime import date

import torch
from torch_geometric.nn.models import LightGCN as PygLightGCN

from gnas.architecture import Architecture
from gnas.data.graph import TrainGraph
from gnas.models.registry import build_model
from gnas.spec import DatasetSpec, SplitSpec, TrainingSpec, TrainSpec
from gnas.train import evaluators, prepare_graph
from gnas.training.metrics import RankingEvaluator
from gnas.training.trainer import evaluate, fit

METRIC = "ndcg@20"


class Reference:
    """PyG's LightGCN with a cached normalised adjacency: full propagation per mini-batch of 2048,
    uniform negatives, Adam lr 1e-3, L2 1e-4 (PyG's BPR loss), evaluation every epoch."""

    def __init__(self, graph: TrainGraph, seed: int) -> None:
        torch.manual_seed(seed)
        self.graph = graph
        self.model = PygLightGCN(graph.num_nodes, embedding_dim=64, num_layers=3, normalize=False)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.generator = torch.Generator().manual_seed(seed)

    def train_epoch(self, batch_size: int = 2048, max_batches: int | None = None) -> None:
        g = self.graph
        order = torch.randperm(len(g.train_user), generator=self.generator)
        for b, start in enumerate(range(0, len(order), batch_size)):
            if max_batches is not None and b >= max_batches:
                break
            batch = order[start : start + batch_size]
            users = g.train_user[batch]
            pos = g.train_item[batch] + g.num_users
            neg = torch.randint(g.num_items, users.shape, generator=self.generator) + g.num_users
            emb = self.model.get_embedding(g.norm_adj)
            pos_rank = (emb[users] * emb[pos]).sum(-1)
            neg_rank = (emb[users] * emb[neg]).sum(-1)
            node_id = torch.cat([users, pos, neg])
            loss = self.model.recommendation_loss(pos_rank, neg_rank, node_id=node_id, lambda_reg=1e-4)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    def scorer(self):  # noqa: ANN201
        with torch.no_grad():
            emb = self.model.get_embedding(self.graph.norm_adj)
        users, items = emb[: self.graph.num_users], emb[self.graph.num_users :]
        return lambda u: users[u] @ items.T

    def fit(self, valid: RankingEvaluator, max_epochs: int = 300, patience: int = 30):  # noqa: ANN201
        best, best_at, best_state, stale, history = -1.0, 0.0, None, 0, []
        started = time.perf_counter()
        for epoch in range(1, max_epochs + 1):
            self.train_epoch()
            value = valid.evaluate(self.scorer())[METRIC]
            elapsed = time.perf_counter() - started
            history.append((epoch, elapsed, value))
            if value > best:
                best, best_at, stale = value, elapsed, 0
                best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
            else:
                stale += 1
                if stale >= patience:
                    break
        assert best_state is not None
        self.model.load_state_dict(best_state)
        return best, best_at, history


def peak_rss_during(fn):  # noqa: ANN001, ANN201
    """Run fn() and return (result, seconds, peak resident memory in MiB above the start)."""

    def rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    base, peak, done = rss(), [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)

    thread = threading.Thread(target=watch)
    thread.start()
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    done.set()
    thread.join()
    return result, seconds, max(peak[0] - base, 0) / 2**20


def bench_movielens(seed: int) -> None:
    spec = TrainSpec(seed=seed, split=SplitSpec(seed=seed))
    split, graph = prepare_graph(spec.dataset, spec.split)
    valid, test = evaluators(split, spec.training, torch.device("cpu"))

    ref = Reference(graph, seed)
    ref_best, ref_at, ref_history = ref.fit(valid)
    ref_test = test.evaluate(ref.scorer())
    print(f"reference: best valid {METRIC} {ref_best:.4f} at {ref_at:.1f}s (epoch {len(ref_history)} run)")

    torch.manual_seed(seed)
    model = build_model(Architecture(), graph.num_users, graph.num_items)
    result = fit(model, graph, valid, spec.training, seed=seed)
    reached = next((log for log in result.history if log.valid and log.valid[METRIC] >= ref_best), None)
    gnas_test = evaluate(model, graph, test)
    print(
        f"gnas: best valid {METRIC} {result.best_valid[METRIC]:.4f} (epoch {result.best_epoch}, "
        f"{result.seconds:.1f}s in all, {result.stop_reason})"
    )
    if reached is None:
        print(f"gnas never reached the reference's best valid {METRIC}")
    else:
        print(
            f"gnas reached {ref_best:.4f} at {reached.seconds:.1f}s (epoch {reached.epoch}): "
            f"{ref_at / reached.seconds:.1f}x sooner"
        )
    for who, scores in (("reference", ref_test), ("gnas", gnas_test)):
        print(f"{who} test: ndcg@20 {scores['ndcg@20']:.4f} recall@20 {scores['recall@20']:.4f}")


def bench_gowalla(seed: int) -> None:
    spec = TrainSpec(
        seed=seed,
        dataset=DatasetSpec(name="gowalla"),
        split=SplitSpec(method="fixed", seed=seed),
        training=TrainingSpec(max_epochs=1, patience=1),
    )
    started = time.perf_counter()
    split, graph = prepare_graph(spec.dataset, spec.split)
    print(f"load + split + graph: {time.perf_counter() - started:.1f}s")
    valid, test = evaluators(split, spec.training, torch.device("cpu"))

    ref = Reference(graph, seed)
    batches = 50
    started = time.perf_counter()
    ref.train_epoch(max_batches=batches)
    per_batch = (time.perf_counter() - started) / batches
    full = -(-len(graph.train_user) // 2048)
    print(f"reference: {per_batch * full:.1f}s per epoch ({full} batches of 2048, timed over {batches})")

    torch.manual_seed(seed)
    model = build_model(Architecture(), graph.num_users, graph.num_items)
    result = fit(model, graph, valid, spec.training, seed=seed)
    epoch_seconds = result.history[0].seconds
    print(
        f"gnas: {epoch_seconds:.1f}s for one epoch incl. one validation pass "
        f"(batch {spec.training.batch_size})"
    )

    scores, seconds, peak = peak_rss_during(lambda: evaluate(model, graph, test))
    print(
        f"full-ranking test evaluation of {int(scores['users'])} users x {graph.num_items} items: "
        f"{seconds:.1f}s, peak +{peak:.0f} MiB RSS (eval batch {spec.training.eval_batch_size})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", choices=["ml-latest-small", "gowalla"], default="ml-latest-small")
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()
    print(
        f"{date.today()} {platform.node()} {platform.processor() or platform.machine()} "
        f"torch {torch.__version__} threads {torch.get_num_threads()}"
    )
    if args.dataset == "gowalla":
        bench_gowalla(args.seed)
    else:
        bench_movielens(args.seed)


if __name__ == "__main__":
    main()

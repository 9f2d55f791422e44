"""Benchmark: evolution, TPE and random search at equal trial budgets on ml-latest-small.

For each controller and seed, runs a search over search_spaces/quickstart.yaml (training shortened by
--epochs) and records the best validation NDCG@20 after n trials. Prints the mean over seeds per n,
and how many trials evolution and TPE need to reach random's final best. With matplotlib installed
(`pip install -e '.[bench]'`), also writes the curves to --plot.

Usage: GNAS_DATA_DIR=../shared/datasets python bench/search_efficiency.py [--trials 16] [--seeds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

from gnas.search.run import search
from gnas.search.settings import SearchSettings
from gnas.space import load_search_file

CONTROLLERS = ("evolution", "optuna", "random")
METRIC = "ndcg@20"


def best_so_far(controller: str, seed: int, trials: int, epochs: int, space: Path, out: Path) -> list[float]:
    file = load_search_file(space)
    file = dataclasses.replace(file, training=file.training.model_copy(update={"max_epochs": epochs}))
    settings = SearchSettings.model_validate(
        {
            "controller": controller,
            "max_trials": trials,
            "objectives": [{"metric": METRIC}],
            "evolution": {"population": max(2, trials // 4), "seed_points": []},
        }
    )
    outcome = search(file, settings, out=out, name=f"{controller}-{seed}", seed=seed, device="cpu")
    curve, best = [], float("-inf")
    for record in outcome.records:
        if record.cached_from is not None:
            continue
        if record.result.status == "ok":
            best = max(best, record.result.metrics[METRIC])
        curve.append(best)
    return curve + [best] * (trials - len(curve))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10, help="max_epochs per trial")
    parser.add_argument("--space", type=Path, default=Path("search_spaces/quickstart.yaml"))
    parser.add_argument("--plot", type=Path, default=Path("bench/search_efficiency.png"))
    args = parser.parse_args()
    print(
        f"{date.today()} {platform.node()} {platform.machine()} trials={args.trials} seeds={args.seeds} "
        f"epochs={args.epochs} space={args.space}"
    )
    curves: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as out:
        for controller in CONTROLLERS:
            runs = [
                best_so_far(controller, seed, args.trials, args.epochs, args.space, Path(out))
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
    for controller in ("evolution", "optuna"):
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
    ax.set_xlabel("trials")
    ax.set_ylabel(f"best validation {METRIC} (mean of {args.seeds} seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.plot, dpi=120)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()

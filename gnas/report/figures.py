"""The report's PNGs, drawn with matplotlib's object API on the Agg canvas (no pyplot, no display)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import EngFormatter, MaxNLocator, PercentFormatter

from gnas.report.analysis import ChoiceShare, Convergence, Curve, Pareto

DPI = 110
COST_LABELS = {
    "params": "parameters",
    "latency": "latency (s to score all users)",
    "train_time": "training time (s)",
}


def _colors(n: int) -> list[tuple[float, float, float, float]]:
    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def axis_label(metric: str, direction: str | None = None) -> str:
    """``validation ndcg@20 (higher is better)``, ``parameters (lower is better)``."""
    name = COST_LABELS.get(metric, f"validation {metric}")
    if direction is None:
        return name
    return f"{name} ({'higher' if direction == 'maximize' else 'lower'} is better)"


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=DPI, facecolor="white")
    return path


def convergence_figure(series: Sequence[Convergence], direction: str, path: Path) -> Path:
    """Best validation value so far against trials trained and against search time, one line per run;
    dots are single trials."""
    figure = Figure(figsize=(11, 4.4), layout="constrained")
    by_trial, by_time = figure.subplots(1, 2, sharey=True)
    handles: list[Line2D] = []
    for color, s in zip(_colors(len(series)), series, strict=True):
        for axes, x in ((by_trial, s.count), (by_time, s.seconds)):
            axes.step(x, s.best, where="post", color=color, linewidth=2)
            axes.scatter(x, s.value, color=color, s=16, alpha=0.35, linewidths=0)
        handles.append(Line2D([], [], color=color, linewidth=2, label=f"{s.label}: best so far"))
    handles.append(
        Line2D([], [], color="grey", marker="o", linestyle="", alpha=0.5, label="one trial's value")
    )
    metric = series[0].metric
    by_trial.set_xlabel("trials trained")
    by_trial.set_ylabel(axis_label(metric, direction))
    by_trial.xaxis.set_major_locator(MaxNLocator(integer=True))
    by_trial.set_title("Best so far, by trials")
    wall_clock = all(s.wall_clock for s in series)
    by_time.set_xlabel("search time (s, wall clock)" if wall_clock else "search time (s, sum of trial times)")
    by_time.set_title("Best so far, by time")
    by_trial.set_xlim(left=0.5)  # trials before the first finished one (lower budgets) stay visible
    by_time.set_xlim(left=0)
    for axes in (by_trial, by_time):
        axes.grid(alpha=0.3)
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 3), fontsize=9)
    return _save(figure, path)


def pareto_figure(front: Pareto, path: Path) -> Path:
    """The primary objective against each other objective (up to three panels): every trial, the
    Pareto front (over all objectives) highlighted and labelled with trial numbers."""
    others = list(range(1, min(len(front.names), 4)))
    figure = Figure(figsize=(5.2 * len(others) + 0.6, 4.6), layout="constrained")
    axes_list = figure.subplots(1, len(others), squeeze=False)[0]
    on_front = {trial for trial, _ in front.front}
    for axes, j in zip(axes_list, others, strict=True):
        rest = [(t, v) for t, v in front.points if t not in on_front]
        axes.scatter(
            [v[j] for _, v in rest], [v[0] for _, v in rest], color="0.6", s=22, label="trials", zorder=2
        )
        best = sorted(front.front, key=lambda p: p[1][j])
        xs, ys = [v[j] for _, v in best], [v[0] for _, v in best]
        axes.scatter(xs, ys, color="tab:red", s=36, label="Pareto front", zorder=3)
        if len(front.names) == 2:
            axes.step(xs, ys, where="post" if front.directions[1] == "minimize" else "pre", color="tab:red")
        for trial, values in best:
            axes.annotate(
                f"#{trial}", (values[j], values[0]), xytext=(4, 4), textcoords="offset points", fontsize=8
            )
        positive = [v[j] for _, v in front.points if v[j] > 0]
        if positive and len(positive) == len(front.points) and max(positive) / min(positive) > 20:
            axes.set_xscale("log")
        if front.names[j] == "params":
            axes.xaxis.set_major_formatter(EngFormatter())
        axes.set_xlabel(axis_label(front.names[j], front.directions[j]))
        axes.set_ylabel(axis_label(front.names[0], front.directions[0]))
        axes.grid(alpha=0.3)
        axes.legend(fontsize=9, loc="best")
    figure.suptitle(f"Pareto front: {len(front.front)} of {len(front.points)} finished trials")
    return _save(figure, path)


def choices_figure(shares: Sequence[ChoiceShare], n_all: int, n_top: int, path: Path) -> Path:
    """Per field, the share of all trials and of the top trials choosing each value."""
    columns = min(3, len(shares))
    rows = math.ceil(len(shares) / columns)
    heights = [
        0.9 + 0.32 * max(len(s.labels) for s in shares[r * columns : (r + 1) * columns]) for r in range(rows)
    ]
    figure = Figure(figsize=(11, sum(heights) + 0.8), layout="constrained")
    grid = figure.add_gridspec(rows, columns, height_ratios=heights)
    colors = {"all": "0.65", "top": "tab:blue"}
    for index, share in enumerate(shares):
        axes = figure.add_subplot(grid[index // columns, index % columns])
        y = list(range(len(share.labels)))
        axes.barh([p + 0.2 for p in y], share.all, height=0.4, color=colors["all"])
        axes.barh([p - 0.2 for p in y], share.top, height=0.4, color=colors["top"])
        axes.set_yticks(y, share.labels, fontsize=9)
        axes.invert_yaxis()
        axes.set_xlim(0, 1)
        axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        axes.tick_params(axis="x", labelsize=8)
        axes.set_title(share.field, fontsize=10)
        axes.grid(axis="x", alpha=0.3)
    handles = [
        Line2D([], [], color=colors["all"], linewidth=8, label=f"all trials ({n_all})"),
        Line2D([], [], color=colors["top"], linewidth=8, label=f"top 10% by the primary objective ({n_top})"),
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=9)
    figure.suptitle("Choices of the best trials vs all trials (share of trials; layers split a trial)")
    return _save(figure, path)


def curves_figure(curves: Sequence[Curve], metric: str, direction: str, path: Path) -> Path:
    """Validation curves of the best trials, per epoch."""
    figure = Figure(figsize=(9, 4.6), layout="constrained")
    axes = figure.subplots()
    for color, curve in zip(_colors(len(curves)), curves, strict=True):
        epochs, values = zip(*curve.points, strict=True)
        axes.plot(epochs, values, marker="o", markersize=3, color=color, label=f"trial {curve.trial}")
    axes.set_xlabel("epoch")
    axes.set_ylabel(axis_label(metric, direction))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(alpha=0.3)
    axes.legend(fontsize=9, title="best trials", title_fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1))
    axes.set_title(f"Learning curves of the {len(curves)} best trials")
    return _save(figure, path)

r"""What an architecture costs on a graph, known before training: parameters, FLOPs and peak memory.

- parameters: counted on a copy built on the ``meta`` device (no memory), so the count is exactly the
  built model's.
- FLOPs (one multiply-add = 2): a forward pass over the full graph, summed from each conv's,
  block's, combination's and text fusion's ``cost``; a training step is forward + backward
  :math:`\approx 3\times` forward (the trainer propagates the full graph every step); scoring every
  user against every item is :math:`2\,U I d`.
- training memory: parameters with their gradients and Adam's two moments (16 bytes per parameter),
  the graph's index tensors and the item text matrix (for an architecture that fuses text), the
  activations kept for backward, and the largest transient; a closed-form branch's fit peak (the
  baseline's own estimate, e.g. EASE's items x items matrices) on top.

:func:`check_fits` turns the memory estimate into a one-line :class:`~gnas.errors.GnasError` before
anything is trained.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import torch

from gnas.architecture import Architecture
from gnas.data.graph import TrainGraph
from gnas.errors import GnasError
from gnas.models.block import Block
from gnas.models.branch import branch_params
from gnas.models.combine import COMBINATIONS
from gnas.models.convs import CONVS
from gnas.models.convs.itemgraph import item_graph_nonzeros
from gnas.models.fused import FusedRecommender
from gnas.models.opcost import OpCost
from gnas.models.registry import build_model
from gnas.models.scores import SCORES
from gnas.text.features import ItemFeatures

GIB = 2**30
FLOAT = 4  # bytes
INDEX = 8
# Peak activation memory over the floats counted: autograd's gradient buffers and the allocator's
# fragmentation; measured 1.1-1.9x on CPU for 2-3 layer GAT, GATv2, GCN, SAGE and LightGCN points.
OVERHEAD = 1.5
# Floats per row and output feature of the BPR batch: three gathered rows, two products, their grads.
BATCH_FLOATS = 8


@dataclass(frozen=True)
class GraphSize:
    """The size of a training graph: ``num_interactions`` (user, item) pairs, each an edge both ways;
    ``text_dim``: the width of the item text features an architecture that fuses text reads (0: none)."""

    num_users: int
    num_items: int
    num_interactions: int
    text_dim: int = 0

    @classmethod
    def of(cls, graph: TrainGraph, text: ItemFeatures | None = None) -> GraphSize:
        return cls(graph.num_users, graph.num_items, len(graph.train_user), 0 if text is None else text.dim)

    @property
    def nodes(self) -> int:
        return self.num_users + self.num_items

    @property
    def edges(self) -> int:
        """Directed edges, the non-zeros of the adjacency."""
        return 2 * self.num_interactions

    def describe(self) -> str:
        text = f", {self.text_dim}-d item text" if self.text_dim else ""
        users, items = f"{self.num_users:,} users", f"{self.num_items:,} items"
        return f"{users} x {items}, {self.num_interactions:,} interactions{text}"


@dataclass(frozen=True)
class CostEstimate:
    """FLOPs (floating-point operations) and bytes of one architecture on one graph size."""

    parameters: int
    forward_flops: float
    train_step_flops: float
    score_all_flops: float
    state_bytes: float
    graph_bytes: float
    activation_bytes: float

    @property
    def train_memory_bytes(self) -> float:
        """Estimated peak memory of a training step."""
        return self.state_bytes + self.graph_bytes + self.activation_bytes


def parameter_count(arch: Architecture, num_users: int, num_items: int, text_dim: int = 0) -> int:
    """The number of trainable scalars of the built model (built on the meta device: no memory used),
    fusion included for ``text_dim`` wide item text features."""
    with torch.device("meta"):
        text = None
        if text_dim:
            text = ItemFeatures(torch.empty(num_items, text_dim), torch.empty(num_items, dtype=torch.bool))
        model = build_model(arch, num_users, num_items, text)
    return sum(p.numel() for p in model.parameters())


def forward_cost(arch: Architecture, size: GraphSize) -> OpCost:
    """FLOPs and intermediate floats of one forward pass over the full graph."""
    arch = arch.canonical()
    nodes, edges = size.nodes, size.edges
    total = OpCost(saved=float(nodes * arch.embedding_dim))  # the ID embeddings, concatenated
    widths = [arch.embedding_dim]
    for layer in arch.layers:
        total += Block.cost(layer, widths[-1], nodes, edges)
        widths.append(CONVS[layer.conv].output_dim(layer, widths[-1]))
    combination = COMBINATIONS[arch.combine]
    total += combination.cost(widths, arch.embedding_dim, nodes)
    out = combination.output_dim(widths, arch.embedding_dim)
    if arch.fusion != "none":
        total += FusedRecommender.cost(
            arch, size.num_users, size.num_items, size.num_interactions, out, size.text_dim
        )
    return total + SCORES[arch.score].cost(out, nodes)


def estimate(arch: Architecture, size: GraphSize, batch_size: int = 8192) -> CostEstimate:
    """Parameters, FLOPs and training memory of ``arch`` on a graph of ``size``, training on batches of
    ``batch_size`` (user, positive, negative) triples."""
    arch = arch.canonical()
    params = parameter_count(arch, size.num_users, size.num_items, size.text_dim)
    forward = forward_cost(arch, size)
    widths = [arch.embedding_dim]
    for layer in arch.layers:
        widths.append(CONVS[layer.conv].output_dim(layer, widths[-1]))
    out = COMBINATIONS[arch.combine].output_dim(widths, arch.embedding_dim)
    edges, nodes = size.edges, size.nodes
    # edge_index, CSR norm_adj (+ a unit-valued copy of its values for SAGE), training pairs and the
    # negative sampler's sorted keys
    graph = 2 * edges * INDEX + (nodes + 1) * INDEX + edges * (INDEX + FLOAT)
    graph += 3 * size.num_interactions * INDEX
    if any(layer.conv == "sage" for layer in arch.layers):
        graph += edges * FLOAT
    if any(layer.conv == "itemgraph" for layer in arch.layers):  # the item graph's CSR tensor
        graph += item_graph_nonzeros(size.num_items) * (INDEX + FLOAT) + (size.num_items + 1) * INDEX
    largest = nodes * max(widths)
    if arch.fusion != "none":
        # the text matrix and which items have text (on a CPU, already resident when the free memory
        # is read: counted twice, on the safe side); backward's gradient of the items' text rows
        graph += size.num_items * (size.text_dim * FLOAT + 1)
        largest = max(largest, size.num_items * size.text_dim)
    # backward holds a gradient as large as the biggest activation next to the saved ones
    floats = OVERHEAD * (forward.saved + max(forward.temp, largest))
    activations = FLOAT * (floats + BATCH_FLOATS * batch_size * out)
    return CostEstimate(
        parameters=params,
        forward_flops=forward.flops,
        train_step_flops=3.0 * forward.flops,
        score_all_flops=2.0 * size.num_users * size.num_items * out,
        state_bytes=4.0 * FLOAT * params,
        graph_bytes=float(graph),
        activation_bytes=activations,
    )


def available_memory(device: torch.device | str) -> int:
    """Bytes free on ``device``: free (and PyTorch-cached) CUDA memory, or the RAM the kernel reports as
    available."""
    device = torch.device(device)
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        # memory PyTorch caches from earlier models is free to this process too
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(free + cached)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def branch_memory(arch: Architecture, size: GraphSize) -> float:
    """Peak bytes of fitting the architecture's closed-form branch (0 without one)."""
    branch = branch_params(arch)
    if branch is None:
        return 0.0
    from gnas.baselines import BASELINES

    name, params = branch
    return BASELINES[name].memory(size.num_users, size.num_items, size.num_interactions, params).fit


def check_fits(
    arch: Architecture,
    size: GraphSize,
    device: torch.device | str,
    limit: float | None = None,
    *,
    batch_size: int = 8192,
) -> CostEstimate:
    """Raise :class:`GnasError` when training ``arch`` on ``size`` would not fit the device's memory.

    ``limit`` (bytes) replaces the device's free memory, e.g. to keep a share for other jobs. Returns
    the estimate when it fits.
    """
    if arch.canonical().fusion == "none":
        size = replace(size, text_dim=0)  # text the architecture does not read is not its cost
    cost = estimate(arch, size, batch_size)
    have = float(limit) if limit is not None else float(available_memory(device))
    branch = branch_memory(arch, size)
    need = cost.train_memory_bytes + branch
    if need > have:
        shown = f", closed-form branch {branch / GIB:.1f} GiB" if branch else ""
        raise GnasError(
            f"architecture needs ~{need / GIB:.1f} GiB for training on {size.describe()} "
            f"({cost.parameters:,} parameters with Adam state {cost.state_bytes / GIB:.1f} GiB, "
            f"activations {cost.activation_bytes / GIB:.1f} GiB{shown}), device {torch.device(device)} has "
            f"{have / GIB:.1f} GiB{' (limit)' if limit is not None else ' available'}"
        )
    return cost

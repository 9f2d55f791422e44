r"""A closed-form branch beside the learned graph model: its scores mixed with the model's.

A branch is a training-free item-item model of :mod:`gnas.baselines` fitted on the same training
graph. With :math:`s^{\mathrm{model}}_u` and :math:`s^{\mathrm{branch}}_u` a user's scores over all
items, each standardised per user (:math:`z(s) = (s - \bar s)/\sigma_s`, mean and spread over the
items not in its training row, so that the high scores of its own items do not set the scale) and
:math:`w` = ``branch_mix``,

.. math::
    s_u = (1 - w)\, z(s^{\mathrm{model}}_u) + w\, z(s^{\mathrm{branch}}_u).

The mix applies wherever the model ranks (validation during training, so early stopping judges the
mixed scores; test; ``gnas recommend``); the loss trains the learned part alone. ``branch: none``
is the learned model exactly.

``BRANCHES`` maps a name to the baseline it fits and which :class:`~gnas.architecture.Architecture`
field feeds each of its hyperparameters; adding a branch is a baseline file and one line here.
The last ``FITTED_KEPT`` fitted branches are kept per process, so a search's worker refits a branch
only when more distinct ones came between. Mixed scores are float32, as the learned model's.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from gnas.architecture import Architecture
from gnas.baselines.base import Baseline, interaction_matrix
from gnas.data.graph import TrainGraph

Scorer = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class BranchKind:
    """A branch: the baseline it fits and, per hyperparameter of that baseline, the architecture field
    that gives its value (other hyperparameters keep their defaults)."""

    baseline: str
    params: Mapping[str, str]

    @property
    def fields(self) -> frozenset[str]:
        """The architecture fields this branch reads."""
        return frozenset(self.params.values())


BRANCHES: dict[str, BranchKind | None] = {
    "none": None,
    "gfcf": BranchKind("gfcf", {"k": "branch_k", "alpha": "branch_alpha"}),
    "polynomial": BranchKind("polynomial", {"order": "branch_order"}),
    "ease": BranchKind("ease", {"l2": "branch_l2"}),
}

FITTED_KEPT = 3  # fitted branches kept per process (an EASE branch holds an items x items matrix)
_fitted: OrderedDict[tuple[object, ...], tuple[Baseline, sp.csr_matrix]] = OrderedDict()


def branch_params(arch: Architecture) -> tuple[str, dict[str, float]] | None:
    """The baseline name and hyperparameters of the architecture's branch; None without one."""
    arch = arch.canonical()
    kind = BRANCHES[arch.branch]
    if kind is None:
        return None
    return kind.baseline, {param: getattr(arch, name) for param, name in kind.params.items()}


def fitted_branch(
    name: str, params: Mapping[str, float], graph: TrainGraph
) -> tuple[Baseline, sp.csr_matrix]:
    """The baseline fitted on the graph's training edges, with the training matrix it scores from
    (kept for the next ``FITTED_KEPT - 1`` other fits in this process)."""
    from gnas.baselines import BASELINES

    user = graph.train_user.cpu().numpy()
    item = graph.train_item.cpu().numpy()
    edges = hashlib.sha1(user.tobytes() + item.tobytes()).hexdigest()
    key = (name, tuple(sorted(params.items())), graph.num_users, graph.num_items, edges)
    if key not in _fitted:
        while len(_fitted) >= FITTED_KEPT:  # free the oldest before the next one is allocated
            _fitted.popitem(last=False)
        train = interaction_matrix(user, item, graph.num_users, graph.num_items)
        model = BASELINES[name](params).fit(train, graph.train_user.device)
        _fitted[key] = (model, train)
    _fitted.move_to_end(key)
    return _fitted[key]


def standardised(scores: Tensor, seen: Tensor | None = None) -> Tensor:
    """Each row minus its mean, over its sample standard deviation, both over the entries not ``seen``
    (a boolean mask like ``scores``; None, or a row seen everywhere: all its entries). A row without
    spread is only centred."""
    scores = scores.double()
    if seen is None:
        seen = torch.zeros_like(scores, dtype=torch.bool)
    seen = seen & ~seen.all(dim=1, keepdim=True)
    count = (~seen).sum(dim=1, keepdim=True)
    mean = scores.masked_fill(seen, 0.0).sum(dim=1, keepdim=True) / count
    centred = scores - mean
    variance = centred.masked_fill(seen, 0.0).square_().sum(dim=1, keepdim=True) / (count - 1).clamp(min=1)
    spread = variance.sqrt_()
    return centred / torch.where(spread > 0, spread, torch.ones_like(spread))


def seen_mask(rows: sp.csr_matrix, device: torch.device) -> Tensor:
    """The users' training items as a boolean ``(users, items)`` mask."""
    user, item = rows.nonzero()
    mask = torch.zeros(rows.shape, dtype=torch.bool, device=device)
    mask[torch.from_numpy(user).to(device), torch.from_numpy(item).to(device)] = True
    return mask


def mixed(learned: Scorer, arch: Architecture, graph: TrainGraph) -> Scorer:
    """The architecture's scores: ``learned`` alone without a branch, else mixed with the branch's."""
    branch = branch_params(arch)
    if branch is None:
        return learned
    model, train = fitted_branch(*branch, graph)
    weight = arch.canonical().branch_mix

    def score(users: Tensor) -> Tensor:
        rows = train[np.asarray(users.cpu())]
        own = learned(users)
        closed_form = model.score(rows).to(own.device)
        seen = seen_mask(rows, own.device)
        mix = (1.0 - weight) * standardised(own, seen) + weight * standardised(closed_form, seen)
        return mix.float()

    return score


def mixed_reasons(
    learned: Tensor,
    learned_row: Tensor,
    arch: Architecture,
    graph: TrainGraph,
    user: int,
    liked: Tensor,
    target: int,
) -> Tensor:
    r"""Each liked item's support for ``target`` under the mix: its share of the learned score
    (``learned``, over the spread of the user's learned score row) times :math:`1 - w`, plus its
    branch weight :math:`W_{j,\mathrm{target}}` over the branch row's spread times :math:`w` (spreads
    over the items not in the user's training row, as the mix takes them). Without a branch,
    or with one that gives no per-item weights, ``learned`` unchanged."""
    branch = branch_params(arch)
    if branch is None:
        return learned
    model, train = fitted_branch(*branch, graph)
    weights = model.weights(liked.cpu().numpy(), target)
    if weights is None:
        return learned
    mix = arch.canonical().branch_mix
    rows = train[[user]]
    seen = seen_mask(rows, learned_row.device)[0]
    branch_row = model.score(rows)[0].to(learned_row.device)
    own = torch.from_numpy(np.asarray(weights, dtype=np.float64)).to(learned.device)
    return (1.0 - mix) * learned.double() / _spread(learned_row, seen) + mix * own / _spread(branch_row, seen)


def _spread(row: Tensor, seen: Tensor) -> float:
    rankable = row.double() if bool(seen.all()) else row[~seen].double()
    spread = float(rankable.std()) if len(rankable) > 1 else 0.0
    return spread if spread > 0 else 1.0

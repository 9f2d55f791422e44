r"""Training losses over a batch of (user, positive item) pairs, each with L2 on layer-0 embeddings.

BPR (LightGCN's recipe), one sampled negative :math:`j` per pair:

.. math::
    \mathcal{L} = -\frac{1}{B}\sum_{(u,i,j)} \ln\sigma(\hat y_{ui} - \hat y_{uj})
    + \lambda \frac{\lVert e_u^{(0)}\rVert^2 + \lVert e_i^{(0)}\rVert^2 + \lVert e_j^{(0)}\rVert^2}{2B}

Sampled softmax (InfoNCE), :math:`N` negatives :math:`\mathcal{N}` drawn uniformly once per batch and
shared by its pairs, a negative that is one of the user's training items left out of that user's sum:

.. math::
    \mathcal{L} = -\frac{1}{B}\sum_{(u,i)} \ln
    \frac{e^{\hat y_{ui}/\tau}}{e^{\hat y_{ui}/\tau} + \sum_{j\in\mathcal{N}} e^{\hat y_{uj}/\tau}}
    + \lambda \frac{\sum_u\lVert e_u^{(0)}\rVert^2 + \sum_i\lVert e_i^{(0)}\rVert^2
    + \sum_{j\in\mathcal{N}}\lVert e_j^{(0)}\rVert^2}{2B}

:math:`\hat y` is the trainer's dot product of the model's outputs. With ``score: cosine`` (architecture
temperature :math:`\tau_a`) that is already :math:`\cos(u, i)/\tau_a`, so the logit is
:math:`\cos/(\tau_a\tau)`: the cosine InfoNCE of AlphaRec and SimGCL is ``score: cosine`` with
``temperature: 1`` in the architecture and the loss's ``temperature`` as :math:`\tau`; with ``score:
dot`` the loss's temperature scales raw dot products.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _l2(rows: tuple[torch.Tensor, ...], batch: int) -> torch.Tensor:
    return sum(row.pow(2).sum() for row in rows) / (2 * batch)  # type: ignore[return-value]


def bpr_loss(
    user: torch.Tensor,
    pos: torch.Tensor,
    neg: torch.Tensor,
    l2_rows: tuple[torch.Tensor, ...],
    weight_decay: float,
) -> torch.Tensor:
    """Mean BPR loss of (user, positive, negative) representations plus the L2 term."""
    margin = (user * pos).sum(-1) - (user * neg).sum(-1)
    return F.softplus(-margin).mean() + weight_decay * _l2(l2_rows, len(user))


def softmax_loss(
    user: torch.Tensor,
    pos: torch.Tensor,
    negatives: torch.Tensor,
    excluded: torch.Tensor,
    l2_rows: tuple[torch.Tensor, ...],
    weight_decay: float,
    temperature: float,
) -> torch.Tensor:
    """Mean sampled-softmax loss plus the L2 term.

    ``user`` and ``pos`` are ``(B, d)``, ``negatives`` the ``(N, d)`` shared negatives, ``excluded`` a
    ``(B, N)`` mask of the negatives that are training items of the row's user (left out of its sum).
    """
    positive = (user * pos).sum(-1, keepdim=True)
    others = (user @ negatives.T).masked_fill(excluded, float("-inf"))
    logits = torch.cat([positive, others], dim=1) / temperature
    target = torch.zeros(len(user), dtype=torch.long, device=user.device)
    return F.cross_entropy(logits, target) + weight_decay * _l2(l2_rows, len(user))

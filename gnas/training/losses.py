r"""Bayesian personalised ranking with L2 on the batch's layer-0 embeddings (LightGCN's recipe).

.. math::
    \mathcal{L} = -\frac{1}{B}\sum_{(u,i,j)} \ln\sigma(\hat y_{ui} - \hat y_{uj})
    + \lambda \frac{\lVert e_u^{(0)}\rVert^2 + \lVert e_i^{(0)}\rVert^2 + \lVert e_j^{(0)}\rVert^2}{2B}
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bpr_loss(
    user: torch.Tensor,
    pos: torch.Tensor,
    neg: torch.Tensor,
    l2_rows: tuple[torch.Tensor, ...],
    weight_decay: float,
) -> torch.Tensor:
    """Mean BPR loss of (user, positive, negative) representations plus the L2 term."""
    margin = (user * pos).sum(-1) - (user * neg).sum(-1)
    l2 = sum(row.pow(2).sum() for row in l2_rows) / (2 * len(user))
    return F.softplus(-margin).mean() + weight_decay * l2

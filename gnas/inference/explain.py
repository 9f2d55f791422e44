r"""Why an item is recommended to a user: the user's training items that contribute most.

With attention layers (GAT, GATv2), a user's representation is built from its training items, each
weighted by the attention :math:`\alpha_{ui}` the user pays it; the score of item :math:`j` then
decomposes, to first order, into :math:`\sum_i \alpha_{ui}\,\mathbf{e}_i^\top\mathbf{e}_j`. The
contribution of liked item :math:`i` is :math:`\alpha_{ui}\,\mathbf{e}_i^\top\mathbf{e}_j`, with
:math:`\alpha` averaged over heads and attention layers and :math:`\mathbf{e}` the final (scored)
item representations. Without attention, the reasons are the liked items nearest to :math:`j` by
cosine similarity of those representations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gnas.data.graph import TrainGraph
from gnas.models.base import Recommender
from gnas.models.convs.base import AttentionConvLayer

ATTENTION = "attention"
SIMILARITY = "similarity"


def item_attention(model: Recommender, graph: TrainGraph) -> Tensor | None:
    """Per training edge ``k`` (``graph.train_user[k]``, ``graph.train_item[k]``): the attention the
    user pays the item, averaged over heads and attention layers; None without attention layers."""
    blocks = list(getattr(model, "blocks", []))
    if not any(isinstance(block.conv, AttentionConvLayer) for block in blocks):
        return None
    model.eval()
    alphas = []
    with torch.no_grad():
        h = model.node_features(graph)  # type: ignore[operator]
        for block in blocks:
            if isinstance(block.conv, AttentionConvLayer):
                # the second half of edge_index runs item -> user, in training-edge order
                alphas.append(block.conv.attention(h, graph)[len(graph.train_user) :].mean(dim=1))
            h = block(h, graph)
    return torch.stack(alphas).mean(dim=0)


def contributions(liked: Tensor, target: int, items: Tensor, attention: Tensor | None) -> Tensor:
    """How much each liked item (indices ``liked``) supports ``target``: attention times dot product
    with ``attention`` (the user's attention per liked item), else cosine similarity.

    ``items`` are the final item representations.
    """
    if attention is not None:
        return attention * (items[liked] @ items[target])
    return F.cosine_similarity(items[liked], items[target].unsqueeze(0), dim=1)

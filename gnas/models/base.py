"""What every recommender model offers the trainer: final embeddings and the layer-0 rows to regularise."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gnas.data.graph import TrainGraph


class Recommender(nn.Module):
    """A graph recommender scored by the dot product of final user and item representations."""

    def __init__(self, num_users: int, num_items: int, embedding_dim: int) -> None:
        super().__init__()
        self.num_users = num_users
        self.num_items = num_items
        self.user_embedding = nn.Embedding(num_users, embedding_dim)
        self.item_embedding = nn.Embedding(num_items, embedding_dim)
        nn.init.normal_(self.user_embedding.weight, std=0.1)
        nn.init.normal_(self.item_embedding.weight, std=0.1)

    def forward(self, graph: TrainGraph) -> tuple[torch.Tensor, torch.Tensor]:
        """Final (user, item) representations after message passing over the training graph."""
        raise NotImplementedError

    def layer0(self, users: torch.Tensor, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ID embeddings that BPR's L2 term regularises."""
        return self.user_embedding(users), self.item_embedding(items)

    def mix(
        self, learned: Callable[[torch.Tensor], torch.Tensor], graph: TrainGraph
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """The model's ranking scores given its dot-product scores ``learned``: unchanged here; a model
        with a closed-form branch mixes the branch's in (:mod:`gnas.models.branch`)."""
        return learned

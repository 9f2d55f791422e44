r"""A graph recommender with item text features fused in, through the seams of
:class:`~gnas.models.recommender.GraphRecommender` (its layers are untouched).

With :math:`\mathbf{t}_i` item :math:`i`'s text features (a learned "no text" vector
:math:`\mathbf{t}_\varnothing` for an item without text) and :math:`F` a fusion operator
(:mod:`gnas.models.fusion`):

- input (``fusion: input`` or ``both``): :math:`\mathbf{h}^{(0)}_i = F_{in}(\mathbf{e}_i, \mathbf{t}_i)`,
  where :math:`\mathbf{e}_i` is the ID embedding, or :math:`\mathbf{0}` for an item without training
  edges (a cold item: nothing was learned for its ID, so it is represented through its text only);
- output (``output`` or ``both``): :math:`\mathbf{z}_i = F_{out}(\mathbf{h}_i, \mathbf{t}_i)` on the
  combined layer outputs, before the score transform;
- user text profile (``fusion_user_profile``): the same at the user side with
  :math:`\mathbf{p}_u = \frac{1}{|N(u)|}\sum_{i\in N(u)} \mathbf{t}_i`, the mean text of the user's
  training items (separate fusion weights).

The L2 term of the loss (``training.weight_decay``) covers the rows that enter the first layer, text
included (:meth:`FusedRecommender.layer0`): with input fusion an item's layer-0 row is its fused row,
and regularising only its ID part would leave what the text projection adds unchecked.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

from gnas.architecture import Architecture
from gnas.data.graph import TrainGraph
from gnas.errors import GnasError
from gnas.models.fusion import FUSIONS, Fusion
from gnas.models.opcost import OpCost
from gnas.models.recommender import GraphRecommender
from gnas.text.features import ItemFeatures


class FusedRecommender(GraphRecommender):
    """``GraphRecommender`` plus text fusion at the input, the output or both (``arch.fusion``)."""

    text: Tensor
    has_text: Tensor

    def __init__(self, arch: Architecture, num_users: int, num_items: int, text: ItemFeatures) -> None:
        if arch.fusion == "none":
            raise ValueError("FusedRecommender needs an architecture with fusion other than 'none'")
        if text.num_items != num_items:
            raise GnasError(
                f"item text features have {text.num_items} rows for {num_items} items; rebuild them "
                "(gnas features build)"
            )
        super().__init__(arch, num_users, num_items)
        self.register_buffer("text", text.matrix.float(), persistent=False)
        self.register_buffer("has_text", text.present.bool(), persistent=False)
        self.no_text = nn.Parameter(torch.zeros(text.dim))
        at_input, at_output = arch.fusion in ("input", "both"), arch.fusion in ("output", "both")
        users = arch.fusion_user_profile

        def fusion(dim: int, wanted: bool) -> Fusion | None:
            op = FUSIONS[arch.fusion_op]
            return op(text.dim, dim, arch.fusion_layers, arch.fusion_dim) if wanted else None

        self.item_input = fusion(arch.embedding_dim, at_input)
        self.item_output = fusion(self.out_dim, at_output)
        self.user_input = fusion(arch.embedding_dim, at_input and users)
        self.user_output = fusion(self.out_dim, at_output and users)
        self._texts: tuple[Tensor, Tensor] | None = None
        self._layer0: Tensor | None = None

    @staticmethod
    def cost(
        arch: Architecture, users: int, items: int, interactions: int, out_dim: int, text_dim: int
    ) -> OpCost:
        """Forward FLOPs and floats of the text side: the items' text (and the users' profiles) and
        each fusion, for ``out_dim`` wide combined outputs and ``text_dim`` wide text features."""
        total = OpCost(saved=float(items * text_dim))  # item_text, the projections' input
        if arch.fusion_user_profile:  # the gathered rows of every training pair, summed per user
            pairs = float(interactions * text_dim)
            total += OpCost(flops=pairs, saved=float(users * text_dim), temp=pairs)
        op = FUSIONS[arch.fusion_op]
        sides = [items, users] if arch.fusion_user_profile else [items]
        dims = {"input": [arch.embedding_dim], "output": [out_dim], "both": [arch.embedding_dim, out_dim]}
        for dim in dims[arch.fusion]:
            for rows in sides:
                total += op.cost(text_dim, dim, arch.fusion_layers, arch.fusion_dim, rows)
        return total

    def item_text(self) -> Tensor:
        """``[I, d_t]`` text features, the learned "no text" vector where an item has none."""
        return torch.where(self.has_text.unsqueeze(1), self.text, self.no_text)

    def user_profile(self, graph: TrainGraph, item_text: Tensor) -> Tensor:
        """``[U, d_t]`` mean text of each user's training items ("no text" for a user without any)."""
        total = scatter(
            item_text[graph.train_item], graph.train_user, 0, dim_size=self.num_users, reduce="sum"
        )
        count = torch.bincount(graph.train_user, minlength=self.num_users).unsqueeze(1)
        return torch.where(count > 0, total / count.clamp(min=1), self.no_text)

    def node_features(self, graph: TrainGraph) -> Tensor:
        items_text = self.item_text()
        users_text = self.user_profile(graph, items_text) if self.arch.fusion_user_profile else items_text
        self._texts = (users_text, items_text)
        seen = torch.bincount(graph.train_item, minlength=self.num_items) > 0
        users = self.user_embedding.weight
        items = self.item_embedding.weight * seen.unsqueeze(1)
        if self.item_input is not None:
            items = self.item_input(items, items_text)
        if self.user_input is not None:
            users = self.user_input(users, users_text)
        self._layer0 = torch.cat([users, items])
        return self._layer0

    def layer0(self, users: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
        """The batch's rows of the last forward pass's first-layer input (fused with text at the input),
        which the L2 term regularises; the ID embeddings before any forward pass."""
        if self._layer0 is None:
            return super().layer0(users, items)
        return self._layer0[users], self._layer0[self.num_users + items]

    def output(self, users: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
        assert self._texts is not None, "node_features runs first in forward"
        users_text, items_text = self._texts
        if self.item_output is not None:
            items = self.item_output(items, items_text)
        if self.user_output is not None:
            users = self.user_output(users, users_text)
        return users, items

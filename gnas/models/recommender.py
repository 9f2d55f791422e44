"""The recommender that any :class:`~gnas.architecture.Architecture` builds into.

Data flow of :meth:`GraphRecommender.forward`::

    node_features(graph)            # [U+I, d] ID embeddings  <- seam for item text features (input)
      -> Block_1 ... Block_L        # conv + norm + activation + dropout + residual, per LayerArch
      -> combination([h_0..h_L])    # last | mean | sum | max | concat | attention
      -> split users / items
      -> output(users, items)       # identity                <- seam for item text features (output)
      -> score transform            # dot: unchanged; cosine: L2-normalised / sqrt(temperature)

When ranking, :meth:`mix` mixes the dot-product scores with a closed-form branch's (``arch.branch``).

The trainer scores a pair by the dot product of the returned rows and regularises ``layer0``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from gnas.architecture import Architecture
from gnas.data.graph import TrainGraph
from gnas.models.base import Recommender
from gnas.models.block import Block
from gnas.models.branch import mixed
from gnas.models.combine import COMBINATIONS
from gnas.models.scores import SCORES


class GraphRecommender(Recommender):
    """ID embeddings, ``arch.layers`` of message passing, a layer combination and a score transform.

    Build it from the canonical architecture (:func:`gnas.models.registry.build_model` does).

    Item text features (a later issue) plug in by subclassing, without touching the layers:

    - at the input: override :meth:`node_features` to return ``[U+I, input_dim]`` features, e.g. item
      rows fused with language-model embeddings (pass ``input_dim`` if the fused width differs from
      ``embedding_dim``); ``layer0`` still names the ID rows that BPR regularises.
    - at the output: override :meth:`output` to fuse the final item representations (width
      ``out_dim``) before the score transform, which must stay last so that cosine stays bounded.
    """

    def __init__(
        self, arch: Architecture, num_users: int, num_items: int, input_dim: int | None = None
    ) -> None:
        super().__init__(num_users, num_items, arch.embedding_dim)
        self.arch = arch
        self.input_dim = input_dim or arch.embedding_dim
        widths = [self.input_dim]
        blocks = []
        for layer in arch.layers:
            blocks.append(Block(layer, widths[-1]))
            widths.append(blocks[-1].out_dim)
        self.blocks = nn.ModuleList(blocks)
        self.combine = COMBINATIONS[arch.combine](widths, arch.embedding_dim)
        self.out_dim = self.combine.out_dim
        self.score = SCORES[arch.score](arch.temperature)

    def node_features(self, graph: TrainGraph) -> Tensor:
        """Initial features of all nodes, users first: here the ID embeddings (input-fusion seam)."""
        return torch.cat([self.user_embedding.weight, self.item_embedding.weight])

    def output(self, users: Tensor, items: Tensor) -> tuple[Tensor, Tensor]:
        """Final user and item representations before scoring: unchanged here (output-fusion seam)."""
        return users, items

    def mix(self, learned: Callable[[Tensor], Tensor], graph: TrainGraph) -> Callable[[Tensor], Tensor]:
        return mixed(learned, self.arch, graph)

    def forward(self, graph: TrainGraph) -> tuple[Tensor, Tensor]:
        h = self.node_features(graph)
        outputs = [h]
        for block in self.blocks:
            h = block(h, graph)
            outputs.append(h)
        final = self.combine(outputs)
        users, items = self.output(final[: self.num_users], final[self.num_users :])
        return self.score(users), self.score(items)

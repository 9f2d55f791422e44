r"""GATv2 (Brody et al., ICLR 2022) with PyG's :class:`~torch_geometric.nn.conv.GATv2Conv`.

.. math::
    \mathbf{x}'_i = \big\Vert_{h=1}^{H}\ \textrm{or}\ \frac{1}{H}\sum_{h=1}^{H}
    \sum_{j\in\mathcal{N}(i)} \alpha^h_{ij}\mathbf{\Theta}^h_{s}\mathbf{x}_j, \qquad
    \alpha^h_{ij} = \mathrm{softmax}_j\Big(\mathbf{a}^{h\top}\mathrm{LeakyReLU}\big(
    \mathbf{\Theta}^h_{s}\mathbf{x}_j + \mathbf{\Theta}^h_{t}\mathbf{x}_i\big)\Big)

"Dynamic" attention: the non-linearity sits before the attention vector, so the ranking of neighbours
can depend on the query node. Over ``edge_index`` (users over items, items over users), no self-loops.
"""

from __future__ import annotations

from torch import Tensor
from torch_geometric.nn import GATv2Conv

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models.convs.base import AttentionConvLayer
from gnas.models.opcost import OpCost


class GATv2Layer(AttentionConvLayer):
    """``heads`` dynamic-attention heads of width ``hidden``, concatenated or averaged."""

    def __init__(self, layer: LayerArch, in_dim: int) -> None:
        super().__init__(layer, in_dim)
        self.conv = GATv2Conv(
            in_dim,
            layer.hidden or in_dim,
            heads=layer.heads,
            concat=layer.concat_heads,
            dropout=layer.attention_dropout,
            add_self_loops=False,
        )

    @classmethod
    def cost(cls, layer: LayerArch, in_dim: int, nodes: int, edges: int) -> OpCost:
        width = (layer.hidden or in_dim) * layer.heads  # all heads
        flops = 4.0 * nodes * in_dim * width + 6.0 * edges * width + 8.0 * edges * layer.heads
        # per edge: x_i and x_j gathered, their sum's LeakyReLU (PyG frees some of these early)
        saved = 2.0 * nodes * width + 3.0 * edges * width + 6.0 * edges * layer.heads
        return OpCost(flops=flops, saved=saved, temp=edges * width)

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        return self.conv(x, graph.edge_index)

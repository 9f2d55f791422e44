r"""Graph attention (Veličković et al., ICLR 2018) with PyG's :class:`~torch_geometric.nn.conv.GATConv`.

.. math::
    \mathbf{x}'_i = \big\Vert_{h=1}^{H}\ \textrm{or}\ \frac{1}{H}\sum_{h=1}^{H}
    \sum_{j\in\mathcal{N}(i)} \alpha^h_{ij}\mathbf{\Theta}^h\mathbf{x}_j, \qquad
    \alpha^h_{ij} = \mathrm{softmax}_j\Big(\mathrm{LeakyReLU}\big(
    \mathbf{a}^{h\top}_{s}\mathbf{\Theta}^h\mathbf{x}_j
    + \mathbf{a}^{h\top}_{t}\mathbf{\Theta}^h\mathbf{x}_i\big)\Big)

over ``edge_index``: a user attends over its items and an item over its users. No self-loops are added
(a node's own features enter through ``residual``); ``attention_dropout`` drops attention weights.
"""

from __future__ import annotations

from torch import Tensor
from torch_geometric.nn import GATConv

from gnas.architecture import LayerArch
from gnas.data.graph import TrainGraph
from gnas.models.convs.base import AttentionConvLayer
from gnas.models.opcost import OpCost


class GATLayer(AttentionConvLayer):
    """``heads`` attention heads of width ``hidden`` (default: the input width), concatenated or averaged."""

    def __init__(self, layer: LayerArch, in_dim: int) -> None:
        super().__init__(layer, in_dim)
        self.conv = GATConv(
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
        flops = 2.0 * nodes * in_dim * width + 4.0 * nodes * width + 8.0 * edges * layer.heads
        flops += 2.0 * edges * width  # weighted messages, summed into the targets
        saved = 2.0 * nodes * width + 6.0 * edges * layer.heads + edges * width  # gathered x_j
        return OpCost(flops=flops, saved=saved, temp=edges * width)

    def forward(self, x: Tensor, graph: TrainGraph) -> Tensor:
        return self.conv(x, graph.edge_index)

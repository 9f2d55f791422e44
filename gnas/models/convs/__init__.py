"""Message-passing layers, one file each; ``CONVS`` maps the name used in an architecture to its class.

Adding a conv: one file here with a :class:`~gnas.models.convs.base.ConvLayer` subclass (its maths in
the docstring) and one line in ``CONVS``; the name becomes valid in YAML and in the search space.
"""

from __future__ import annotations

from gnas.models.convs.base import AttentionConvLayer, ConvLayer
from gnas.models.convs.gat import GATLayer
from gnas.models.convs.gatv2 import GATv2Layer
from gnas.models.convs.gcn import GCNLayer
from gnas.models.convs.itemgraph import ItemGraphLayer
from gnas.models.convs.lightgcn import LightGCNLayer
from gnas.models.convs.sage import SAGELayer

CONVS: dict[str, type[ConvLayer]] = {
    "lightgcn": LightGCNLayer,
    "gcn": GCNLayer,
    "sage": SAGELayer,
    "gat": GATLayer,
    "gatv2": GATv2Layer,
    "itemgraph": ItemGraphLayer,
}

__all__ = ["CONVS", "AttentionConvLayer", "ConvLayer"]

"""How the layer outputs ``[h_0 (ID embeddings), h_1, ..., h_L]`` become one representation per node.

``COMBINATIONS`` maps the name used in an architecture to its class; adding one is one file here with a
:class:`~gnas.models.combine.base.Combination` subclass and one line below.
"""

from __future__ import annotations

from gnas.models.combine.attention import Attention
from gnas.models.combine.base import AlignedCombination, Combination
from gnas.models.combine.concat import Concat
from gnas.models.combine.last import Last
from gnas.models.combine.max import Max
from gnas.models.combine.mean import Mean
from gnas.models.combine.sum import Sum

COMBINATIONS: dict[str, type[Combination]] = {
    "last": Last,
    "mean": Mean,
    "sum": Sum,
    "max": Max,
    "concat": Concat,
    "attention": Attention,
}

__all__ = ["COMBINATIONS", "AlignedCombination", "Combination"]

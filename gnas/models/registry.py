"""Architecture -> nn.Module.

The operator registries live next to their implementations: ``gnas.models.convs.CONVS``,
``gnas.models.combine.COMBINATIONS``, ``gnas.models.ops.ACTIVATIONS`` / ``NORMS`` and
``gnas.models.scores.SCORES``; :mod:`gnas.architecture` validates names against them.
"""

from __future__ import annotations

from gnas.architecture import Architecture
from gnas.models.base import Recommender
from gnas.models.recommender import GraphRecommender


def build_model(arch: Architecture, num_users: int, num_items: int) -> Recommender:
    """Instantiate the (canonical form of the) architecture for a data set of the given size.

    Memory is not checked here (the graph's edge count and the device are unknown); call
    :func:`gnas.models.cost.check_fits` first.
    """
    return GraphRecommender(arch.canonical(), num_users, num_items)

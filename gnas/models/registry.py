"""Architecture -> nn.Module.

The operator registries live next to their implementations: ``gnas.models.convs.CONVS``,
``gnas.models.combine.COMBINATIONS``, ``gnas.models.ops.ACTIVATIONS`` / ``NORMS``,
``gnas.models.scores.SCORES``, ``gnas.models.fusion.FUSIONS`` and ``gnas.models.branch.BRANCHES``;
:mod:`gnas.architecture` validates names against them.
"""

from __future__ import annotations

from gnas.architecture import Architecture
from gnas.errors import GnasError
from gnas.models.base import Recommender
from gnas.models.fused import FusedRecommender
from gnas.models.recommender import GraphRecommender
from gnas.text.features import ItemFeatures


def build_model(
    arch: Architecture, num_users: int, num_items: int, text: ItemFeatures | None = None
) -> Recommender:
    """Instantiate the (canonical form of the) architecture for a data set of the given size.

    ``text`` (the item feature matrix) is needed when the architecture fuses text
    (``fusion`` other than ``none``) and ignored otherwise: a ``none`` architecture is exactly the
    plain graph model. Memory is not checked here (the graph's edge count and the device are unknown);
    call :func:`gnas.models.cost.check_fits` first.
    """
    arch = arch.canonical()
    if arch.fusion == "none":
        return GraphRecommender(arch, num_users, num_items)
    if text is None:
        raise GnasError(
            f"architecture.fusion: {arch.fusion!r} needs item text features, and the data set has none "
            "(set dataset.item_text, or fusion: none)"
        )
    return FusedRecommender(arch, num_users, num_items, text)

"""How item text features are fused with a node's representation (``Architecture.fusion_op``).

``FUSIONS`` maps the name used in an architecture to its class; adding one is one file here with a
:class:`~gnas.models.fusion.base.Fusion` subclass (``fuse`` and its ``fuse_cost``) and one line
below. Where the fusion happens (``Architecture.fusion``: input, output or both) is decided by
:class:`~gnas.models.fused.FusedRecommender`.
"""

from __future__ import annotations

from gnas.models.fusion.add import Add
from gnas.models.fusion.attention import Attention
from gnas.models.fusion.base import Fusion
from gnas.models.fusion.concat import Concat
from gnas.models.fusion.gate import Gate
from gnas.models.fusion.residual import Residual

FUSIONS: dict[str, type[Fusion]] = {
    "concat": Concat,
    "add": Add,
    "gate": Gate,
    "attention": Attention,
    "residual": Residual,
}

__all__ = ["FUSIONS", "Fusion"]

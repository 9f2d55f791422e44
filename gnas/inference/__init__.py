"""A trained model folder at work: load it alone (no data set, no search), recommend and explain.

``folder`` is the on-disk format (written by ``gnas train``, read and checked here), ``model`` the
:class:`FolderModel` that ``gnas.load_model`` returns (a :class:`TrainedModel` for an architecture,
``baseline.BaselineModel`` for a baseline), ``explain`` the "because you liked" reasons.
"""

from gnas.inference.model import FolderModel, Reason, Recommendation, TrainedModel, load_model

__all__ = ["FolderModel", "Reason", "Recommendation", "TrainedModel", "load_model"]

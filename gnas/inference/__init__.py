"""A trained model folder at work: load it alone (no data set, no search), recommend and explain.

``folder`` is the on-disk format (written by ``gnas train``, read and checked here), ``model`` the
:class:`TrainedModel` that ``gnas.load_model`` returns, ``explain`` the "because you liked" reasons.
"""

from gnas.inference.model import Reason, Recommendation, TrainedModel, load_model

__all__ = ["Reason", "Recommendation", "TrainedModel", "load_model"]

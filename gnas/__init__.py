"""gnas: graph neural architecture search for recommender systems."""

__version__ = "0.1.0"

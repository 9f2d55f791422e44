"""Search controllers: the ask/tell ``Controller`` contract (``base``), one module per algorithm and the
helpers they share (``selection``, ``pareto``, ``optuna_space``); ``registry.CONTROLLERS`` maps the name
used under ``search.controller`` to a constructor.

Adding a controller: one module here with a ``Controller`` subclass (``ask``, ``tell``, ``state_dict``,
``load_state_dict``) and one line in ``CONTROLLERS``; ``tests/test_controller_conformance.py`` then runs
it through the contract.
"""

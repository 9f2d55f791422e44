"""The two training budgets of a search, and how one candidate trains within them.

The search file's ``training:`` is the full budget: ``gnas train``, the exported ``best.yaml`` and the
final stage train with it. ``search.trial_budget`` (max_epochs, patience, time_budget) replaces those
keys for the screening trials; without it the trials train the full budget too (search files written
before the final stage existed). A candidate's own training genes (lr, loss, ...) go over either.
"""

from __future__ import annotations

from gnas.search.settings import TrialBudgetSpec
from gnas.space import Genotype, SearchSpace, training_overrides
from gnas.spec import TrainingSpec


def screening_training(training: TrainingSpec, budget: TrialBudgetSpec | None) -> TrainingSpec:
    """The training settings of a screening trial: ``training`` with the trial budget's keys."""
    return training if budget is None else training.model_copy(update=budget.overrides())


def candidate_training(training: TrainingSpec, space: SearchSpace, genotype: Genotype) -> TrainingSpec:
    """How the candidate trains: ``training`` (a screening or the full budget), then its own genes."""
    return training.model_copy(update=training_overrides(space, genotype))

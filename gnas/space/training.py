"""The training settings a search space may vary: the genes of its ``training:`` mapping.

``TRAINING_GENES`` are ``TrainingSpec`` fields (their values are checked by ``TrainingSpec`` itself);
``TrainingGenes`` holds the values a genotype gives them, ``None`` where the genotype sets nothing
(the search file's ``training:`` value applies). Its canonical form drops what the loss does not read,
so two genotypes that differ only in the temperature of a BPR loss are one candidate. Dropout is a
layer gene already (``layers.dropout``), so it is not repeated here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

TRAINING_GENES = ("lr", "weight_decay", "batch_size", "loss", "num_negatives", "temperature")
SOFTMAX_ONLY = ("num_negatives", "temperature")


class TrainingGenes(BaseModel):
    """A genotype's training settings; ``None``: not set by the genotype."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lr: float | None = None
    weight_decay: float | None = None
    batch_size: int | None = None
    loss: Literal["bpr", "softmax"] | None = None
    num_negatives: int | None = None
    temperature: float | None = None

    def canonical(self) -> TrainingGenes:
        """Under BPR the softmax settings are unset (a loss that is not a gene reads them all)."""
        if self.loss == "bpr":
            return self.model_copy(update=dict.fromkeys(SOFTMAX_ONLY))
        return self

    def overrides(self) -> dict[str, object]:
        """The settings the genotype sets, in ``TRAINING_GENES`` order."""
        return {name: getattr(self, name) for name in TRAINING_GENES if getattr(self, name) is not None}

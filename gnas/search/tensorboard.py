"""Per-trial training curves for TensorBoard: ``RUN/tensorboard/trial-N`` holds the mean training loss
and the validation metric per epoch (``tensorboard --logdir RUN/tensorboard``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from gnas.errors import GnasError
from gnas.search.runlog import TrialRecord

TENSORBOARD = "tensorboard"


def require_tensorboard() -> None:
    """Fail with one line, before a search starts, when the tensorboard package is missing."""
    if importlib.util.find_spec("tensorboard") is None:
        raise GnasError("--tensorboard needs the tensorboard package: pip install 'gnas[tensorboard]'")


def tensorboard_writer(run_dir: Path, metric: str) -> Callable[[TrialRecord], None]:
    """A function that writes one trial's curves (``metric`` names the validation curve)."""
    require_tensorboard()
    from torch.utils.tensorboard import SummaryWriter

    def write(record: TrialRecord) -> None:
        if record.cached_from is not None:  # the same curves as the trial it came from
            return
        result = record.result
        folder = run_dir / TENSORBOARD / f"trial-{record.candidate.trial}"
        with SummaryWriter(log_dir=str(folder)) as writer:
            for epoch, loss in result.loss:
                writer.add_scalar("train/loss", loss, epoch)
            for epoch, value in result.curve:
                writer.add_scalar(f"valid/{metric}", value, epoch)
            status = result.status + (f": {result.error}" if result.error else "")
            writer.add_text("trial", f"{status}\n\n{record.architecture}")

    return write

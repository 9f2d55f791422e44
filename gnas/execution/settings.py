"""The ``workers:`` section of a search file: what each trial reserves on a Ray worker, and its limits.

It is a top-level section (beside ``search:``) because it describes where trials run, not how the
space is searched: the same search settings run on a laptop or a cluster with different ``workers:``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gnas.durations import parse_duration

DEFAULT_GPUS_PER_TRIAL = 0.25


class WorkerSettings(BaseModel):
    """Resources per trial (Ray reserves them; fractions share a GPU), concurrency, timeout and retries.

    ``gpus_per_trial: null`` means ``0.25`` (four trials per GPU) when the cluster has GPUs, else 0.
    ``max_concurrent: null`` runs as many trials at once as the resources allow. ``trial_timeout``
    (seconds or ``90s``/``20m``/``2h``, counted from submission) fails a trial that runs longer;
    ``max_retries`` re-runs a trial whose worker process died (crash, SIGKILL, out of memory), not one
    that raised an error, which would fail again the same way.
    """

    model_config = ConfigDict(extra="forbid")

    cpus_per_trial: float = Field(1.0, gt=0)
    gpus_per_trial: float | None = Field(None, ge=0)
    max_concurrent: int | None = Field(None, ge=1)
    trial_timeout: float | None = None
    max_retries: int = Field(1, ge=0)
    dashboard: bool = False

    @field_validator("trial_timeout", mode="before")
    @classmethod
    def _duration(cls, value: float | int | str | None) -> float | None:
        return None if value is None else parse_duration(value)

    @field_validator("gpus_per_trial")
    @classmethod
    def _whole_above_one(cls, value: float | None) -> float | None:
        if value is not None and value > 1 and not float(value).is_integer():
            raise ValueError(f"{value} GPUs: a share above 1 must be a whole number of GPUs")
        return value

"""``gnas search --resume RUN``: continue a stopped, interrupted or killed search where it stopped.

The controller comes back from its last checkpoint (taken after every ask and tell) with its
in-flight candidates asked again; those whose results reached ``trials.jsonl`` before the stop are
told from the log, the others train again. With the same seed, a resumed search makes the same
trials and ends with the same population as one that never stopped.

A resumed search keeps its spec. Budgets (``max_trials``, ``time_budget``, ``generations``) may be
raised; any other change (space, objectives, data, training) is refused unless forced, and every
resume is recorded in ``spec.yaml`` under ``resumes``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

import gnas
from gnas.errors import GnasError
from gnas.runs import run_lock, write_text
from gnas.search.base import Budget
from gnas.search.checkpoint import CONTROLLER_STATE, load_checkpoint, restore_rng
from gnas.search.executors import executor_name
from gnas.search.export import SPEC
from gnas.search.objectives import Objectives
from gnas.search.registry import build_controller
from gnas.search.run import (
    OnTrial,
    SearchData,
    SearchOutcome,
    Session,
    execute,
    for_objectives,
    resolved_spec,
)
from gnas.search.runlog import TRIALS, TrialRecord, read_trials, repair_trials
from gnas.space import SearchFile, parse_search_file
from gnas.spec import load_yaml

BUDGETS = ("max_trials", "time_budget", "generations")
_NOT_COMPARED = ("source", "versions", "resumes")


def resume(
    run_dir: Path,
    *,
    file: SearchFile | None = None,
    force: bool = False,
    data_dir: Path | None = None,
    device: str = "auto",
    on_trial: OnTrial | None = None,
    executor: str | None = None,
    ray_address: str | None = None,
    **overrides: Any,
) -> SearchOutcome:
    """Continue the search in ``run_dir``. ``file`` (default: the run's own spec) and ``overrides``
    of its search settings (``None``: keep) must match the run's spec apart from budgets unless
    ``force``."""
    stored = _read_spec(run_dir)
    with run_lock(run_dir):
        _check_version(run_dir, stored, force)
        own = parse_search_file(
            {k: v for k, v in stored.items() if k not in _NOT_COMPARED}, str(run_dir / SPEC)
        )
        file = dataclasses.replace(file or own, seed=own.seed)
        settings = file.search.with_overrides(**overrides)
        objectives = Objectives.from_specs(settings.objectives, settings.constraints)
        file = for_objectives(file, objectives, own.seed)
        spec = resolved_spec(file, settings)
        changed = _differences(stored, spec)
        if changed and not force:
            raise GnasError(
                f"{run_dir}: {', '.join(changed)} differ from its {SPEC}; resume without a search file "
                "to keep the run's own, or pass --force to go on with the new ones"
            )
        checkpoint = load_checkpoint(run_dir)
        try:
            records = [TrialRecord.from_json(line) for line in read_trials(run_dir)]
        except (KeyError, TypeError, ValueError) as exc:
            raise GnasError(f"{run_dir / TRIALS}: not a trial log ({type(exc).__name__}: {exc})") from None
        executor = executor_name(executor)
        data = SearchData.load(file, data_dir, "cpu" if executor == "ray" else device)  # workers place it
        controller = build_controller(settings, file.space, objectives, file.seed, Budget(), run_dir)
        try:
            controller.load_state_dict(checkpoint.controller)
        except GnasError:
            raise
        except Exception as exc:  # a state from another controller or space
            raise GnasError(
                f"{run_dir / CONTROLLER_STATE}: does not fit this search ({type(exc).__name__}: {exc})"
            ) from None
        # Everything is checked: from here on the run folder changes.
        repair_trials(run_dir)
        entry = {
            "at": datetime.now().isoformat(timespec="seconds"),
            "trials_logged": len(records),
            "changed": changed,
            "forced": bool(changed),
            **{key: value for key, value in overrides.items() if key in BUDGETS and value is not None},
        }
        spec["resumes"] = [*stored.get("resumes", []), entry]
        write_text(run_dir / SPEC, yaml.safe_dump(spec, sort_keys=False))
        restore_rng(checkpoint.rng)
        session = Session(file, settings, objectives, controller, run_dir, records, checkpoint.elapsed)
        return execute(session, data, on_trial, executor=executor, device=device, ray_address=ray_address)


def _read_spec(run_dir: Path) -> dict[str, Any]:
    if not run_dir.is_dir():
        raise GnasError(f"--resume: {run_dir} is not a folder")
    missing = [name for name in (SPEC, TRIALS, CONTROLLER_STATE) if not (run_dir / name).is_file()]
    if missing:
        raise GnasError(f"--resume: {run_dir} is not a search run folder (no {', '.join(missing)})")
    stored = load_yaml(run_dir / SPEC)
    if not isinstance(stored, dict) or "space" not in stored or "search" not in stored:
        raise GnasError(f"{run_dir / SPEC}: not the spec of a gnas search run")
    return stored


def _check_version(run_dir: Path, stored: dict[str, Any], force: bool) -> None:
    """Runs resume within the same major.minor version of gnas (or when forced)."""
    written = str(stored.get("versions", {}).get("gnas", "unknown"))
    if written.split(".")[:2] != gnas.__version__.split(".")[:2] and not force:
        raise GnasError(
            f"{run_dir}: written by gnas {written}, this is gnas {gnas.__version__}; "
            "resume it with that version, or pass --force"
        )


def _differences(stored: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """Keys of ``spec`` (``search.*`` one level down) that differ from the stored spec, budgets aside."""
    changed = []
    for key, value in spec.items():
        if key in _NOT_COMPARED:
            continue
        if key == "search":
            before = stored.get("search", {})
            changed += [
                f"search.{name}"
                for name, setting in value.items()
                if name not in BUDGETS and before.get(name) != setting
            ]
        elif stored.get(key) != value:
            changed.append(key)
    return changed

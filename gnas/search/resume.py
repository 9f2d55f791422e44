"""``gnas search --resume RUN``: continue a stopped, interrupted or killed search where it stopped.

The controller comes back from its last checkpoint (taken after every ask and tell) with its
in-flight candidates asked again; those whose results reached ``trials.jsonl`` before the stop are
told from the log, the others train again. With the same seed and one trial at a time (the inline
executor, or one Ray worker), a resumed search makes the same trials and ends with the same
population as one that never stopped; with several workers the order in which results arrive, and so
what is bred from them, depends on timing, resumed or not.

A search killed in its final stage resumes there: the search loop is not run again (unless a budget
was raised) and the final runs already in ``final.jsonl`` are not trained again.

A resumed search keeps its spec. Budgets (``max_trials``, ``time_budget``, ``generations``) may be
raised and ``workers:`` changed; any other change (space, objectives, data, training, controller) is
refused unless forced, and every resume is recorded in ``spec.yaml`` under ``resumes``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

import gnas
from gnas.errors import GnasError
from gnas.runs import run_lock, write_text
from gnas.search.baselines import BaselinePlan, plan_baselines, read_baselines
from gnas.search.candidate import Budget
from gnas.search.checkpoint import CONTROLLER_STATE, load_checkpoint, restore_rng
from gnas.search.controllers.registry import build_controller
from gnas.search.objectives import Objectives
from gnas.search.run import (
    OnBaseline,
    OnTrial,
    SearchData,
    SearchOutcome,
    Session,
    for_objectives,
    resolved_spec,
    run_session,
)
from gnas.search.runfolder import ABSENT_SEARCH_SETTINGS, RECORD_ONLY, SPEC, read_spec, spec_search_file
from gnas.search.runlog import TRIALS, TrialRecord, read_trials, repair_trials
from gnas.search.settings import SearchSettings
from gnas.search.tensorboard import require_tensorboard
from gnas.space import SearchFile, canonical

BUDGETS = ("max_trials", "time_budget", "generations")
_FREE = (*RECORD_ONLY, "workers")  # may differ without --force


def resume(
    run_dir: Path,
    *,
    file: SearchFile | None = None,
    force: bool = False,
    controller: str | None = None,
    max_trials: int | None = None,
    time_budget: float | str | None = None,
    data_dir: Path | None = None,
    device: str = "auto",
    on_trial: OnTrial | None = None,
    tensorboard: bool = False,
    executor: str | None = None,
    ray_address: str | None = None,
    on_baseline: OnBaseline | None = None,
) -> SearchOutcome:
    """Continue the search in ``run_dir``. ``file`` (default: the run's own spec) and the overrides
    (``None``: keep) must match the run's spec apart from budgets and workers unless ``force``."""
    if tensorboard:
        require_tensorboard()
    stored = read_spec(run_dir)
    missing = [name for name in (TRIALS, CONTROLLER_STATE) if not (run_dir / name).is_file()]
    if missing:
        raise GnasError(f"--resume: {run_dir} is not a search run folder (no {', '.join(missing)})")
    with run_lock(run_dir):
        _check_version(run_dir, stored, force)
        own = spec_search_file(run_dir, stored)
        settings = (file or own).search.with_overrides(
            controller=controller, max_trials=max_trials, time_budget=time_budget
        )
        objectives = Objectives.from_specs(settings.objectives, settings.constraints)
        file = for_objectives(file or own, objectives, own.seed)
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
        _check_fits(run_dir, file, objectives, records)
        data = SearchData.load(file, data_dir, device, executor)
        fitted = read_baselines(run_dir) is not None  # read back, not fitted again: nothing to check
        baselines = (
            BaselinePlan(()) if fitted else plan_baselines(settings.baselines, data.split, file.training)
        )
        search_controller = build_controller(
            settings, file.space, objectives, file.seed, Budget(), run_dir, resume=True
        )
        try:
            search_controller.load_state_dict(checkpoint.controller)
        except GnasError:
            raise
        except Exception as exc:  # a state from another controller or space
            raise GnasError(
                f"{run_dir / CONTROLLER_STATE}: does not fit this search ({type(exc).__name__}: {exc})"
            ) from None
        # Everything is checked: from here on the run folder changes.
        repair_trials(run_dir)
        budgets = {"max_trials": max_trials, "time_budget": time_budget}
        entry = {
            "at": datetime.now().isoformat(timespec="seconds"),
            "trials_logged": len(records),
            "changed": changed,
            "forced": bool(changed),
            **{key: value for key, value in budgets.items() if value is not None},
        }
        spec["resumes"] = [*stored.get("resumes", []), entry]
        write_text(run_dir / SPEC, yaml.safe_dump(spec, sort_keys=False))
        restore_rng(checkpoint.rng)
        raised = any(stored.get("search", {}).get(key) != spec["search"].get(key) for key in BUDGETS)
        session = Session(
            file,
            settings,
            objectives,
            search_controller,
            run_dir,
            records,
            checkpoint.elapsed,
            tensorboard,
            stopped="" if raised else checkpoint.stopped,
            baselines=baselines,
        )
        return run_session(
            session,
            data,
            on_trial,
            executor=executor,
            device=device,
            ray_address=ray_address,
            on_baseline=on_baseline,
        )


def _check_version(run_dir: Path, stored: dict[str, Any], force: bool) -> None:
    """Runs resume within the same major.minor version of gnas (or when forced)."""
    written = str(stored.get("versions", {}).get("gnas", "unknown"))
    if written.split(".")[:2] != gnas.__version__.split(".")[:2] and not force:
        raise GnasError(
            f"{run_dir}: written by gnas {written}, this is gnas {gnas.__version__}; "
            "resume it with that version, or pass --force"
        )


def _check_fits(run_dir: Path, file: SearchFile, objectives: Objectives, records: list[TrialRecord]) -> None:
    """Even forced, the finished trials must be architectures of the space and scored on as many
    objectives: the controller goes on from them."""
    for record in records:
        if record.result.values and len(record.result.values) != len(objectives.names):
            raise GnasError(
                f"{run_dir / TRIALS}: trial {record.candidate.trial} has {len(record.result.values)} "
                f"objective values, the search now {len(objectives.names)}; start a new search instead"
            )
        try:
            fits = canonical(file.space, record.candidate.genotype) == record.candidate.genotype
        except Exception:  # a genotype of another layout
            fits = False
        if not fits:
            raise GnasError(
                f"{run_dir / TRIALS}: trial {record.candidate.trial}'s architecture is not in the space "
                "any more; start a new search instead"
            )


def _differences(stored: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """Keys of ``spec`` (``search.*`` one level down) that differ from the stored spec, budgets and
    workers aside."""
    changed = []
    # a setting newer than the run: its default ran, or what ABSENT_SEARCH_SETTINGS says
    defaults = SearchSettings.model_validate(ABSENT_SEARCH_SETTINGS).model_dump(mode="json")
    for key, value in spec.items():
        if key in _FREE:
            continue
        if key == "search":
            before = stored.get("search", {})
            changed += [
                f"search.{name}"
                for name, setting in value.items()
                if name not in BUDGETS and before.get(name, defaults.get(name)) != setting
            ]
        elif stored.get(key) != value:
            changed.append(key)
    return changed

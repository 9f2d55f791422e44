"""``gnas export``: one trial of a search run folder as a self-contained ``gnas train`` file.

The file holds the search's data set reference, split, full-budget training settings (the search
file's ``training:``, then the candidate's own training genes) and seed, the trial's architecture,
and under ``search_result`` what the search measured on validation (``gnas train`` keeps it in the
run's config.yaml and does not use it to train). By default it is the final stage's winner (best mean
validation over seeds at the full budget; the screening best when the final stage is off or
unfinished). The search writes its ``best.yaml`` with the same function.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gnas.errors import GnasError
from gnas.outfile import write_text_atomic
from gnas.search.final import FinalRun, Standing, plan, read_final, standings, winner
from gnas.search.objectives import Objectives
from gnas.search.ranking import leaderboard, pareto_front
from gnas.search.runfolder import spec_search_file
from gnas.search.runlog import TRIALS, TrialRecord, read_trials
from gnas.space import SearchFile, decode, train_config, training_overrides
from gnas.spec import parse_train_spec


@dataclass(frozen=True)
class SearchRun:
    """A search run folder as written so far: its resolved search file and its finished trials."""

    path: Path
    file: SearchFile
    objectives: Objectives
    records: list[TrialRecord]
    final_runs: list[FinalRun] = dataclasses.field(default_factory=list)

    def final(self) -> list[Standing]:
        """The final stage's standings so far, best mean first (empty when it is off or not started)."""
        entries = plan(self.records, self.file, self.file.search, self.objectives)
        if not self.final_runs or not entries:
            return []
        return standings(entries, self.final_runs, self.file, self.file.search, self.objectives)


@dataclass(frozen=True)
class Choice:
    """The trial to export, the run name it gets in ``gnas train`` and why it was chosen; ``final``:
    the final-stage standing it won (``record`` is then its run with the search's seed)."""

    record: TrialRecord
    name: str
    why: str
    final: Standing | None = None


class ParetoIndexError(GnasError):
    """``--pareto N`` outside the front; ``front`` lets the caller show the points there are."""

    def __init__(self, message: str, front: list[TrialRecord]) -> None:
        super().__init__(message)
        self.front = front


def load_search_run(path: Path) -> SearchRun:
    """Read ``spec.yaml`` and ``trials.jsonl`` of a ``gnas search`` run folder (one-line errors)."""
    file = spec_search_file(path)
    objectives = Objectives.from_specs(file.search.objectives, file.search.constraints)
    if not (path / TRIALS).is_file():
        raise GnasError(f"{path / TRIALS}: missing (no trial of this search has finished)")
    try:
        records = [TrialRecord.from_json(line) for line in read_trials(path)]
    except (ValueError, KeyError, TypeError) as exc:
        raise GnasError(f"{path / TRIALS}: not a trial log ({type(exc).__name__}: {exc})") from None
    return SearchRun(path, file, objectives, records, read_final(path))


def final_choice(file: SearchFile, standing: Standing) -> Choice:
    """The final stage's winner as a choice: its run with the search's seed, which ``gnas train``
    of the exported file reproduces."""
    main = standing.main
    if main is None:
        raise GnasError(f"{standing.entry.label}: no final run with the search's seed {standing.seeds[0]}")
    why = f"final-stage winner, best mean validation over {len(standing.seeds)} seeds at the full budget"
    return Choice(main.record, f"{file.name}-best", why, standing)


def describe_values(record: TrialRecord, objectives: Objectives) -> str:
    """``ndcg@20 0.1234, params 52,096``: the trial's objective values."""
    return ", ".join(
        f"{name} {value:,.0f}" if abs(value) >= 1e4 else f"{name} {value:.4f}"
        for name, value in zip(objectives.names, record.result.values, strict=True)
    )


def choose(run: SearchRun, trial: int | None = None, pareto: int | None = None) -> Choice:
    """The best trial by the primary objective, trial ``trial``, or the ``pareto``-th point (from 1) of
    the Pareto front ordered by the primary objective."""
    name, primary = run.file.name, run.objectives.primary.metric
    if trial is not None and pareto is not None:
        raise GnasError("--trial and --pareto: give one of them, not both")
    if trial is not None:
        found = [r for r in run.records if r.candidate.trial == trial]
        if not found:
            known = sorted(r.candidate.trial for r in run.records)
            shown = f"{known[0]}..{known[-1]}" if known else "none"
            raise GnasError(f"--trial {trial}: no such trial in {run.path / TRIALS} (trials: {shown})")
        record = found[-1]
        if record.result.status != "ok":
            reason = f": {record.result.error}" if record.result.error else ""
            raise GnasError(
                f"--trial {trial}: the trial is {record.result.status}{reason}; only ok trials export"
            )
        return Choice(record, f"{name}-trial{trial}", f"trial {trial}")
    if pareto is not None:
        if len(run.objectives.specs) < 2:
            raise GnasError(f"--pareto: the search has one objective ({primary}); use --trial or the default")
        front = pareto_front(run.records, run.objectives)
        if not 1 <= pareto <= len(front):
            raise ParetoIndexError(
                f"--pareto {pareto}: the Pareto front has {len(front)} point(s), numbered 1.. by {primary}",
                front,
            )
        return Choice(
            front[pareto - 1], f"{name}-pareto{pareto}", f"Pareto point {pareto} of {len(front)} by {primary}"
        )
    won = winner(run.final())
    if won is not None:
        return final_choice(run.file, won)
    ranked = leaderboard(run.records, run.objectives)
    if not ranked:
        raise GnasError(f"{run.path}: no trial finished ok; nothing to export")
    return Choice(ranked[0], f"{name}-best", f"best by validation {primary}")


def search_result(
    run_name: str,
    record: TrialRecord,
    objectives: Objectives,
    final: Standing | None = None,
    trial_budget: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the search measured for the trial, on validation only: a screening trial's values (and
    its smaller ``budget``), or the final run with the search's seed and the mean over seeds."""
    result, budget = record.result, record.candidate.budget
    data: dict[str, Any] = {
        "run": run_name,
        "trial": record.candidate.trial if final is None else final.entry.trial,
        "objectives": dict(zip(objectives.names, result.values, strict=True)),
        "valid": {key: value for key, value in result.metrics.items() if "@" in key},
        "epochs": result.epochs,
    }
    if "params" in result.metrics:
        data["params"] = int(result.metrics["params"])
    if result.device is not None:
        data["device"] = result.device
    if final is not None:
        data["stage"] = "final"
        data["final"] = {
            "metric": objectives.primary.metric,
            "seeds": list(final.seeds),
            "values": final.values,
            "mean": final.mean,
            "sd": final.sd,
            "screening": final.entry.screening,
        }
    else:
        smaller = {**(trial_budget or {}), **{k: v for k, v in dataclasses.asdict(budget).items() if v}}
        if smaller:
            data["budget"] = smaller
    return data


def trial_yaml(file: SearchFile, run_name: str, choice: Choice, objectives: Objectives) -> str:
    """The ``gnas train`` file of the chosen trial, with a comment saying where it comes from."""
    record, final = choice.record, choice.final
    genotype = record.candidate.genotype
    overrides = training_overrides(file.space, genotype)  # the full budget, then the candidate's genes
    config = train_config(file, decode(file.space, genotype), choice.name, overrides)
    trial_budget = file.search.trial_budget.overrides() if file.search.trial_budget else None
    config["search_result"] = search_result(run_name, record, objectives, final, trial_budget)
    parse_train_spec(config, f"{run_name} trial {record.candidate.trial}")
    note = ""
    if "budget" in config["search_result"]:
        lower = ", ".join(f"{k} {v}" for k, v in config["search_result"]["budget"].items())
        note = f"\n# The search trained it with a lower budget ({lower}); this file trains the full one."
    if final is not None and final.mean is not None:
        screened = "" if final.entry.screening is None else f" (screening {final.entry.screening:.4f})"
        what = (
            f"# {final.entry.label.capitalize()}{screened} of search {run_name} ({choice.why}): "
            f"validation {objectives.primary.metric} {final.mean:.4f} +- {final.sd or 0.0:.4f} over seeds "
            f"{', '.join(map(str, final.seeds))}; seed {file.seed}: {describe_values(record, objectives)}."
        )
    else:
        what = (
            f"# Trial {record.candidate.trial} of search {run_name} ({choice.why}): validation "
            f"{describe_values(record, objectives)}.{note}"
        )
    header = (
        f"{what}\n"
        f"# Self-contained: `gnas train FILE` retrains it from scratch with seed {file.seed} and scores "
        f"test once.\n# genotype: {json.dumps(list(genotype))}\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, default_flow_style=None)


def export_trial(
    run_dir: Path,
    output: Path,
    *,
    trial: int | None = None,
    pareto: int | None = None,
    force: bool = False,
) -> Choice:
    """Write the chosen trial of a search run as a ``gnas train`` file; nothing is written on an error."""
    run = load_search_run(run_dir)
    choice = choose(run, trial, pareto)
    text = trial_yaml(run.file, run.path.name, choice, run.objectives)
    write_text_atomic(output, text, force=force)
    return choice


__all__ = [
    "Choice",
    "ParetoIndexError",
    "SearchRun",
    "choose",
    "export_trial",
    "load_search_run",
    "search_result",
    "trial_yaml",
]

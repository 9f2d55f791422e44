"""A search run folder's ``spec.yaml``: read once, the same way, by resume, export and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gnas.errors import GnasError
from gnas.space import SearchFile, parse_search_file
from gnas.spec import load_yaml

SPEC = "spec.yaml"
RECORD_ONLY = ("source", "versions", "resumes", "threads")  # written for people, not part of the search file
# What a search setting absent from an older run's spec.yaml means: that run had no final stage and no
# baselines, and resuming it must not add them.
ABSENT_SEARCH_SETTINGS: dict[str, Any] = {"final": {"top_k": 0}, "baselines": []}


def read_spec(run_dir: Path) -> dict[str, Any]:
    """The run's ``spec.yaml`` as written (one-line errors for a folder that is not a search run)."""
    if not run_dir.is_dir():
        raise GnasError(f"{run_dir}: no such folder (give a `gnas search` run folder)")
    if not (run_dir / SPEC).is_file():
        raise GnasError(f"{run_dir}: not a search run folder (no {SPEC})")
    stored = load_yaml(run_dir / SPEC)
    if not isinstance(stored, dict) or "space" not in stored or "search" not in stored:
        raise GnasError(f"{run_dir / SPEC}: not the spec of a gnas search run")
    return stored


def spec_search_file(run_dir: Path, stored: dict[str, Any] | None = None) -> SearchFile:
    """The search file the run ran (its seed, space, settings), from ``stored`` or ``spec.yaml``."""
    stored = read_spec(run_dir) if stored is None else stored
    kept = {key: value for key, value in stored.items() if key not in RECORD_ONLY}
    kept["search"] = {**ABSENT_SEARCH_SETTINGS, **kept["search"]}
    return parse_search_file(kept, str(run_dir / SPEC))

"""Every controller in ``CONTROLLERS`` keeps the ask/tell contract of ``gnas.search.controllers.base``.

Each test runs once per registered name, built as a search builds it (``build_controller``) and told the
synthetic objective (no training), on small spaces: a new controller is checked by adding its registry
line. What each algorithm does well is tested in its own file (``test_evolution.py`` and so on).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from synthetic_search import inline, synthetic_evaluate

from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.base import Controller
from gnas.search.controllers.registry import CONTROLLERS, build_controller
from gnas.search.driver import drive
from gnas.search.objectives import Objectives
from gnas.search.settings import EvolutionSpec, ObjectiveSpec, SearchSettings
from gnas.space import SearchSpace, canonical, count_architectures, parse_space

NAMES = list(CONTROLLERS)
# Controllers whose whole state is their state_dict (the Optuna study lives in its storage, and a
# resumed study samples with a fresh seed, so it continues the search without replaying it).
STATE_IN_DICT = [name for name in NAMES if name != "optuna"]

NDCG = Objectives.from_specs([ObjectiveSpec(metric="ndcg@20")])
SIX = parse_space(
    {"embedding_dim": [8, 16], "num_layers": 1, "layers": {"conv": ["lightgcn", "gcn", "sage"]}}
)
WIDE = parse_space(
    {
        "embedding_dim": [8, 16, 32],
        "num_layers": [1, 2],
        "layers": {
            "conv": ["lightgcn", "gcn", "sage", "gat"],
            "heads": {"type": "choice", "values": [1, 2], "when": {"conv": ["gat"]}},
        },
    }
)


def make(
    name: str, space: SearchSpace = WIDE, seed: int = 0, run_dir: Path | None = None, resume: bool = False
) -> Controller:
    """The controller ``name`` as a search builds it, with a population small enough for these spaces."""
    settings = SearchSettings(
        controller=name, max_trials=50, evolution=EvolutionSpec(population=3, tournament_size=2)
    )
    return build_controller(settings, space, NDCG, seed, Budget(), run_dir, resume=resume)


def result(controller: Controller, candidate: Candidate) -> TrialResult:
    return synthetic_evaluate(controller.space, controller.objectives)([candidate])[0]


def play(controller: Controller, rounds: int, width: int = 2) -> list[Candidate]:
    """``rounds`` of ask(width), then tell each asked candidate its result; everything asked, in order."""
    asked: list[Candidate] = []
    for _ in range(rounds):
        batch = controller.ask(width)
        assert len(batch) <= width
        asked += batch
        for candidate in batch:
            controller.tell(candidate, result(controller, candidate))
    return asked


def keys(candidates: Sequence[Candidate]) -> list[tuple[int, tuple[object, ...], Budget, str]]:
    return [(c.trial, c.genotype, c.budget, c.origin) for c in candidates]


@pytest.mark.parametrize("name", NAMES)
def test_asks_canonical_candidates_numbered_in_order(name: str) -> None:
    controller = make(name)
    assert controller.ask(0) == []
    asked = play(controller, rounds=6)
    assert len(asked) >= 6
    assert [c.trial for c in asked] == list(range(len(asked)))
    assert all(canonical(WIDE, c.genotype) == c.genotype for c in asked)
    assert all(c.budget == Budget() and c.stage == "search" for c in asked)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_asks_other_seed_differs(name: str) -> None:
    first, again, other = (keys(play(make(name, seed=seed), rounds=6)) for seed in (3, 3, 4))
    assert first == again
    assert [k[1] for k in first] != [k[1] for k in other]


@pytest.mark.parametrize("name", NAMES)
def test_restored_from_a_checkpoint_it_asks_the_same_next(name: str, tmp_path: Path) -> None:
    """Two controllers restored from one checkpoint (with its run folder as it was) ask the same
    candidates next, beginning with the ones in flight when the state was saved."""
    run_dir, saved = tmp_path / "run", tmp_path / "saved"
    controller = make(name, run_dir=run_dir)
    play(controller, rounds=3)
    asked = controller.ask(2)
    for candidate in asked[:-1]:
        controller.tell(candidate, result(controller, candidate))
    in_flight = asked[-1:]
    state = json.loads(json.dumps(controller.state_dict(), allow_nan=False))
    if run_dir.exists():
        shutil.copytree(run_dir, saved)

    nexts = []
    for _ in range(2):
        if saved.exists():
            shutil.rmtree(run_dir)
            shutil.copytree(saved, run_dir)
        restored = make(name, seed=0, run_dir=run_dir, resume=True)
        restored.load_state_dict(json.loads(json.dumps(state)))
        nexts.append(play(restored, rounds=3))
    assert keys(nexts[0]) == keys(nexts[1])
    assert in_flight and keys(nexts[0][:1]) == keys(in_flight)


@pytest.mark.parametrize("name", STATE_IN_DICT)
def test_restored_it_continues_as_if_never_stopped(name: str) -> None:
    controller = make(name, seed=5)
    play(controller, rounds=3)
    in_flight = controller.ask(2)
    state = json.loads(json.dumps(controller.state_dict(), allow_nan=False))
    restored = make(name, seed=123)  # the seed is in the state
    restored.load_state_dict(state)
    for candidate in in_flight:
        controller.tell(candidate, result(controller, candidate))
    assert keys(restored.ask(2)) == keys(in_flight)
    for candidate in in_flight:
        restored.tell(candidate, result(restored, candidate))
    assert keys(play(restored, rounds=4)) == keys(play(controller, rounds=4))


@pytest.mark.parametrize("name", NAMES)
def test_no_architecture_is_trained_twice(name: str) -> None:
    """A repeat that a controller asks is told the earlier result (the loop's cache), never retrained."""
    controller = make(name, space=SIX)
    trained: list[tuple[object, Budget]] = []
    told: list[int] = []
    inner = synthetic_evaluate(SIX, NDCG)

    def evaluate(candidates: Sequence[Candidate]) -> Sequence[TrialResult]:
        trained.extend((c.genotype, c.budget) for c in candidates)
        return inner(candidates)

    drive(controller, inline(evaluate, 4), max_trials=20, on_result=lambda c, r, _: told.append(c.trial))
    assert len(trained) == len(set(trained))
    assert sorted(told) == list(range(len(told)))  # every candidate handed out was told, once


@pytest.mark.parametrize("name", NAMES)
def test_a_finite_space_ends_the_search_after_every_architecture_once(name: str) -> None:
    """When every architecture was tried the search stops by itself, well before ``max_trials``: the
    controller says it is finished (``finished_reason``), or it only asks repeats and the loop stops
    with ``no new candidates``."""
    controller = make(name, space=SIX)
    trained: list[tuple[object, ...]] = []
    state = drive(
        controller,
        inline(synthetic_evaluate(SIX, NDCG), 2),
        max_trials=50,
        on_result=lambda c, r, source: source is None and trained.append(c.genotype),
    )
    assert sorted(trained) == sorted(set(trained)) and len(trained) == count_architectures(SIX)
    expected = controller.finished_reason if controller.finished else "no new candidates"
    assert state.stop_reason == expected and state.trained == len(trained)

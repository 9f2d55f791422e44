"""Regularized (aging) evolution on the synthetic objective: it beats random search, keeps every slot
busy (no generation boundary), ages its population, resumes exactly and handles several objectives."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from synthetic_search import inline, synthetic_evaluate

from gnas.errors import GnasError
from gnas.search.candidate import Candidate, TrialResult
from gnas.search.controllers.pareto import dominates
from gnas.search.controllers.random import RandomController
from gnas.search.controllers.regularized import RegularizedEvolutionController
from gnas.search.driver import DriveState, drive
from gnas.search.objectives import Objectives
from gnas.search.settings import EvolutionSpec, ObjectiveSpec
from gnas.space import load_search_file

ROOT = Path(__file__).resolve().parent.parent
GAT = load_search_file(ROOT / "search_spaces" / "gat.yaml").space
NDCG = Objectives.from_specs([ObjectiveSpec(metric="ndcg@20")])
TWO = Objectives.from_specs(
    [ObjectiveSpec(metric="ndcg@20"), ObjectiveSpec(metric="params", direction="minimize")]
)


def aging(seed: int = 0, objectives: Objectives = NDCG, **settings: int) -> RegularizedEvolutionController:
    spec = EvolutionSpec(**{"population": 8, "tournament_size": 3, **settings})
    return RegularizedEvolutionController(GAT, objectives, seed, spec)


def run(
    controller: RegularizedEvolutionController | RandomController, trials: int, slots: int = 1
) -> list[tuple[Candidate, TrialResult]]:
    told: list[tuple[Candidate, TrialResult]] = []
    evaluate = synthetic_evaluate(GAT, controller.objectives)
    drive(
        controller, inline(evaluate, slots), max_trials=trials, on_result=lambda c, r, _: told.append((c, r))
    )
    return told


def best(told: list[tuple[Candidate, TrialResult]]) -> float:
    return max(r.values[0] for _, r in told if r.status == "ok")


def test_beats_random_search_at_equal_budget() -> None:
    evolved = [best(run(aging(seed), 48)) for seed in range(8)]
    randoms = [best(run(RandomController(GAT, NDCG, seed), 48)) for seed in range(8)]
    assert statistics.mean(evolved) > statistics.mean(randoms)
    assert sum(e >= r for e, r in zip(evolved, randoms, strict=True)) >= 6


def test_free_slots_get_children_before_the_first_population_is_all_told() -> None:
    controller = aging(population=4)
    first = controller.ask(4)
    assert [c.origin for c in first] == ["sample"] * 4 and controller.ask(2) == []  # nothing to breed yet
    evaluate = synthetic_evaluate(GAT, NDCG)
    controller.tell(first[0], evaluate([first[0]])[0])
    children = controller.ask(2)  # three still in flight: no waiting for them
    assert [c.origin for c in children] == ["offspring"] * 2
    assert all(c.genotype != first[0].genotype for c in children)


def test_the_oldest_member_leaves() -> None:
    controller = aging(population=4)
    told = run(controller, 10)
    assert [m.genotype for m in controller.population] == [c.genotype for c, _ in told[-4:]]


def test_restored_from_any_checkpoint_it_continues_identically() -> None:
    """With three slots, restored from the state saved after any ask or tell (trials in flight
    included), the rest of the search is the one the uninterrupted run made."""
    evaluate = synthetic_evaluate(GAT, NDCG)
    told: list[tuple[Candidate, TrialResult, int | None]] = []
    checkpoints: list[tuple[int, dict[str, Any]]] = []
    controller = aging(seed=3)
    drive(
        controller,
        inline(evaluate, 3),
        max_trials=30,
        on_result=lambda c, r, source: told.append((c, r, source)),
        on_change=lambda: checkpoints.append((len(told), json.loads(json.dumps(controller.state_dict())))),
    )
    for done, state in (checkpoints[4], checkpoints[len(checkpoints) // 2], checkpoints[-7]):
        resumed = aging(seed=99)
        resumed.load_state_dict(state)
        before = DriveState()
        for candidate, result, source in told[:done]:
            if source is None:
                before.cache.setdefault((candidate.genotype, candidate.budget), (candidate.trial, result))
                before.trained += 1
        after: list[tuple[Candidate, TrialResult, int | None]] = []
        drive(
            resumed,
            inline(evaluate, 3),
            max_trials=30,
            state=before,
            on_result=lambda c, r, source, out=after: out.append((c, r, source)),
        )
        assert told[:done] + after == told


def test_several_objectives_keep_a_non_dominated_front() -> None:
    controller = aging(seed=1, objectives=TWO)
    told = run(controller, 40)
    front = controller.pareto_front()
    assert front and all(not dominates(a[1], b[1], TWO.weights) for a in front for b in front)
    values = [r.values for _, r in told]
    assert all(not any(dominates(v, p[1], TWO.weights) for v in values) for p in front)


def test_the_parent_is_the_best_of_its_tournament() -> None:
    controller = aging(population=5, tournament_size=5)  # the tournament is the whole population
    run(controller, 5)
    best_member = max(controller.population, key=lambda m: m.values or (float("-inf"),))
    assert all(controller._parent() == best_member.genotype for _ in range(20))


def test_tournament_larger_than_population_is_refused() -> None:
    with pytest.raises(GnasError, match="tournament_size"):
        aging(population=3, tournament_size=4)

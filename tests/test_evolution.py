"""The DEAP evolution controller on the synthetic objective: population sizes, selection quality (vs
random search), NSGA-II fronts, elitism, resume and multi-fidelity (seeds, dedup and the state round
trip every controller keeps are in ``test_controller_conformance.py``)."""

from __future__ import annotations

import json
import random
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from synthetic_search import inline, synthetic_evaluate

from gnas.errors import GnasError
from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.base import Controller
from gnas.search.controllers.evolution import EvolutionController, seed_genotypes
from gnas.search.controllers.pareto import dominates, hypervolume_2d, update_front
from gnas.search.controllers.random import RandomController
from gnas.search.controllers.registry import build_controller
from gnas.search.controllers.selection import fitness_class, individuals, private_random, sel_nsga2_tournament
from gnas.search.driver import drive
from gnas.search.objectives import Objectives
from gnas.search.settings import EvolutionSpec, FidelitySpec, ObjectiveSpec, SearchSettings
from gnas.space import SearchSpace, decode, load_search_file, parse_space

ROOT = Path(__file__).resolve().parent.parent
QUICK = load_search_file(ROOT / "bench" / "spaces" / "quickstart504.yaml").space
GAT = load_search_file(ROOT / "search_spaces" / "gat.yaml").space
NDCG = Objectives.from_specs([ObjectiveSpec(metric="ndcg@20")])
TWO = Objectives.from_specs(
    [ObjectiveSpec(metric="ndcg@20"), ObjectiveSpec(metric="params", direction="minimize")]
)
Evaluate = Callable[[Sequence[Candidate]], Sequence[TrialResult]]


def spec(**changes: Any) -> EvolutionSpec:
    return EvolutionSpec(**{"mutation": "gene", **changes})


def evolution(
    space: SearchSpace = QUICK,
    objectives: Objectives = NDCG,
    seed: int = 0,
    generations: int | None = None,
    fidelity: FidelitySpec | None = None,
    full: Budget = Budget(),  # noqa: B008 (frozen)
    **changes: Any,
) -> EvolutionController:
    return EvolutionController(
        space, objectives, seed, spec(**changes), fidelity or FidelitySpec(), generations, full
    )


def run(
    controller: Controller,
    evaluate: Evaluate | None = None,
    parallel: int = 1,
    max_trials: int | None = None,
) -> list[tuple[Candidate, TrialResult]]:
    """Drive to the end; every (candidate, result) told, in order."""
    told: list[tuple[Candidate, TrialResult]] = []
    evaluate = evaluate or synthetic_evaluate(controller.space, controller.objectives)
    drive(
        controller,
        inline(evaluate, parallel),
        max_trials=max_trials,
        on_result=lambda c, r, _: told.append((c, r)),
    )
    return told


def best_value(told: list[tuple[Candidate, TrialResult]]) -> float:
    return max(r.values[0] for _, r in told if r.status == "ok")


# --- mechanics --------------------------------------------------------------------------------------


def test_the_search_stops_after_the_last_generation() -> None:
    controller = evolution(generations=2)
    evaluate = synthetic_evaluate(controller.space, controller.objectives)
    state = drive(controller, inline(evaluate), max_trials=1000)
    assert state.stop_reason == "generations" and controller.generation == 2
    assert state.trained < 1000


@pytest.mark.parametrize("objectives", [NDCG, TWO], ids=["tournament", "nsga2"])
@pytest.mark.parametrize("size", [2, 5, 7, 8])
def test_population_sizes(objectives: Objectives, size: int) -> None:
    controller = evolution(objectives=objectives, generations=3, population=size, seed=size)
    told = run(controller, parallel=3)
    assert controller.finished and controller.generation == 3
    assert len(controller.population) == size
    assert len({m.genotype for m in controller.population}) == size
    origins = [c.origin for c, _ in told]
    assert origins[:size] == ["sample"] * size
    assert size * 3 - 2 <= origins.count("offspring") <= size * 3  # a duplicate child may be dropped


def test_ask_waits_for_the_whole_generation() -> None:
    controller = evolution(population=4)
    evaluate = synthetic_evaluate(QUICK, NDCG)
    batch = controller.ask(10)
    assert len(batch) == 4 and controller.ask(1) == []
    for candidate, result in zip(batch[:3], evaluate(batch[:3]), strict=True):
        controller.tell(candidate, result)
    assert controller.ask(1) == [] and controller.generation == 0
    controller.tell(batch[3], evaluate(batch[3:])[0])
    children = controller.ask(10)
    assert controller.generation == 1 and {c.origin for c in children} == {"offspring"}
    assert [c.trial for c in children] == list(range(4, 4 + len(children)))


def test_seed_points() -> None:
    controller = evolution(seed_points=["lightgcn"], population=4)
    first = controller.ask(10)
    assert first[0].origin == "seed" and decode(QUICK, first[0].genotype).num_layers == 3
    assert len(first) == 4 and len({c.genotype for c in first}) == 4
    gcn_only = parse_space({"num_layers": 2, "layers": {"conv": ["gcn", "sage"]}})
    with pytest.raises(GnasError, match=r"search\.evolution\.seed_points: 'lightgcn' is not in the space"):
        seed_genotypes(gcn_only, ["lightgcn"])
    with pytest.raises(GnasError, match=r"search\.evolution\.seed_points: unknown point 'nope'"):
        evolution(seed_points=["nope"])


def test_unknown_operator_names_the_setting() -> None:
    with pytest.raises(GnasError, match=r"search\.evolution\.mutation: .*'flip'.*gene"):
        evolution(mutation="flip")
    with pytest.raises(GnasError, match=r"search\.evolution\.crossover: .*'twopoint'"):
        evolution(crossover="twopoint")


def test_registry_builds_evolution() -> None:
    settings = SearchSettings(controller="evolution", generations=2, evolution=spec(population=3))
    controller = build_controller(settings, QUICK, NDCG, 7, Budget(), None)
    assert isinstance(controller, EvolutionController)
    assert controller.generations == 2 and len(controller.ask(10)) == 3


# --- quality ----------------------------------------------------------------------------------------


def test_improves_on_generation_zero_and_beats_random() -> None:
    evolved, randoms = [], []
    for seed in range(4):
        told = run(evolution(GAT, seed=seed, population=8), max_trials=64)
        assert best_value(told) > best_value(told[:8])
        evolved.append(best_value(told))
        randoms.append(best_value(run(RandomController(GAT, NDCG, seed), max_trials=64)))
    assert statistics.mean(evolved) > statistics.mean(randoms) + 0.01


def front_of(values: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    return [v for v in values if not any(dominates(w, v, TWO.weights) for w in values)]


def test_nsga2_front_hypervolume_beats_random() -> None:
    reference = (0.0, 1.0e6)
    evolved, randoms = [], []
    for seed in range(4):
        controller = evolution(GAT, TWO, seed=seed, population=8)
        told = run(controller, max_trials=64)
        front = [v for _, v in controller.pareto_front()]
        distinct = {c.genotype: r.values for c, r in told}
        assert sorted(front) == sorted(front_of(list(distinct.values())))
        evolved.append(hypervolume_2d(front, TWO.weights, reference))
        random_told = run(RandomController(GAT, TWO, seed), max_trials=64)
        randoms.append(hypervolume_2d([r.values for _, r in random_told], TWO.weights, reference))
    assert statistics.mean(evolved) > statistics.mean(randoms)
    assert sum(e >= r for e, r in zip(evolved, randoms, strict=True)) >= 3


def test_elitism_best_never_lost() -> None:
    controller = evolution(GAT, seed=1, population=5, offspring=7, generations=6)
    bests: list[float] = []
    evaluate = synthetic_evaluate(GAT, NDCG)

    def on_told() -> None:
        if controller.population:
            bests.append(max(m.values[0] for m in controller.population if m.values))

    drive(controller, inline(evaluate), on_change=on_told)
    assert len(set(bests)) > 1 and bests == sorted(bests)
    assert controller.best()[0][1][0] == bests[-1]
    assert controller.best()[0][0] in {m.genotype for m in controller.population}
    assert len(controller.best()) == 5


def failing(objectives: Objectives) -> Evaluate:
    """The synthetic objective, except that layers starting with attention (its optimum) fail."""
    inner = synthetic_evaluate(GAT, objectives)

    def evaluate(candidates: Sequence[Candidate]) -> list[TrialResult]:
        results = []
        for candidate, result in zip(candidates, inner(candidates), strict=True):
            failed = decode(GAT, candidate.genotype).layers[0].conv in ("gat", "gatv2")
            results.append(TrialResult("failed", error="boom") if failed else result)
        return results

    return evaluate


def test_failed_results_never_win() -> None:
    for objectives in (NDCG, TWO):
        controller = evolution(GAT, objectives, seed=2, population=6, generations=4)
        told = run(controller, failing(objectives))
        failed = {c.genotype for c, r in told if r.status == "failed"}
        assert failed
        chosen = {g for g, _ in controller.best()} | {g for g, _ in controller.pareto_front()}
        assert chosen and not chosen & failed
        survivors = [m for m in controller.population if m.genotype in failed]
        assert len(controller.population) - len(survivors) >= min(6, len(told) - len(failed))


# --- resume -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fidelity", [False, True], ids=["plain", "fidelity"])
def test_state_round_trip_continues_identically(fidelity: bool) -> None:
    def make() -> EvolutionController:
        return evolution(
            GAT, TWO, seed=5, population=5, generations=3, fidelity=FidelitySpec(enabled=fidelity)
        )

    whole = [c for c, _ in run(make(), parallel=2)]
    first = make()
    before = [c for c, _ in run(first, parallel=2, max_trials=13)]
    state = json.loads(json.dumps(first.state_dict(), allow_nan=False))
    resumed = make()
    random.seed(99)  # the global RNG is not the controller's
    resumed.load_state_dict(state)
    after = [c for c, _ in run(resumed, parallel=2)]
    assert 0 < len(before) < len(whole)
    assert before + after == whole


def test_deap_runs_on_the_controller_rng_only() -> None:
    random.seed(1)
    expected = [random.random() for _ in range(3)]
    random.seed(1)
    run(evolution(QUICK, TWO, population=5, generations=2))
    assert [random.random() for _ in range(3)] == expected
    rng = random.Random(4)
    with private_random(rng):
        drawn = random.random()
    assert drawn == random.Random(4).random() and rng.random() == _second(4)


def _second(seed: int) -> float:
    rng = random.Random(seed)
    rng.random()
    return rng.random()


# --- multi-fidelity ---------------------------------------------------------------------------------


def test_successive_halving_inside_each_generation() -> None:
    fidelity = FidelitySpec(enabled=True, min_epochs=2, promote=0.5)
    controller = evolution(seed=6, population=6, generations=2, fidelity=fidelity, full=Budget(epochs=10))
    told = run(controller, parallel=4)
    low, full = Budget(epochs=2), Budget(epochs=10)
    assert {c.budget for c, _ in told} == {low, full}
    assert all((c.budget == full) == (c.origin == "promote") for c, _ in told)
    assert all(r.epochs == c.budget.epochs for c, r in told)
    blocks = _phases(told)
    assert len(blocks) == 6  # 3 generations, each low then full
    for low_block, full_block in zip(blocks[::2], blocks[1::2], strict=True):
        assert {c.budget for c, _ in low_block} == {low} and {c.budget for c, _ in full_block} == {full}
        assert len(full_block) == (len(low_block) + 1) // 2  # ceil(0.5 * n)
        ranked = sorted(low_block, key=lambda cr: -cr[1].values[0])
        assert {c.genotype for c, _ in full_block} == {c.genotype for c, _ in ranked[: len(full_block)]}
        assert min(c.trial for c, _ in full_block) > max(c.trial for c, _ in low_block)
    promoted = {c.genotype for c, _ in told if c.budget == full}
    assert {g for g, _ in controller.best()} <= promoted
    assert len(controller.population) == 6  # not promoted ones stay, ranked below promoted ones
    tiers = [m.full for m in controller.population]
    assert tiers == sorted(tiers, reverse=True) and tiers[0]


def _phases(told: list[tuple[Candidate, TrialResult]]) -> list[list[tuple[Candidate, TrialResult]]]:
    blocks: list[list[tuple[Candidate, TrialResult]]] = []
    for item in told:
        if blocks and blocks[-1][-1][0].budget == item[0].budget:
            blocks[-1].append(item)
        else:
            blocks.append([item])
    return blocks


def test_promote_at_least_one() -> None:
    fidelity = FidelitySpec(enabled=True, min_epochs=1, promote=0.01)
    told = run(evolution(seed=2, population=3, generations=1, fidelity=fidelity))
    assert [c.origin for c, _ in told].count("promote") == 2  # one per generation


# --- helpers ----------------------------------------------------------------------------------------


def test_pareto_front_matches_brute_force() -> None:
    rng = random.Random(0)
    points = [((i,), (rng.random(), float(rng.randrange(10)))) for i in range(60)]
    front: list[Any] = []
    for point in points:
        front = update_front(front, point, TWO.weights)
    values = [v for _, v in points]
    assert sorted(v for _, v in front) == sorted(front_of(values))


def test_hypervolume_2d() -> None:
    # maximise x, minimise y; reference (0, 10): boxes 2x(10-4) + (3-2)x(10-6) = 12 + 4
    points = [(2.0, 4.0), (3.0, 6.0), (1.0, 5.0), (5.0, 20.0)]
    assert hypervolume_2d(points, (1.0, -1.0), (0.0, 10.0)) == pytest.approx(16.0)
    assert hypervolume_2d([], (1.0, -1.0), (0.0, 10.0)) == 0.0


@pytest.mark.parametrize("size", [1, 2, 3, 5, 6, 7, 9])
def test_nsga2_parent_selection_any_size(size: int) -> None:
    fitness = fitness_class(TWO.weights)
    rng = random.Random(size)
    pool = individuals([((rng.random(), rng.random()), 0) for _ in range(size)], fitness)
    for k in (1, size, 2 * size + 1):
        with private_random(rng):
            chosen = sel_nsga2_tournament(pool, k)
        assert len(chosen) == k and all(ind in pool for ind in chosen)


def test_tiers_rank_full_above_low_above_failed() -> None:
    fitness = fitness_class(TWO.weights)
    made = individuals([((0.1, 9.0), 0), ((0.9, 1.0), 1), (None, 2), ((0.5, 5.0), 0)], fitness)
    full, low, failed, other = (ind.fitness for ind in made)
    assert full.dominates(low) and other.dominates(low) and low.dominates(failed)

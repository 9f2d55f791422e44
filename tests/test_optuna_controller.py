"""The Optuna controller on the synthetic objective: conditional spaces, samplers, pruners, storage, resume.

SQLite commits once per suggestion, so the storage tests keep to a few trials."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import optuna
import pytest
from hypothesis import HealthCheck, given, settings
from optuna.trial import TrialState
from space_helpers import space_dicts
from synthetic_search import inline, synthetic_evaluate

from gnas.errors import GnasError
from gnas.search.candidate import Budget, Candidate, TrialResult
from gnas.search.controllers.optuna import OptunaController
from gnas.search.controllers.optuna_space import optuna_params, suggest_genotype, suggest_value
from gnas.search.controllers.registry import build_controller
from gnas.search.driver import drive
from gnas.search.objectives import Objectives
from gnas.search.settings import ObjectiveSpec, OptunaSpec, SearchSettings
from gnas.space import FILLER, SearchSpace, canonical, decode, load_search_file, parse_space

ROOT = Path(__file__).resolve().parents[1]
GAT = load_search_file(ROOT / "search_spaces/gat.yaml").space
QUICK = load_search_file(ROOT / "bench/spaces/quickstart504.yaml").space
NDCG = Objectives.from_specs([ObjectiveSpec(metric="ndcg@20")])
TWO = Objectives.from_specs(
    [ObjectiveSpec(metric="ndcg@20"), ObjectiveSpec(metric="params", direction="minimize")]
)


def controller(
    seed: int = 0,
    space: SearchSpace = GAT,
    objectives: Objectives = NDCG,
    storage: str | None = None,
    **spec: Any,
) -> OptunaController:
    return OptunaController(space, objectives, seed, OptunaSpec(**spec), storage, "test")


def run(ctl: OptunaController, trials: int, parallel: int = 1) -> list[tuple[Candidate, TrialResult]]:
    told: list[tuple[Candidate, TrialResult]] = []
    evaluate = synthetic_evaluate(ctl.space, ctl.objectives)
    drive(ctl, inline(evaluate, parallel), max_trials=trials, on_result=lambda c, r, _: told.append((c, r)))
    return told


def handed_out(trials: Sequence[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    """The study's trials that became gnas trials (not the repeats told FAIL as duplicates)."""
    return [t for t in trials if "gnas_trial" in t.user_attrs]


def mattering(space: SearchSpace, genotype: Sequence[Any]) -> set[str]:
    """Keys of the genes a canonical genotype fixes that the space varies (null fillers excluded)."""
    return {
        param.key
        for param, gene in zip(space.params, genotype, strict=True)
        if gene is not FILLER and space.is_varying(param)
    }


def suggested_matches(space: SearchSpace, trial: optuna.trial.FrozenTrial, genotype: Sequence[Any]) -> bool:
    """Every gene that matters was suggested, and every suggestion is a gene that matters (or a null)."""
    suggested = set(trial.params)
    null = {key for key in suggested if trial.params[key] is None}
    return mattering(space, genotype) <= suggested and suggested - null <= mattering(space, genotype)


@pytest.mark.parametrize("space", [GAT, QUICK], ids=["gat", "quickstart"])
def test_asked_genotypes_are_canonical_and_only_active_genes_are_suggested(space: SearchSpace) -> None:
    ctl = controller(space=space, sampler="tpe")
    told = run(ctl, 30, parallel=3)
    assert len(told) == 30  # no repeat handed out, so none answered from the cache
    trials = {t.user_attrs["gnas_trial"]: t for t in handed_out(ctl.study.get_trials())}
    for candidate, _ in told:
        assert canonical(space, candidate.genotype) == candidate.genotype
        arch = decode(space, candidate.genotype)
        trial = trials[candidate.trial]
        assert trial.user_attrs["genotype"] == list(candidate.genotype)
        assert suggested_matches(space, trial, candidate.genotype)
        assert f"layers[{arch.num_layers}].conv" not in trial.params  # beyond num_layers: never asked
        for index, layer in enumerate(arch.layers):
            attention = layer.conv in ("gat", "gatv2")
            assert (f"layers[{index}].heads" in trial.params) == attention  # `when: {conv: ...}`


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(space_dicts())
def test_random_spaces_suggest_exactly_the_genes_that_matter(space_dict: dict[str, Any]) -> None:
    space = parse_space(space_dict)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(8):
        trial = study.ask()
        genotype = suggest_genotype(space, partial(suggest_value, trial))
        assert canonical(space, genotype) == genotype
        study.tell(trial, 0.0)
        assert suggested_matches(space, study.trials[-1], genotype)


def test_tpe_beats_random_at_equal_budgets() -> None:
    best: dict[str, list[float]] = {"tpe": [], "random": []}
    late: dict[str, list[float]] = {"tpe": [], "random": []}
    for sampler in best:
        for seed in range(3):
            values = [r.values[0] for _, r in run(controller(seed, sampler=sampler), 30)]
            best[sampler].append(max(values))
            late[sampler].append(statistics.mean(values[15:]))
    assert statistics.mean(best["tpe"]) > statistics.mean(best["random"])
    assert statistics.mean(late["tpe"]) > statistics.mean(late["random"]) + 0.05  # it learned


def test_nsga2_two_objectives_returns_a_pareto_front() -> None:
    ctl = controller(objectives=TWO, sampler="nsga2")
    run(ctl, 70)
    done = [t for t in ctl.study.trials if t.state == TrialState.COMPLETE]
    front = ctl.study.best_trials
    assert len(done) == 70 and len(front) >= 2

    def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
        return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])

    for trial in front:
        assert not any(dominates(other.values, trial.values) for other in done)
    assert max(t.values[0] for t in front) == max(t.values[0] for t in done)
    assert min(t.values[1] for t in front) == min(t.values[1] for t in done)  # params minimised


@pytest.mark.parametrize("sampler", ["nsga3", "cmaes", "random"])
def test_other_samplers_propose_canonical_genotypes(sampler: str) -> None:
    told = run(controller(sampler=sampler), 8)
    assert len({c.genotype for c, _ in told}) > 1
    assert all(canonical(GAT, c.genotype) == c.genotype and c.origin == sampler for c, _ in told)


def test_bad_combinations_fail_in_one_line() -> None:
    with pytest.raises(GnasError, match="single objective"):
        controller(objectives=TWO, sampler="cmaes")
    with pytest.raises(GnasError, match="single objective"):
        controller(objectives=TWO, pruner="median")


@pytest.mark.parametrize("pruner", ["median", "successive_halving", "hyperband"])
def test_pruner_prunes_decreasing_curves(pruner: str) -> None:
    ctl = controller(pruner=pruner, sampler="random")

    def evaluate(candidates: Sequence[Candidate]) -> list[TrialResult]:
        results = []
        for candidate in candidates:
            curve = []
            for step in range(9):  # each trial worse than the last, at every step
                curve.append(1.0 - 0.05 * candidate.trial - 0.01 * step)
                if ctl.should_prune(candidate, step, curve[-1]):
                    results.append(TrialResult("pruned", curve=tuple(curve)))
                    break
            else:
                results.append(TrialResult("ok", {"ndcg@20": curve[-1]}, (curve[-1],), curve=tuple(curve)))
        return results

    drive(ctl, inline(evaluate), max_trials=14)
    states = [t.state for t in ctl.study.trials]
    assert states[0] == TrialState.COMPLETE
    assert TrialState.PRUNED in states
    pruned = next(t for t in ctl.study.trials if t.state == TrialState.PRUNED)
    assert 0 < len(pruned.intermediate_values) < 9


def test_multi_objective_never_prunes() -> None:
    ctl = controller(objectives=TWO)
    (candidate,) = ctl.ask(1)
    assert not any(ctl.should_prune(candidate, step, 0.0) for step in range(5))


def test_sqlite_storage_holds_the_told_trials(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'run' / 'study.db'}"
    ctl = controller(space=QUICK, storage=url)
    assert not (tmp_path / "run").exists()  # nothing is written before the first trial
    told = run(ctl, 4)
    assert (tmp_path / "run" / "study.db").is_file()
    study = optuna.load_study(study_name="test", storage=url)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * len(told)
    for trial, (candidate, result) in zip(study.trials, told, strict=True):
        assert trial.values == list(result.values)
        assert trial.user_attrs["genotype"] == list(candidate.genotype)
        assert trial.user_attrs["metrics"]["params"] == result.metrics["params"]
    with pytest.raises(GnasError, match="other objective directions"):
        controller(space=QUICK, objectives=TWO, storage=url).ask(1)  # same name, another search


def test_failed_results_are_failed_trials() -> None:
    ctl = controller()
    first, second = ctl.ask(2)
    ctl.tell(first, TrialResult("failed", error="out of memory"))
    ctl.tell(second, TrialResult("infeasible", {"params": 1e9}))
    assert [t.state for t in ctl.study.trials] == [TrialState.FAIL, TrialState.FAIL]
    assert ctl.study.trials[0].user_attrs["error"] == "out of memory"
    with pytest.raises(ValueError, match="already told"):
        ctl.tell(first, TrialResult("failed"))


def test_state_round_trip_continues_the_same_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = controller(space=QUICK, storage=url)
    before = run(first, 3)
    out = first.ask(3)
    state = json.loads(json.dumps(first.state_dict()))
    first.tell(out[2], TrialResult("ok", {"ndcg@20": 0.3}, (0.3,)))  # told after the checkpoint

    second = controller(space=QUICK, storage=url)
    second.load_state_dict(state)
    assert second.pending == out[:2]  # the one told since is not pending twice
    second.tell(out[0], TrialResult("ok", {"ndcg@20": 0.2}, (0.2,)))
    second.tell(out[1], TrialResult("failed"))
    after = run(second, 3)
    count = 6 + len(after)

    trials = optuna.load_study(study_name="test", storage=url).trials
    assert all(t.state.is_finished() for t in trials)
    assert all("duplicate_of" in t.user_attrs for t in trials if "gnas_trial" not in t.user_attrs)
    assert [c.trial for c, _ in after] == list(range(6, count))
    assert [t.user_attrs["gnas_trial"] for t in handed_out(trials)] == list(range(count))
    assert [c.genotype for c, _ in after] != [c.genotype for c, _ in before]  # the sampler does not replay


def test_in_memory_study_cannot_be_resumed() -> None:
    state = controller().state_dict()
    with pytest.raises(GnasError, match="in-memory"):
        controller().load_state_dict(state)


def test_registry_keeps_the_study_in_the_run_folder(tmp_path: Path) -> None:
    search = SearchSettings(controller="optuna", optuna=OptunaSpec(sampler="random"))
    ctl = build_controller(search, QUICK, NDCG, 0, Budget(), tmp_path / "run-7")
    assert isinstance(ctl, OptunaController)
    ctl.ask(1)
    assert optuna.load_study(study_name="run-7", storage=f"sqlite:///{tmp_path / 'run-7' / 'study.db'}")


SIX = parse_space(
    {"embedding_dim": [8, 16], "num_layers": 1, "layers": {"conv": ["lightgcn", "gcn", "sage"]}}
)


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_a_repeat_is_failed_and_an_untried_neighbour_handed_out(sampler: str) -> None:
    ctl = controller(space=QUICK, sampler=sampler)
    told = run(ctl, 60)
    genotypes = [c.genotype for c, _ in told]
    assert len(set(genotypes)) == len(genotypes) == 60  # nothing handed out twice, no trial wasted
    repeats = [t for t in ctl.study.trials if "duplicate_of" in t.user_attrs]
    assert repeats  # 60 of 504 architectures: the samplers do repeat themselves
    by_trial = {c.trial: c for c, _ in told}
    for repeat in repeats:
        assert repeat.state == TrialState.FAIL
        assert "gnas_trial" not in repeat.user_attrs
        earlier = by_trial[repeat.user_attrs["duplicate_of"]]
        assert suggest_genotype(QUICK, lambda param, r=repeat: r.params[param.key]) == earlier.genotype
    neighbours = [c for c, _ in told if c.origin == "neighbour"]
    assert len(neighbours) == len(repeats)


ONE_LAYER = parse_space(
    {
        "embedding_dim": [8, 16, 32, 64],
        "num_layers": 1,
        "combine": ["mean", "last", "concat"],
        "layers": {"conv": ["lightgcn", "gcn", "sage", "gat"]},
    }
)


BEST_GENES = {"embedding_dim": 64, "combine": "concat", "layers[0].conv": "gat"}
WORSE_GENES = {"embedding_dim": 8, "combine": "last", "layers[0].conv": "lightgcn"}


def hand_out(ctl: OptunaController, genes: dict[str, Any]) -> Candidate:
    """Ask the controller for the architecture with these genes (enqueued as the sampler's next point)."""
    ctl.study.enqueue_trial(genes)
    (candidate,) = ctl.ask(1)
    return candidate


def tell_ok(ctl: OptunaController, candidate: Candidate, quality: float, params: float) -> None:
    metrics = {"ndcg@20": quality, "params": params}
    ctl.tell(candidate, TrialResult("ok", metrics, ctl.objectives.values(metrics)))


def gene_distance(a: Sequence[Any], b: Sequence[Any]) -> int:
    """How many of the three genes of ``ONE_LAYER`` differ."""
    a_genes, b_genes = optuna_params(ONE_LAYER, tuple(a)), optuna_params(ONE_LAYER, tuple(b))
    return sum(a_genes[key] != b_genes[key] for key in BEST_GENES)


@pytest.mark.parametrize("objectives", [NDCG, TWO], ids=["one objective", "two objectives"])
def test_a_repeat_is_replaced_by_a_neighbour_of_the_best_so_far(objectives: Objectives) -> None:
    to_best, to_repeat = 0, 0
    for seed in range(20):
        ctl = controller(seed=seed, space=ONE_LAYER, objectives=objectives, sampler="random")
        best = hand_out(ctl, BEST_GENES)
        tell_ok(ctl, best, quality=0.9, params=1.0)  # better on both objectives
        worse = hand_out(ctl, WORSE_GENES)
        tell_ok(ctl, worse, quality=0.1, params=2.0)
        neighbour = hand_out(ctl, WORSE_GENES)  # the worse one repeated
        assert neighbour.origin == "neighbour"
        assert ctl.study.trials[-1].user_attrs["neighbour_of"] == best.trial
        to_best += gene_distance(neighbour.genotype, best.genotype)
        to_repeat += gene_distance(neighbour.genotype, worse.genotype)
    assert to_best < to_repeat  # walks start at the best (a step moves one gene on average)


def test_before_any_trial_completed_a_repeat_is_replaced_by_its_own_neighbour() -> None:
    ctl = controller(space=ONE_LAYER, sampler="random")
    first = hand_out(ctl, WORSE_GENES)
    ctl.tell(first, TrialResult("failed", error="diverged"))
    assert hand_out(ctl, WORSE_GENES).origin == "neighbour"
    assert ctl.study.trials[-1].user_attrs["neighbour_of"] == first.trial


def test_a_completed_trial_of_another_program_is_not_taken_for_the_best(tmp_path: Path) -> None:
    ctl = controller(space=ONE_LAYER, storage=f"sqlite:///{tmp_path / 'study.db'}", sampler="random")
    ours = hand_out(ctl, WORSE_GENES)
    tell_ok(ctl, ours, quality=0.1, params=1.0)
    ctl.study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=10.0))
    assert hand_out(ctl, WORSE_GENES).origin == "neighbour"
    assert ctl.study.trials[-1].user_attrs["neighbour_of"] == ours.trial


def test_an_exhausted_space_ends_the_search_after_every_architecture_once() -> None:
    ctl = controller(space=SIX)
    trained: list[Candidate] = []
    evaluate = synthetic_evaluate(SIX, NDCG)
    state = drive(
        ctl,
        inline(evaluate),
        max_trials=20,
        on_result=lambda c, r, source: source is None and trained.append(c),
    )
    assert sorted(c.genotype for c in trained) == sorted(set(c.genotype for c in trained))
    assert len(trained) == 6
    assert state.stop_reason == "every architecture tried"  # at once, not after rounds of repeats
    assert len(ctl.study.trials) < 20


def test_a_resumed_study_knows_what_was_tried(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = controller(space=SIX, storage=url)
    before = [c.genotype for c, _ in run(first, 3)]
    second = controller(space=SIX, storage=url)
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    after = [c.genotype for c, _ in run(second, 3)]
    assert len(set(before + after)) == 6


def test_a_resumed_search_evaluates_its_pending_trials_before_the_space_counts_as_tried(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = controller(space=SIX, storage=url)
    asked: list[Candidate] = []
    while len(asked) < 6:
        asked += first.ask(6 - len(asked))
    evaluate = synthetic_evaluate(SIX, NDCG)
    for candidate in asked[:5]:
        first.tell(candidate, evaluate([candidate])[0])
    second = controller(space=SIX, storage=url)
    second.load_state_dict(json.loads(json.dumps(first.state_dict())))
    assert not second.finished
    trained: list[int] = []
    state = drive(second, inline(evaluate), max_trials=20, on_result=lambda c, r, _: trained.append(c.trial))
    assert trained == [asked[5].trial] and state.stop_reason == "every architecture tried"
    assert all(t.state.is_finished() for t in second.study.trials)


def test_trials_asked_after_the_last_checkpoint_are_tried_again_on_resume(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = controller(space=SIX, storage=url)
    before = run(first, 2)
    state = json.loads(json.dumps(first.state_dict()))
    first.ask(2)  # stopped before the next checkpoint: these two never ran
    second = controller(space=SIX, storage=url)
    second.load_state_dict(state)
    after = run(second, 20)
    assert len({c.genotype for c, _ in before + after}) == 6  # every architecture trained


def test_a_new_search_refuses_a_shared_study_that_holds_another_searchs_trials(tmp_path: Path) -> None:
    search = SearchSettings(
        controller="optuna", optuna=OptunaSpec(storage=f"sqlite:///{tmp_path / 'all.db'}")
    )
    first = build_controller(search, QUICK, NDCG, 0, Budget(), tmp_path / "a" / "exp1")
    assert isinstance(first, OptunaController)
    run(first, 2)
    with pytest.raises(GnasError, match="study 'exp1' .* already holds 2 trials of another search"):
        build_controller(search, QUICK, NDCG, 0, Budget(), tmp_path / "b" / "exp1")
    resumed = build_controller(search, QUICK, NDCG, 0, Budget(), tmp_path / "a" / "exp1", resume=True)
    resumed.load_state_dict(first.state_dict())
    assert resumed.next_trial == 2

"""RankingEvaluator against a brute-force NumPy reference, plus parse_metric."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gnas.training.metrics import METRIC_NAMES, RankingEvaluator, parse_metric


def reference(
    scores: np.ndarray,
    heldout: dict[int, set[int]],
    exclude: dict[int, set[int]],
    ks: list[int],
) -> dict[str, float]:
    """LightGCN's metrics by a full stable sort per user, one user at a time."""
    num_users, num_items = scores.shape
    users = [u for u in range(num_users) if heldout.get(u)]
    totals = {f"{name}@{k}": 0.0 for name in METRIC_NAMES for k in ks}
    seen: dict[int, set[int]] = {k: set() for k in ks}
    for u in users:
        row = scores[u].astype(np.float64).copy()
        row[list(exclude.get(u, set()))] = -np.inf
        ranking = np.lexsort((np.arange(num_items), -row))
        relevant = heldout[u] - exclude.get(u, set())
        n = len(heldout[u])
        for k in ks:
            top = ranking[:k]
            seen[k].update(top.tolist())
            hit_ranks = [r for r, item in enumerate(top) if item in relevant]
            hits = len(hit_ranks)
            totals[f"recall@{k}"] += hits / n
            totals[f"precision@{k}"] += hits / k
            totals[f"hitrate@{k}"] += float(hits > 0)
            idcg = sum(1 / math.log2(i + 2) for i in range(min(k, n)))
            totals[f"ndcg@{k}"] += sum(1 / math.log2(r + 2) for r in hit_ranks) / idcg
            totals[f"mrr@{k}"] += 1 / (hit_ranks[0] + 1) if hit_ranks else 0.0
    result = {key: value / len(users) for key, value in totals.items()}
    for k in ks:
        result[f"coverage@{k}"] = len(seen[k]) / num_items
    result["users"] = float(len(users))
    return result


def as_pairs(sets: dict[int, set[int]]) -> tuple[np.ndarray, np.ndarray]:
    users = [u for u, items in sets.items() for _ in items]
    items = [i for s in sets.values() for i in s]
    return np.array(users, dtype=np.int64), np.array(items, dtype=np.int64)


def random_case(
    seed: int, num_users: int, num_items: int, ties: float
) -> tuple[np.ndarray, dict[int, set[int]], dict[int, set[int]]]:
    """Scores, held-out and excluded sets; some users have no held-out items, some many.

    A ``ties`` share of the rows holds integer scores from 0..3, so most items tie; the rest are
    continuous.
    """
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((num_users, num_items)).astype(np.float32)
    tied_rows = rng.random(num_users) < ties
    scores[tied_rows] = rng.integers(0, 4, size=(int(tied_rows.sum()), num_items))
    heldout: dict[int, set[int]] = {}
    exclude: dict[int, set[int]] = {}
    for u in range(num_users):
        items = rng.permutation(num_items)
        n_heldout = int(rng.integers(0, num_items // 2)) if rng.random() > 0.2 else 0
        n_exclude = int(rng.integers(0, num_items // 2))
        if n_heldout:
            heldout[u] = set(items[:n_heldout].tolist())
        if n_exclude:
            exclude[u] = set(items[n_heldout : n_heldout + n_exclude].tolist())
    return scores, heldout, exclude


def check_close(got: dict[str, float], want: dict[str, float]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12), key


def scorer(scores: np.ndarray, calls: list[torch.Tensor] | None = None):
    matrix = torch.from_numpy(scores)

    def score_users(users: torch.Tensor) -> torch.Tensor:
        if calls is not None:
            calls.append(users.clone())
        return matrix[users]

    return score_users


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [0.0, 0.5, 1.0])
def test_matches_reference(seed: int, ties: float) -> None:
    num_users, num_items = 37, 25
    scores, heldout, exclude = random_case(seed, num_users, num_items, ties)
    ks = [1, 3, 10, 40]  # 40 > num_items; held-out sets reach 12 > 1, 3, 10
    assert any(u not in heldout for u in range(num_users))
    assert max(len(s) for s in heldout.values()) > 3
    evaluator = RankingEvaluator(num_users, num_items, as_pairs(heldout), as_pairs(exclude), ks, batch_size=8)
    check_close(evaluator.evaluate(scorer(scores)), reference(scores, heldout, exclude, ks))


def test_matches_reference_without_exclusion() -> None:
    scores, heldout, _ = random_case(11, 20, 30, ties=1.0)
    evaluator = RankingEvaluator(20, 30, as_pairs(heldout), None, [5, 20])
    check_close(evaluator.evaluate(scorer(scores)), reference(scores, heldout, {}, [5, 20]))


def test_batches_only_users_with_heldout_and_match_one_big_batch() -> None:
    num_users, num_items = 50, 40
    scores, heldout, exclude = random_case(3, num_users, num_items, ties=0.5)
    ks = [5, 20]
    results = []
    for batch_size in (1, 7, 1000):
        calls: list[torch.Tensor] = []
        evaluator = RankingEvaluator(
            num_users, num_items, as_pairs(heldout), as_pairs(exclude), ks, batch_size=batch_size
        )
        results.append(evaluator.evaluate(scorer(scores, calls)))
        assert all(len(c) <= batch_size for c in calls)
        assert sorted(torch.cat(calls).tolist()) == sorted(heldout)
    assert results[0]["users"] == len(heldout) < num_users
    check_close(results[0], results[2])
    check_close(results[1], results[2])


def test_hand_computed_example() -> None:
    # Ranking: 1 (0.9), 3 (0.9, tie after 1), 2, 4, 0. Held-out items 3 and 4 sit at ranks 1 and 3.
    scores = np.array([[0.1, 0.9, 0.5, 0.9, 0.3]], dtype=np.float32)
    evaluator = RankingEvaluator(1, 5, (np.array([0, 0]), np.array([3, 4])), None, [1, 3, 5])
    got = evaluator.evaluate(scorer(scores))
    d1, d3 = 1 / math.log2(3), 1 / math.log2(5)
    want = {
        "recall@1": 0.0,
        "recall@3": 0.5,
        "recall@5": 1.0,
        "precision@1": 0.0,
        "precision@3": 1 / 3,
        "precision@5": 2 / 5,
        "hitrate@1": 0.0,
        "hitrate@3": 1.0,
        "hitrate@5": 1.0,
        "ndcg@1": 0.0,
        "ndcg@3": d1 / (1 + d1),
        "ndcg@5": (d1 + d3) / (1 + d1),
        "mrr@1": 0.0,
        "mrr@3": 0.5,
        "mrr@5": 0.5,
        "coverage@1": 0.2,
        "coverage@3": 0.6,
        "coverage@5": 1.0,
        "users": 1.0,
    }
    check_close(got, want)

    # Excluding item 1 moves held-out item 3 to the top.
    evaluator = RankingEvaluator(
        1, 5, (np.array([0, 0]), np.array([3, 4])), (np.array([0]), np.array([1])), [1]
    )
    got = evaluator.evaluate(scorer(scores))
    assert (got["recall@1"], got["ndcg@1"], got["mrr@1"], got["precision@1"]) == (0.5, 1.0, 1.0, 1.0)


def test_fewer_items_than_k() -> None:
    scores = np.array([[0.0, 2.0, 1.0], [5.0, 5.0, 5.0]], dtype=np.float32)
    heldout = (np.array([0, 1]), np.array([0, 2]))
    got = RankingEvaluator(2, 3, heldout, None, [10]).evaluate(scorer(scores))
    assert got["recall@10"] == 1.0
    assert got["precision@10"] == pytest.approx(0.1)
    assert got["mrr@10"] == pytest.approx((1 / 3 + 1 / 3) / 2)
    assert got["ndcg@10"] == pytest.approx(1 / math.log2(4))
    assert got["coverage@10"] == 1.0


def test_excluded_items_never_ranked_or_hit() -> None:
    # Excluded item 0 has the best score for everyone: with enough items left it never shows up.
    scores = np.tile(np.array([[9.0, 1.0, 2.0, 3.0]], dtype=np.float32), (3, 1))
    heldout = (np.array([0, 1, 2]), np.array([3, 3, 3]))
    exclude = (np.array([0, 1, 2]), np.array([0, 0, 0]))
    got = RankingEvaluator(3, 4, heldout, exclude, [1, 2]).evaluate(scorer(scores))
    assert got["coverage@1"] == 0.25 and got["recall@1"] == 1.0
    assert got["coverage@2"] == 0.5

    # Only item 2 is left; excluded held-out item 1 fills the list at -inf but is no hit.
    scores = np.array([[0.0, 5.0, 1.0]], dtype=np.float32)
    got = RankingEvaluator(
        1, 3, (np.array([0]), np.array([1])), (np.array([0, 0]), np.array([0, 1])), [3]
    ).evaluate(scorer(scores))
    assert got["recall@3"] == 0.0 and got["mrr@3"] == 0.0 and got["coverage@3"] == 1.0


def test_scores_are_not_modified() -> None:
    scores, _, exclude = random_case(5, 10, 12, ties=0.0)
    heldout = {u: {u} for u in range(10)}
    matrix = torch.from_numpy(scores.copy())
    evaluator = RankingEvaluator(10, 12, as_pairs(heldout), as_pairs(exclude), [3])
    evaluator.evaluate(lambda users: matrix)  # the caller's own tensor, not a copy
    assert torch.equal(matrix, torch.from_numpy(scores))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_matches_reference_on_cuda() -> None:
    scores, heldout, exclude = random_case(7, 300, 200, ties=0.5)
    ks = [1, 20, 300]
    evaluator = RankingEvaluator(
        300, 200, as_pairs(heldout), as_pairs(exclude), ks, batch_size=64, device="cuda"
    )
    matrix = torch.from_numpy(scores).cuda()
    check_close(evaluator.evaluate(lambda users: matrix[users]), reference(scores, heldout, exclude, ks))


def test_nan_only_matters_where_not_excluded() -> None:
    scores = np.array([[math.nan, 1.0, 2.0]], dtype=np.float32)
    heldout = (np.array([0]), np.array([2]))
    evaluator = RankingEvaluator(1, 3, heldout, (np.array([0]), np.array([0])), [1])
    assert evaluator.evaluate(scorer(scores))["recall@1"] == 1.0
    with pytest.raises(ValueError, match="NaN"):
        RankingEvaluator(1, 3, heldout, None, [1]).evaluate(scorer(scores))


def test_bad_arguments() -> None:
    heldout = (np.array([0]), np.array([1]))
    for ks in ([], [0], [5, -1]):
        with pytest.raises(ValueError, match="K"):
            RankingEvaluator(2, 3, heldout, None, ks)
    with pytest.raises(ValueError, match="held-out"):
        RankingEvaluator(2, 3, (np.array([], dtype=np.int64), np.array([], dtype=np.int64)), None, [1])
    with pytest.raises(ValueError, match="out of range"):
        RankingEvaluator(2, 3, (np.array([0]), np.array([3])), None, [1])
    evaluator = RankingEvaluator(2, 3, heldout, None, [1])
    with pytest.raises(ValueError, match=r"\(1, 3\)"):
        evaluator.evaluate(lambda users: torch.zeros(len(users), 4))


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("ndcg@20", ("ndcg", 20)), ("recall@1", ("recall", 1)), ("coverage@300", ("coverage", 300))],
)
def test_parse_metric(text: str, parsed: tuple[str, int]) -> None:
    assert parse_metric(text) == parsed


@pytest.mark.parametrize(
    "text", ["ndcg", "ndcg@", "ndcg@0", "ndcg@-5", "ndcg@1.5", "auc@10", "@10", "ndcg@20@3", ""]
)
def test_parse_metric_rejects(text: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_metric(text)
    message = str(error.value)
    assert repr(text) in message and "\n" not in message
    assert all(name in message for name in METRIC_NAMES)

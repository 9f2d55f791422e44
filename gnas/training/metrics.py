"""Full-ranking top-K metrics, as in LightGCN's evaluation code, batched over users.

Each evaluated user u (one with held-out items H, n = |H|) is scored against every item; the
items it must not be recommended (its training items, and validation items when testing) get
-inf. Ranking is by score descending, then item index ascending, so ties are deterministic.
With hits the held-out items among the top K (ranks r = 0..K-1):

    recall@K    = hits / n
    precision@K = hits / K
    hitrate@K   = 1 if hits > 0 else 0
    ndcg@K      = sum_{hit r} 1/log2(r+2)  /  sum_{i < min(K, n)} 1/log2(i+2)
    mrr@K       = 1/(r+1) for the first hit rank r, 0 without a hit
    coverage@K  = |union of all evaluated users' top-K lists| / num_items

All but coverage are averaged over the evaluated users. With fewer than K items, the list holds
every item; the denominators stay as written. Duplicate pairs count once; a held-out item that is
also excluded counts in n but is never a hit.

``candidates`` restricts the ranking to a set of items (every other item is masked for every user,
and coverage is a share of the candidates): the cold-start report ranks cold items among cold items.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Sequence

import numpy as np
import torch

METRIC_NAMES = ("recall", "ndcg", "precision", "hitrate", "mrr", "coverage")

_METRIC_RE = re.compile(r"([A-Za-z_]+)@([0-9]+)")


def parse_metric(name: str) -> tuple[str, int]:
    """Split ``'ndcg@20'`` into ``('ndcg', 20)``; raise a one-line ValueError for anything else."""
    valid = ", ".join(METRIC_NAMES)
    match = _METRIC_RE.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(f"metric {name!r} is not NAME@K with K a positive integer; NAME is one of {valid}")
    metric, k = match.group(1), int(match.group(2))
    if metric not in METRIC_NAMES:
        raise ValueError(f"metric {name!r}: unknown name {metric!r}; expected one of {valid}")
    if k <= 0:
        raise ValueError(f"metric {name!r}: K must be positive; NAME is one of {valid}")
    return metric, k


def _pair_keys(pairs: tuple[np.ndarray, np.ndarray], num_users: int, num_items: int, what: str) -> np.ndarray:
    """Validate (user, item) pairs; return their sorted, de-duplicated keys ``user * num_items + item``."""
    users = np.asarray(pairs[0])
    items = np.asarray(pairs[1])
    if users.ndim != 1 or users.shape != items.shape:
        raise ValueError(f"{what}: user and item arrays must be 1-D of equal length")
    if users.size and not (np.issubdtype(users.dtype, np.integer) and np.issubdtype(items.dtype, np.integer)):
        raise ValueError(f"{what}: user and item indices must be integers")
    users = users.astype(np.int64, copy=False)
    items = items.astype(np.int64, copy=False)
    if users.size and (users.min() < 0 or users.max() >= num_users):
        raise ValueError(f"{what}: user index out of range [0, {num_users})")
    if items.size and (items.min() < 0 or items.max() >= num_items):
        raise ValueError(f"{what}: item index out of range [0, {num_items})")
    return np.unique(users * num_items + items)


class RankingEvaluator:
    """Evaluates a scoring function against fixed held-out items, many times.

    The per-user structures are built once here, on ``device``, because ``evaluate`` runs every
    epoch: the sorted (user, item) keys of the held-out and excluded pairs (for hit and exclusion
    look-ups by binary search), CSR row pointers of the excluded pairs (to mask a batch), and the
    held-out count per user.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        heldout: tuple[np.ndarray, np.ndarray],
        exclude: tuple[np.ndarray, np.ndarray] | None,
        ks: Sequence[int],
        batch_size: int = 1024,
        device: str | torch.device = "cpu",
        candidates: np.ndarray | None = None,
    ) -> None:
        if num_users <= 0 or num_items <= 0:
            raise ValueError(f"need at least one user and one item, got {num_users} and {num_items}")
        if not ks:
            raise ValueError("ks is empty; give at least one K")
        if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0 for k in ks):
            raise ValueError(f"every K must be a positive integer, got {list(ks)}")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.num_users = num_users
        self.num_items = num_items
        self.ks = sorted({int(k) for k in ks})
        self.batch_size = batch_size
        self.device = torch.device(device)

        heldout_keys = _pair_keys(heldout, num_users, num_items, "heldout")
        counts = np.bincount(heldout_keys // num_items, minlength=num_users)
        eval_users = np.flatnonzero(counts)
        if eval_users.size == 0:
            raise ValueError("no user has held-out items; nothing to evaluate")
        if exclude is None:
            exclude_keys = np.zeros(0, dtype=np.int64)
        else:
            exclude_keys = _pair_keys(exclude, num_users, num_items, "exclude")
        exclude_ptr = np.zeros(num_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(exclude_keys // num_items, minlength=num_users), out=exclude_ptr[1:])

        def put(array: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(array)).to(self.device)

        self._eval_users = put(eval_users)
        self._num_heldout = put(counts.astype(np.float64))
        self._heldout_keys = put(heldout_keys)
        self._exclude_keys = put(exclude_keys)
        self._exclude_ptr = put(exclude_ptr)
        self._exclude_items = put(exclude_keys % num_items)
        ranks = torch.arange(self.ks[-1], dtype=torch.float64, device=self.device)
        self._discount = 1.0 / torch.log2(ranks + 2.0)
        self._ideal_dcg = torch.cumsum(self._discount, 0)
        self._reciprocal_rank = 1.0 / (ranks + 1.0)
        self._blocked: torch.Tensor | None = None
        self._num_candidates = num_items
        if candidates is not None:
            allowed = np.zeros(num_items, dtype=bool)
            allowed[np.asarray(candidates, dtype=np.int64)] = True
            if not allowed.any():
                raise ValueError("candidates is empty; give at least one item to rank")
            self._blocked = put(~allowed)
            self._num_candidates = int(allowed.sum())

    def to(self, device: str | torch.device) -> RankingEvaluator:
        """A copy with its tensors on ``device`` (``self`` when they are there already); a Ray worker
        calls it once, when it starts."""
        device = torch.device(device)
        if device == self.device:
            return self
        moved = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, torch.Tensor):
                setattr(moved, name, value.to(device))
        moved.device = device
        return moved

    @property
    def num_eval_users(self) -> int:
        """How many users have held-out items (the ones evaluated)."""
        return int(self._eval_users.numel())

    def evaluate(self, score_users: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, float]:
        """Score every evaluated user in batches and return ``{'recall@20': ..., 'users': ...}``.

        ``score_users`` maps a 1-D tensor of user indices to a (len(users), num_items) score
        matrix; that matrix is not modified.
        """
        k_list = min(self.ks[-1], self.num_items)
        sums = {
            (name, k): torch.zeros((), dtype=torch.float64, device=self.device)
            for name in METRIC_NAMES
            if name != "coverage"
            for k in self.ks
        }
        seen = {k: torch.zeros(self.num_items, dtype=torch.bool, device=self.device) for k in self.ks}
        with torch.no_grad():
            for start in range(0, self.num_eval_users, self.batch_size):
                users = self._eval_users[start : start + self.batch_size]
                top = _top_k(self._masked_scores(score_users, users), k_list)
                keys = users[:, None] * self.num_items + top
                # An excluded held-out item can only trail the list at -inf; it is never a hit.
                hit = _contains(self._heldout_keys, keys) & ~_contains(self._exclude_keys, keys)
                if self._blocked is not None:
                    hit &= ~self._blocked[top]
                hit = hit.to(torch.float64)
                n = self._num_heldout[users]
                for k in self.ks:
                    kk = min(k, k_list)
                    hits = hit[:, :kk].sum(1)
                    ideal = self._ideal_dcg[torch.clamp(n, max=k).long() - 1]
                    sums["recall", k] += (hits / n).sum()
                    sums["precision", k] += hits.sum() / k
                    sums["hitrate", k] += (hits > 0).sum()
                    sums["ndcg", k] += ((hit[:, :kk] @ self._discount[:kk]) / ideal).sum()
                    sums["mrr", k] += (hit[:, :kk] * self._reciprocal_rank[:kk]).amax(1).sum()
                    seen[k][top[:, :kk].reshape(-1)] = True
        num = self.num_eval_users
        if self._blocked is not None:
            seen = {k: covered & ~self._blocked for k, covered in seen.items()}
        result = {
            f"{name}@{k}": float(seen[k].sum()) / self._num_candidates
            if name == "coverage"
            else float(sums[name, k]) / num
            for name in METRIC_NAMES
            for k in self.ks
        }
        result["users"] = float(num)
        return result

    def _masked_scores(
        self, score_users: Callable[[torch.Tensor], torch.Tensor], users: torch.Tensor
    ) -> torch.Tensor:
        """A private copy of the batch's scores with excluded pairs at -inf."""
        raw = score_users(users)
        if not isinstance(raw, torch.Tensor) or raw.shape != (len(users), self.num_items):
            shape = tuple(raw.shape) if isinstance(raw, torch.Tensor) else type(raw).__name__
            raise ValueError(
                f"score_users must return a ({len(users)}, {self.num_items}) tensor, got {shape}"
            )
        if raw.is_floating_point():
            scores = raw.detach().to(self.device, copy=True)
        else:
            scores = raw.detach().to(self.device, torch.float64)
        begin, end = self._exclude_ptr[users], self._exclude_ptr[users + 1]
        counts = end - begin
        rows = torch.repeat_interleave(torch.arange(len(users), device=self.device), counts)
        # Entry j of the batch's concatenated rows sits at begin[row] + (j - start of row in batch).
        offsets = torch.arange(len(rows), device=self.device) + torch.repeat_interleave(
            begin - (torch.cumsum(counts, 0) - counts), counts
        )
        scores[rows, self._exclude_items[offsets]] = -math.inf
        if self._blocked is not None:
            scores[:, self._blocked] = -math.inf
        return scores


def _contains(sorted_keys: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Whether each query occurs in ``sorted_keys``."""
    if sorted_keys.numel() == 0:
        return torch.zeros_like(queries, dtype=torch.bool)
    position = torch.searchsorted(sorted_keys, queries).clamp_(max=sorted_keys.numel() - 1)
    return sorted_keys[position] == queries


def _top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Item indices of each row's top k, by score descending then index ascending; k <= num_items.

    torch.topk breaks ties arbitrarily, which matters only where items outside its pick tie with
    its k-th value t. Those rows are redone exactly: every item above t is in, and the remaining
    slots go to items equal to t in index order.
    """
    values, index = torch.topk(scores, k, dim=1, sorted=False)
    if bool(torch.isnan(values).any()):  # topk ranks NaN above everything
        raise ValueError("score_users returned NaN scores")
    threshold = values.amin(1, keepdim=True)
    ambiguous = ((scores >= threshold).sum(1, dtype=torch.int32) > k).nonzero()[:, 0]
    if len(ambiguous):
        rows, t = scores[ambiguous], threshold[ambiguous]
        above, tied = rows > t, rows == t
        room = k - above.sum(1, keepdim=True, dtype=torch.int32)
        chosen = above | (tied & (torch.cumsum(tied, 1, dtype=torch.int32) <= room))
        index[ambiguous] = chosen.nonzero()[:, 1].view(len(rows), k)
    index = index.sort(1).values
    order = torch.sort(scores.gather(1, index), dim=1, descending=True, stable=True).indices
    return index.gather(1, order)

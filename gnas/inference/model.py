"""``gnas.load_model``: a run folder as a recommender by original ids, from the folder alone.

:class:`FolderModel` is what every folder offers; :class:`TrainedModel` is a trained architecture's
(a baseline's is :class:`gnas.inference.baseline.BaselineModel`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from gnas.baselines import BASELINES
from gnas.data.graph import graph_from_edges
from gnas.errors import GnasError
from gnas.inference.explain import ATTENTION, SIMILARITY, contributions, item_attention
from gnas.inference.folder import ITEMS, USERS, WEIGHTS, ModelFiles, read_model_files
from gnas.models.branch import branch_params, mixed_reasons
from gnas.models.registry import build_model


class Recommendation(NamedTuple):
    """One recommended item: original id, title (None without item text) and model score."""

    item_id: str
    title: str | None
    score: float


class Reason(NamedTuple):
    """A training item of the user that supports a recommendation, with its contribution."""

    item_id: str
    title: str | None
    weight: float


class FolderModel(ABC):
    """What every loaded run folder offers: users and items by original id (strings, as in the CSVs),
    the items each user already has, top-K recommendations and their reasons. Subclasses say how a
    batch of users is scored and how much each liked item supports a recommendation."""

    def __init__(self, files: ModelFiles) -> None:
        self.path = files.path
        self.spec = files.spec
        self.user_ids, self.item_ids, self.titles = files.user_ids, files.item_ids, files.titles
        self._user_index = {uid: i for i, uid in enumerate(self.user_ids)}
        self._item_index = {iid: i for i, iid in enumerate(self.item_ids)}
        self._train_item = torch.from_numpy(files.train_item)
        order = np.argsort(files.train_user, kind="stable")  # each user's training edges, contiguous
        self._edge_order = torch.from_numpy(order)
        self._edge_start = np.concatenate(
            ([0], np.cumsum(np.bincount(files.train_user, minlength=len(self.user_ids))))
        )

    @property
    def explanation_method(self) -> str:
        """How the reasons are found, as ``gnas recommend --explain`` says it."""
        return SIMILARITY

    @abstractmethod
    def score_users(self, users: list[int]) -> Tensor:
        """A fresh (len(users), items) score matrix of users given by dense index."""

    @abstractmethod
    def _contributions(self, edges: Tensor, liked: Tensor, target: int) -> Tensor | None:
        """How much each liked item (``liked``, at training-edge positions ``edges``) supports
        ``target``; None when the model has no per-item reasons."""

    def user_index(self, user_id: object) -> int:
        """The dense index of an original user id; an unknown id is a one-line GnasError."""
        return self.user_indices([user_id])[0]

    def user_indices(self, user_ids: Sequence[object]) -> list[int]:
        """The dense indices of original user ids; unknown ids are one GnasError line naming them all."""
        found = [self._user_index.get(str(u)) for u in user_ids]
        unknown = [u for u, index in zip(user_ids, found, strict=True) if index is None]
        if unknown:
            raise GnasError(_unknown("user", unknown, len(self.user_ids), self.path / USERS))
        return [index for index in found if index is not None]

    def has_user(self, user_id: object) -> bool:
        return str(user_id) in self._user_index

    def item_index(self, item_id: object) -> int:
        index = self._item_index.get(str(item_id))
        if index is None:
            raise GnasError(_unknown("item", [item_id], len(self.item_ids), self.path / ITEMS))
        return index

    def title(self, index: int) -> str | None:
        return None if self.titles is None else str(self.titles[index])

    def _edges(self, user: int) -> Tensor:
        """Positions (in the training edges) of the user's training interactions."""
        return self._edge_order[int(self._edge_start[user]) : int(self._edge_start[user + 1])]

    def _seen(self, user: int) -> Tensor:
        return self._train_item[self._edges(user)]

    def seen(self, user_id: object) -> list[str]:
        """The original ids of the user's training items (what recommend excludes)."""
        return [str(self.item_ids[i]) for i in self._seen(self.user_index(user_id)).tolist()]

    def scores(self, user_id: object) -> Tensor:
        """The model's score of every item (by dense index) for the user."""
        return self.score_users([self.user_index(user_id)])[0]

    def recommend(self, user_id: object, k: int = 10, exclude_seen: bool = True) -> list[Recommendation]:
        """The ``k`` highest-scoring items (ties: lower item index first), without the user's training
        items unless ``exclude_seen`` is false."""
        return self.recommend_batch([user_id], k, exclude_seen)[0]

    def recommend_batch(
        self, user_ids: Sequence[object], k: int = 10, exclude_seen: bool = True, batch_size: int = 1024
    ) -> list[list[Recommendation]]:
        """:meth:`recommend` for many users (one list per user, in order). ``k`` < 1 or any unknown id
        (all of them named in one line) is a GnasError before anything is scored."""
        if k < 1:
            raise GnasError(f"-k: must be at least 1, got {k}")
        users = self.user_indices(user_ids)
        out: list[list[Recommendation]] = []
        for start in range(0, len(users), batch_size):
            chunk = users[start : start + batch_size]
            scores = self.score_users(chunk)
            if exclude_seen:
                for row, user in enumerate(chunk):
                    scores[row, self._seen(user).to(scores.device)] = float("-inf")
            ranked, order = torch.sort(scores, dim=1, descending=True, stable=True)
            for values, items in zip(ranked[:, :k].tolist(), order[:, :k].tolist(), strict=True):
                out.append(
                    [
                        Recommendation(str(self.item_ids[i]), self.title(i), s)
                        for s, i in zip(values, items, strict=True)
                        if s != float("-inf")
                    ]
                )
        return out

    def recommend_frame(
        self, user_ids: Sequence[object], k: int = 10, exclude_seen: bool = True, explain: bool = False
    ) -> pd.DataFrame:
        """Columns user_id, rank, item_id, title, score (and ``because``: the reasons' titles, or ids,
        joined by " | "), one row per recommendation; unknown ids fail before anything is scored."""
        rows = []
        for user_id, recs in zip(user_ids, self.recommend_batch(user_ids, k, exclude_seen), strict=True):
            for rank, rec in enumerate(recs, start=1):
                row = {"user_id": str(user_id), "rank": rank, **rec._asdict()}
                if explain:
                    reasons = self.explain(user_id, rec.item_id)
                    row["because"] = " | ".join(r.title or r.item_id for r in reasons)
                rows.append(row)
        columns = ["user_id", "rank", "item_id", "title", "score", *(["because"] if explain else [])]
        return pd.DataFrame(rows, columns=columns)

    def explain(self, user_id: object, item_id: object, n: int = 3) -> list[Reason]:
        """The user's training items that most support ``item_id`` (largest contribution first); empty
        for a model without per-item reasons."""
        user, target = self.user_index(user_id), self.item_index(item_id)
        edges = self._edges(user)
        edges = edges[self._train_item[edges] != target]
        liked = self._train_item[edges]
        weight = self._contributions(edges, liked, target)
        if weight is None:
            return []
        order = torch.sort(weight.cpu(), descending=True, stable=True).indices[:n].tolist()
        return [
            Reason(str(self.item_ids[int(liked[i])]), self.title(int(liked[i])), float(weight[i]))
            for i in order
        ]


class TrainedModel(FolderModel):
    """A trained recommender: the rebuilt model, its training graph, and the id maps and titles.

    The embeddings are computed once, at load time.
    """

    def __init__(self, files: ModelFiles, device: str | torch.device = "cpu") -> None:
        super().__init__(files)
        graph = graph_from_edges(files.train_user, files.train_item, len(self.user_ids), len(self.item_ids))
        self.graph = graph.to(device)
        self.model = build_model(self.spec.architecture, graph.num_users, graph.num_items, files.features)
        _load_weights(self.model, files)
        self.model.to(device).eval()
        with torch.no_grad():
            self.user_embeddings, self.item_embeddings = self.model(self.graph)
        users, items = self.user_embeddings, self.item_embeddings
        self._score = self.model.mix(lambda batch: users[batch] @ items.T, self.graph)
        self._branch = branch_params(self.spec.architecture)

    @cached_property
    def _edge_attention(self) -> Tensor | None:
        """Per training edge, the attention the user pays the item (None without attention layers)."""
        return item_attention(self.model, self.graph)

    @property
    def explanation_method(self) -> str:
        """``attention`` for models with GAT/GATv2 layers, else ``similarity``; with a closed-form
        branch, whether its item weights enter the reasons."""
        method = ATTENTION if self._edge_attention is not None else SIMILARITY
        if self._branch is None:
            return method
        branch = self.spec.architecture.branch
        if BASELINES[self._branch[0]].explains:
            return f"{method} mixed with the {branch} branch's item weights"
        return f"{method} of the learned part (the {branch} branch gives no per-item reasons)"

    def score_users(self, users: list[int]) -> Tensor:
        return self._score(torch.tensor(users, dtype=torch.long, device=self.item_embeddings.device))

    def _contributions(self, edges: Tensor, liked: Tensor, target: int) -> Tensor:
        """Attention-weighted contribution for attention models, embedding similarity otherwise; with
        a closed-form branch, each liked item's share of the learned score mixed with its branch weight
        as the ranking mixes them (:func:`gnas.models.branch.mixed_reasons`)."""
        device = self.item_embeddings.device
        attention = None if self._edge_attention is None else self._edge_attention[edges.to(device)]
        liked = liked.to(device)
        if self._branch is None:
            return contributions(liked, target, self.item_embeddings, attention)
        user = int(self.graph.train_user[int(edges[0])]) if len(edges) else 0
        items = self.item_embeddings
        share = items[liked] @ items[target] * (1.0 if attention is None else attention) / max(len(liked), 1)
        row = self.user_embeddings[user] @ items.T
        return mixed_reasons(share, row, self.spec.architecture, self.graph, user, liked, target)


SHOWN_UNKNOWN = 20  # unknown ids named in an error; the rest are counted


def _unknown(kind: str, values: Sequence[object], count: int, source: Path) -> str:
    distinct = list(dict.fromkeys(str(v) for v in values))
    shown = ", ".join(repr(v) for v in distinct[:SHOWN_UNKNOWN])
    more = f" (and {len(distinct) - SHOWN_UNKNOWN} more)" if len(distinct) > SHOWN_UNKNOWN else ""
    what = f"unknown {kind} id" if len(distinct) == 1 else f"{len(distinct)} unknown {kind} ids"
    return f"{what} {shown}{more}: not among the {count} {kind}s of {source}"


def _load_weights(model: torch.nn.Module, files: ModelFiles) -> None:
    """Check the embedding sizes against the id maps, then load the weights strictly."""
    path = files.path / WEIGHTS
    for key, count, source in (
        ("user_embedding.weight", len(files.user_ids), USERS),
        ("item_embedding.weight", len(files.item_ids), ITEMS),
    ):
        tensor = files.weights.get(key)
        if tensor is not None and tensor.shape[0] != count:
            raise GnasError(f"{path}: {key} has {tensor.shape[0]} rows but {source} lists {count}")
    try:
        model.load_state_dict(files.weights, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise GnasError(
            f"{path}: the weights do not fit the architecture in config.yaml ({detail[:300]})"
        ) from None


def load_model(path: str | Path, device: str | torch.device = "cpu") -> FolderModel:
    """Load a ``gnas train`` run folder for inference (a trained architecture, or a baseline refitted
    from its training edges); it needs nothing but that folder."""
    files = read_model_files(Path(path))
    if files.baseline is not None:
        from gnas.inference.baseline import BaselineModel

        return BaselineModel(files, device)
    return TrainedModel(files, device)

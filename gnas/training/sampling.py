"""Uniform negative sampling: per pair (never one of the user's training items) or shared by a batch."""

from __future__ import annotations

import torch


class NegativeSampler:
    """Draws items uniformly, redrawing the (few) draws that hit a training pair.

    Training pairs are kept as sorted ``user * num_items + item`` keys so that membership is one
    vectorised ``searchsorted``.
    """

    def __init__(self, train_user: torch.Tensor, train_item: torch.Tensor, num_items: int) -> None:
        self.num_items = num_items
        self.keys = torch.sort(train_user * num_items + train_item).values

    def is_positive(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Whether each (user, item) pair (broadcast together) is a training pair."""
        users, items = torch.broadcast_tensors(users, items)
        keys = users * self.num_items + items
        pos = torch.searchsorted(self.keys, keys).clamp_(max=len(self.keys) - 1)
        return self.keys[pos] == keys

    def sample(self, users: torch.Tensor, generator: torch.Generator, max_rounds: int = 100) -> torch.Tensor:
        """One negative item per entry of ``users``."""
        items = torch.randint(
            self.num_items, users.shape, generator=generator, device=users.device, dtype=torch.long
        )
        redo = self.is_positive(users, items)
        for _ in range(max_rounds):
            if not bool(redo.any()):
                break
            idx = redo.nonzero().squeeze(1)
            items[idx] = torch.randint(
                self.num_items, idx.shape, generator=generator, device=users.device, dtype=torch.long
            )
            redo[idx] = self.is_positive(users[idx], items[idx])
        return items

    def excluded(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """The ``(len(users), len(items))`` mask of training pairs, looked up once per distinct user
        (a batch repeats its users: on ml-latest-small 8,192 pairs hold at most 610 of them)."""
        distinct, row = torch.unique(users, return_inverse=True)
        return self.is_positive(distinct[:, None], items[None, :])[row]

    def shared(self, count: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
        """``count`` items drawn uniformly (with replacement), shared by a whole batch: the softmax
        loss masks, per user, the ones that are its training items (see ``is_positive``)."""
        return torch.randint(self.num_items, (count,), generator=generator, device=device, dtype=torch.long)

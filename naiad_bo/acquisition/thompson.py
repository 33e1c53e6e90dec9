"""Batch Thompson sampling over the members of a deep ensemble."""

from __future__ import annotations

from typing import ClassVar

import torch
from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import MemberwiseAcquisition, as_index_pairs
from naiad_bo.direction import Direction, resolve_direction

__all__ = ["ThompsonSampling"]


class ThompsonSampling(MemberwiseAcquisition):
    r"""Thompson sampling with the ensemble members as posterior samples.

    Each slot ``k`` of a batch draws a member :math:`m_k` (uniformly, or by the ensemble
    weights) and takes the strongest not-yet-chosen pair under that member:

    .. math:: x_k = \arg\max_{x \notin \{x_1..x_{k-1}\}} \mathrm{strength}(\hat g_{m_k}(x)).

    :func:`~naiad_bo.acquisition.select_batch` does this exactly in one chunked pass (one top
    list per member). With ``q = 1`` and BoTorch's ``optimize_acqf_discrete``, :meth:`forward`
    scores by the first drawn member (one posterior sample).

    Args:
        model: A fitted ensemble (``EnsemblePosterior`` with >= 2 members).
        direction: A :class:`~naiad_bo.direction.Direction` or its name; None = the model's,
            else MINIMIZE (see :func:`~naiad_bo.direction.resolve_direction`).
        seed: Seed of the member draws.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"members"})

    def __init__(
        self, model: Model, direction: Direction | str | None = None, seed: int = 0
    ) -> None:
        super().__init__(model)
        self.direction = resolve_direction(direction, model)
        self.seed = int(seed)

    def member_scores(self, X: Tensor) -> Tensor:
        """Strength under each member; ``X``: ``n x 2`` -> ``n x s``."""
        as_index_pairs(X)
        return self.direction.strength(self._member_values(X))

    def draw_members(self, q: int, n_members: int) -> Tensor:
        """Member of each slot: ``(q,)`` draws from the ensemble weights (seeded)."""
        gen = torch.Generator().manual_seed(self.seed)
        weights = getattr(self.model, "ensemble_weights", None)
        if weights is None:
            probs = torch.full((n_members,), 1.0 / n_members, dtype=torch.float64)
        else:
            probs = torch.as_tensor(weights, dtype=torch.float64).reshape(-1)
        return torch.multinomial(probs, q, replacement=True, generator=gen)

    def forward(self, X: Tensor) -> Tensor:
        r"""Sum over ``q`` of the strength under the first drawn member.

        Args:
            X: ``batch x q x 2`` gene-index pairs.

        Returns:
            ``batch`` values.
        """
        if X.ndim < 2 or X.shape[-1] != 2:
            raise ValueError(f"expected X of shape batch x q x 2, got {tuple(X.shape)}")
        scores = self.member_scores(X.reshape(-1, 2))
        member = int(self.draw_members(1, scores.shape[-1])[0])
        return scores[:, member].reshape(X.shape[:-1]).sum(dim=-1)

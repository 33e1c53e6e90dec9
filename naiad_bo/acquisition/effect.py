"""Exploitation acquisitions: maximum predicted effect (NAIAD's MPE) and an optimistic bound."""

from __future__ import annotations

from typing import ClassVar

from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import PointwiseAcquisition, as_index_pairs
from naiad_bo.direction import Direction, resolve_direction

__all__ = ["MaxPredictedEffect", "OptimisticEffect"]


class MaxPredictedEffect(PointwiseAcquisition):
    r"""Maximum predicted effect (MPE; NAIAD appendix C): the strength of the posterior mean.

    .. math:: a(x) = \mathrm{strength}(\hat y(x))

    with :math:`\hat y` the posterior mean (the ensemble mean, exact over members) and
    strength :math:`-\hat y` (``MINIMIZE``, default: most negative is strongest),
    :math:`\hat y` (``MAXIMIZE``) or :math:`|\hat y|` (``ABS``, the paper's "highest absolute
    predicted effect"). Works on any model with a posterior mean, deterministic ones included
    (with :class:`~naiad_bo.models.SingleEffectSumModel` it ranks pairs by
    :math:`y_a + y_b`).

    Args:
        model: A fitted single-output surrogate.
        direction: A :class:`~naiad_bo.direction.Direction` or its name; None = the model's
            (a model built from a screen carries the screen's), else ``MINIMIZE``. A
            direction contradicting the model's raises
            :class:`~naiad_bo.direction.DirectionMismatchError`.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"mean"})

    def __init__(self, model: Model, direction: Direction | str | None = None) -> None:
        super().__init__(model)
        self.direction = resolve_direction(direction, model)

    def score(self, X: Tensor) -> Tensor:
        """Strength of the posterior mean; ``X``: ``n x 2`` -> ``(n,)``."""
        as_index_pairs(X)
        return self.direction.strength(self._mean(X))


class OptimisticEffect(PointwiseAcquisition):
    r"""Optimistic effect: strength of the mean plus ``beta`` posterior standard deviations.

    .. math:: a(x) = \mathrm{strength}(\hat y(x)) + \beta\, \sigma(x)

    With ``direction=ABS`` and ``beta = 1`` this is the reference implementation's
    ``|mean| + std`` (anchors.md: it behaves like MPE). Not the paper's "UCB" row, which is
    :class:`~naiad_bo.acquisition.RecoverUCB`.

    Args:
        model: A fitted surrogate with a predictive variance (ensemble or GP).
        direction: As for :class:`MaxPredictedEffect` (None = the model's, else MINIMIZE).
        beta: Weight of the standard deviation (``>= 0``).
    """

    requires: ClassVar[frozenset[str]] = frozenset({"mean", "variance"})

    def __init__(
        self, model: Model, direction: Direction | str | None = None, beta: float = 1.0
    ) -> None:
        super().__init__(model)
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.direction = resolve_direction(direction, model)
        self.beta = float(beta)

    def score(self, X: Tensor) -> Tensor:
        """Strength of the mean + beta * std; ``X``: ``n x 2`` -> ``(n,)``."""
        as_index_pairs(X)
        mean, var = self._mean_variance(X)
        return self.direction.strength(mean) + self.beta * var.sqrt()

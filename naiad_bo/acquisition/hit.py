r"""Probability of hit: the chance that a pair beats a threshold (e.g. the k-th best measured).

The lab wants many strong pairs measured, not one best. A pair is a *hit* when its phenotype
is stronger than a threshold :math:`\tau` (by default the ``k``-th strongest value measured so
far, so a hit would enter the current top-``k``). The score is

.. math:: a(x) = P\bigl(\mathrm{strength}(f(x)) > \mathrm{strength}(\tau)\bigr),

additive over a batch (the expected number of hits), so the exact top-``q`` selection of
:func:`~naiad_bo.acquisition.select_batch` finds the batch with the most expected hits.
Two ways to compute it:

* ``members=False`` (default, any model): from the Gaussian marginal
  :math:`\mathcal N(\mu(x), \sigma^2(x))` of the posterior (exact for a GP; for an ensemble
  the moment-matched Gaussian of its members, with a variance scale if one was fitted),
  e.g. for ``MINIMIZE`` :math:`\Phi((\tau - \mu) / \sigma)`, for ``ABS``
  :math:`\Phi((\mu - t) / \sigma) + \Phi((-t - \mu) / \sigma)` with :math:`t = |\tau|`;
* ``members=True`` (ensembles): exactly over members,
  :math:`\sum_k w_k 1\{\mathrm{strength}(f_k(x)) > \mathrm{strength}(\tau)\}`. With a
  handful of members this takes few distinct values (ties are broken by index).

Reference: "probability of hit" ranking for screens (arXiv 2605.10196, 2026). Not in BoTorch
(``ProbabilityOfImprovement`` is the same formula with the incumbent best as threshold and
``k = 1``; this class takes any threshold and the pair-screen directions).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import PointwiseAcquisition, as_index_pairs
from naiad_bo.acquisition.effect import MaxPredictedEffect
from naiad_bo.direction import Direction, resolve_direction

__all__ = ["ProbabilityOfHit", "kth_strongest"]

_SQRT2 = 2.0**0.5


def kth_strongest(Y: Tensor, k: int, direction: Direction | str | None = None) -> float:
    """The ``k``-th strongest value of ``Y`` (``n`` or ``n x 1``); ``k`` capped at ``n``.

    Raises:
        ValueError: empty ``Y`` or ``k < 1``.
    """
    d = Direction.parse(direction)
    y = torch.as_tensor(Y, dtype=torch.float64).reshape(-1)
    if y.numel() == 0:
        raise ValueError("need at least one measured value to set the hit threshold")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    order = torch.argsort(d.strength(y), descending=True, stable=True)
    return float(y[order[min(k, y.numel()) - 1]])


def _phi_cdf(z: Tensor) -> Tensor:
    return 0.5 * torch.erfc(-z / _SQRT2)


class ProbabilityOfHit(PointwiseAcquisition):
    r"""Probability that a pair is stronger than ``threshold`` (module formula).

    Args:
        model: A fitted surrogate with a predictive variance (any model with
            ``members=False``; an ensemble with ``members=True``).
        threshold: :math:`\tau` in outcome units.
        direction: Which phenotype is strong (None = the model's, else MINIMIZE).
        members: Exact fraction of ensemble members beyond :math:`\tau` instead of the
            Gaussian marginal.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"mean", "variance"})

    def __init__(
        self,
        model: Model,
        threshold: float,
        direction: Direction | str | None = None,
        members: bool = False,
    ) -> None:
        if members:
            self.requires = frozenset({"members"})
        super().__init__(model)
        threshold = float(threshold)
        if not torch.isfinite(torch.tensor(threshold)):
            raise ValueError(f"threshold must be finite, got {threshold}")
        self.threshold = threshold
        self.direction = resolve_direction(direction, model)
        self.members = bool(members)

    @classmethod
    def from_training_data(
        cls,
        model: Model | None,
        train_X: Tensor | None = None,
        train_Y: Tensor | None = None,
        single_effects: Any = None,
        *,
        direction: Direction | str | None = None,
        seed: int | None = 0,
        k: int = 200,
        threshold: float | None = None,
        members: bool = False,
        candidates: Tensor | None = None,
        estimate_cutoff: bool = False,
    ) -> ProbabilityOfHit:
        """Threshold from the round's data unless given.

        Without ``candidates``: the ``k``-th strongest measured value (``train_Y``; the
        weakest when fewer than ``k`` are measured, an easy bar early in a campaign). With
        ``candidates`` (``n x 2`` unmeasured pairs): the ``k``-th strongest of the measured
        values and the posterior means at the candidates together, i.e. the current
        estimate of the top-``k`` cut-off (the set the "top-k discovered" metric ranks), so
        the score is the probability that a pair enters the estimated top-``k``.
        ``estimate_cutoff=True`` without ``candidates`` takes every unordered pair of the
        model's genes not in ``train_X`` as the candidates (what a campaign needs: it
        passes no candidates; the pairs a campaign can never acquire, e.g. a test split,
        are then in the estimate too, as they are in the "top-k discovered" metric).

        Raises:
            ValueError: neither ``threshold`` nor ``train_Y``; ``estimate_cutoff`` without
                a number of genes (model ``n_genes`` or ``single_effects``).
        """
        d = resolve_direction(direction, model)
        if threshold is None and candidates is None and estimate_cutoff:
            from naiad_bo.acquisition.optimality import _all_pairs_except

            n_genes = getattr(model, "n_genes", None)
            if n_genes is None and single_effects is not None:
                n_genes = len(single_effects)
            if n_genes is None:
                raise ValueError(
                    "ProbabilityOfHit(estimate_cutoff=True) needs a model or single effects "
                    "that give the number of genes"
                )
            candidates = _all_pairs_except(int(n_genes), train_X)
        if threshold is None:
            if train_Y is None:
                raise ValueError(
                    "ProbabilityOfHit needs threshold= or the measured values (train_Y) "
                    "to take the k-th strongest as threshold"
                )
            values = torch.as_tensor(train_Y, dtype=torch.float64).reshape(-1)
            if candidates is not None:
                with torch.no_grad():
                    mean = MaxPredictedEffect(model, direction=d)._mean(
                        as_index_pairs(candidates).to(torch.float64)
                    )
                values = torch.cat([values, mean.to(torch.float64).reshape(-1)])
            threshold = kth_strongest(values, int(k), d)
        return cls(model, threshold, direction=d, members=members)

    def score(self, X: Tensor) -> Tensor:
        """Probability of a hit; ``X``: ``n x 2`` -> ``(n,)`` in ``[0, 1]``."""
        as_index_pairs(X)
        tau = self.threshold
        d = self.direction
        if self.members:
            values = self._member_values(X)  # n x s
            hit = (d.strength(values) > d.strength(torch.tensor(tau))).to(values)
            w = getattr(self.model, "ensemble_weights", None)
            if w is None:
                return hit.mean(dim=-1)
            w = torch.as_tensor(w).to(values)
            return hit @ (w / w.sum())
        mean, var = self._mean_variance(X)
        sd = var.sqrt().clamp_min(1e-12)
        if d is Direction.MINIMIZE:
            return _phi_cdf((tau - mean) / sd)
        if d is Direction.MAXIMIZE:
            return _phi_cdf((mean - tau) / sd)
        t = abs(tau)
        return _phi_cdf((mean - t) / sd) + _phi_cdf((-t - mean) / sd)

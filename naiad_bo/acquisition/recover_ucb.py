"""RECOVER-style UCB: residual from a linear baseline plus ensemble spread (NAIAD's "UCB")."""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import (
    AcquisitionModelError,
    PointwiseAcquisition,
    as_index_pairs,
)
from naiad_bo.direction import Direction

__all__ = ["RecoverUCB"]


class RecoverUCB(PointwiseAcquisition):
    r"""The NAIAD paper's "UCB" row (appendix C, after RECOVER).

    .. math:: a(x) = |\hat y(x) - L(x)| + \kappa\, \sigma(x)

    :math:`\hat y` and :math:`\sigma` are the surrogate's posterior mean and standard
    deviation (exact over ensemble members), :math:`L` the posterior mean of a linear baseline
    (:class:`~naiad_bo.models.AdditiveLinearModel`). The paper writes "variance", the
    reference implementation uses the standard deviation (``residual+std``, anchors.md); the
    standard deviation is used here, in the same units as the residual. ``kappa = 1`` as in
    the paper.

    Args:
        model: A fitted surrogate with a predictive variance.
        linear_model: A fitted linear baseline (any single-output model with a mean).
        kappa: Weight of the standard deviation (``>= 0``).
    """

    requires: ClassVar[frozenset[str]] = frozenset({"mean", "variance"})

    def __init__(self, model: Model, linear_model: Model, kappa: float = 1.0) -> None:
        super().__init__(model)
        if not isinstance(linear_model, Model):
            raise AcquisitionModelError(
                "RecoverUCB needs a fitted linear baseline model, got "
                f"{type(linear_model).__name__}"
            )
        if not kappa >= 0:
            raise ValueError(f"kappa must be >= 0, got {kappa}")
        self.linear_model = linear_model
        self.kappa = float(kappa)

    def score(self, X: Tensor) -> Tensor:
        """Residual to the linear fit + kappa * std; ``X``: ``n x 2`` -> ``(n,)``."""
        as_index_pairs(X)
        mean, var = self._mean_variance(X)
        linear = self.linear_model.posterior(X.unsqueeze(-2)).mean.reshape(-1)
        return (mean - linear.to(mean)).abs() + self.kappa * var.sqrt()

    @classmethod
    def from_training_data(
        cls,
        model: Model,
        train_X: Tensor | None = None,
        train_Y: Tensor | None = None,
        single_effects: Tensor | Any | None = None,
        *,
        direction: Direction | str | None = None,
        seed: int | None = 0,
        linear_model: Model | None = None,
        **options: Any,
    ) -> RecoverUCB:
        """Fit an :class:`~naiad_bo.models.AdditiveLinearModel` on the data, then build.

        ``direction`` is not used (the residual is direction-free). A pre-fitted
        ``linear_model`` may be passed instead of the data.
        """
        if linear_model is None:
            if train_X is None or train_Y is None or single_effects is None:
                raise ValueError(
                    "RecoverUCB.from_training_data needs train_X, train_Y and single_effects "
                    "to fit its linear baseline (or a fitted linear_model=)"
                )
            from naiad_bo.models.linear import AdditiveLinearModel

            linear_model = AdditiveLinearModel(single_effects, seed=0 if seed is None else seed)
            linear_model.fit(torch.as_tensor(train_X), torch.as_tensor(train_Y))
        return cls(model, linear_model, **options)

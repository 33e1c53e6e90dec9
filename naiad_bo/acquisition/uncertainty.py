"""Uncertainty acquisitions: ensemble variance (NAIAD), BALD and margin (GeneDisco)."""

from __future__ import annotations

from typing import ClassVar

from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import PointwiseAcquisition, as_index_pairs

__all__ = ["BALD", "EnsembleVariance", "Margin"]


class EnsembleVariance(PointwiseAcquisition):
    r"""Uncertainty sampling (NAIAD appendix C): the posterior variance.

    .. math:: a(x) = \mathrm{Var}(y \mid x)

    For an ensemble this is the exact variance over members (BoTorch's
    ``EnsemblePosterior.variance``: unbiased, ``ddof = 1``; the paper's ``1/N`` form differs
    by the constant factor ``(s - 1)/s``, which does not change the ranking). For a GP or a
    Bayesian linear model it is the marginal posterior variance.

    Raises:
        AcquisitionModelError: for deterministic models (no variance) and one-member ensembles.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"variance"})

    def __init__(self, model: Model) -> None:
        super().__init__(model)

    def score(self, X: Tensor) -> Tensor:
        """Posterior variance; ``X``: ``n x 2`` -> ``(n,)``."""
        as_index_pairs(X)
        return self._mean_variance(X)[1]


class BALD(PointwiseAcquisition):
    r"""BALD for regression (GeneDisco eq. 5, "topuncertain").

    .. math:: a(x) = \tfrac12 \log\bigl(1 + \mathrm{Var}(y \mid x) / \sigma^2\bigr)

    GeneDisco sets the noise variance :math:`\sigma^2 = 1`; it is an argument here because
    phenotype scales differ (gamma scores have variances ~1e-4). The score is monotone in the
    variance, so its top-``q`` equals :class:`EnsembleVariance`'s; its values matter for
    :class:`~naiad_bo.acquisition.SoftBALD`-style sampling.

    Args:
        model: A surrogate with a predictive variance.
        noise_var: :math:`\sigma^2 > 0`.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"variance"})

    def __init__(self, model: Model, noise_var: float = 1.0) -> None:
        super().__init__(model)
        if not noise_var > 0:
            raise ValueError(f"noise_var must be > 0, got {noise_var}")
        self.noise_var = float(noise_var)

    def score(self, X: Tensor) -> Tensor:
        """BALD information gain; ``X``: ``n x 2`` -> ``(n,)``."""
        as_index_pairs(X)
        var = self._mean_variance(X)[1]
        return 0.5 * (var / self.noise_var).log1p()


class Margin(PointwiseAcquisition):
    r"""Margin sampling for regression (GeneDisco eq. 9): spread of the member predictions.

    .. math:: a(x) = \max_j \hat g_j(x) - \min_j \hat g_j(x)

    Needs ensemble members (``EnsemblePosterior.values``).

    Raises:
        AcquisitionModelError: for models without members (GPs, deterministic models).
    """

    requires: ClassVar[frozenset[str]] = frozenset({"members"})

    def __init__(self, model: Model) -> None:
        super().__init__(model)

    def score(self, X: Tensor) -> Tensor:
        """Max minus min over members; ``X``: ``n x 2`` -> ``(n,)``."""
        as_index_pairs(X)
        values = self._member_values(X)
        return values.amax(dim=-1) - values.amin(dim=-1)

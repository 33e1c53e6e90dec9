r"""The posterior of a pair deep ensemble: a finite mixture over members, plus optional noise.

:class:`MemberEnsemblePosterior` is BoTorch's ``EnsemblePosterior`` (values ``(b) x s x q x
m``, member weights ``(s,)``) with two additions:

* its default MC sampler (``botorch.sampling.get_sampler``) is chosen by
  :mod:`naiad_bo.models.sampler`: exact member enumeration where that is exact, BoTorch's
  ``IndexSampler`` otherwise;
* an optional observation-noise variance ``sigma^2`` (``posterior(X,
  observation_noise=True)``): then

  .. math:: \mathrm{Var}[y \mid x] = \underbrace{\mathrm{Var}_k[f_k(x)]}_{\text{epistemic}}
            + \sigma^2(x),

  the predictive variance of a new *measurement*; the mean is unchanged. MC samples of such
  a posterior are not supported (a finite ensemble plus Gaussian noise has no index base
  samples); BoTorch's MC acquisitions call ``posterior(X)`` without noise anyway.

:func:`scalarize` applies a ``ScalarizedPosteriorTransform`` (what Ax passes, weight -1 when
minimising) to the member values, since BoTorch's generic scalarisation needs a Gaussian.
"""

from __future__ import annotations

import torch
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from botorch.exceptions.errors import UnsupportedError
from botorch.posteriors.ensemble import EnsemblePosterior
from torch import Tensor

__all__ = ["MemberEnsemblePosterior", "scalarize"]


class MemberEnsemblePosterior(EnsemblePosterior):
    """An ``EnsemblePosterior`` with naiad_bo's sampler dispatch and optional noise.

    Args:
        values: ``(b) x s x q x m`` member predictions.
        weights: Optional ``(s,)`` member weights (None = uniform).
        observation_noise: Optional noise variance broadcastable to ``(b) x q x m``, added
            to :attr:`variance` (not to :attr:`mean`, not to the member values).
    """

    def __init__(
        self, values: Tensor, weights: Tensor | None = None, observation_noise: Tensor | None = None
    ) -> None:
        super().__init__(values=values, weights=weights)
        if observation_noise is not None:
            observation_noise = observation_noise.to(values).expand(self.mean.shape)
        self.observation_noise = observation_noise

    @property
    def variance(self) -> Tensor:
        """Member variance (BoTorch's reliability-weighted form) + observation noise."""
        var = super().variance
        if self.observation_noise is not None:
            var = var + self.observation_noise
        return var

    @property
    def is_uniform(self) -> bool:
        """Whether all members have the same weight."""
        w = self.weights
        return bool(torch.allclose(w, torch.full_like(w, 1.0 / self.ensemble_size)))

    def rsample_from_base_samples(self, sample_shape: torch.Size, base_samples: Tensor) -> Tensor:
        """Member values at the index ``base_samples`` (see ``EnsemblePosterior``).

        Raises:
            UnsupportedError: the posterior carries observation noise.
        """
        if self.observation_noise is not None:
            raise UnsupportedError(
                "MC samples of an ensemble posterior with observation noise are not supported; "
                "call posterior(X) without observation_noise for MC acquisitions (their "
                "default), and use posterior(X, observation_noise=True).variance for the "
                "predictive variance of a new measurement"
            )
        return super().rsample_from_base_samples(sample_shape, base_samples)


def scalarize(
    posterior: MemberEnsemblePosterior, transform: ScalarizedPosteriorTransform
) -> MemberEnsemblePosterior:
    r"""Apply ``y' = w^T y + c`` to every member (noise scales by ``(w^T w)``, one output).

    Raises:
        ValueError: the transform has another number of weights than outputs.
    """
    values = posterior.values
    w = transform.weights.to(values)
    if w.shape[-1] != values.shape[-1]:
        raise ValueError(
            f"ScalarizedPosteriorTransform has {w.shape[-1]} weights for "
            f"{values.shape[-1]} output(s)"
        )
    noise = posterior.observation_noise
    if noise is not None:
        noise = noise @ w.pow(2).unsqueeze(-1)
    return MemberEnsemblePosterior(
        values=(values @ w.unsqueeze(-1)) + transform.offset,
        weights=posterior._weights,
        observation_noise=noise,
    )

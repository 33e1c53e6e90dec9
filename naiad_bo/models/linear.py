r"""The paper's 3-parameter linear baseline, made exactly symmetric, with a Gaussian posterior.

NAIAD (appendix B) compares against ``y_ab ~ b0 + b1 y_a + b2 y_b`` where ``y_a``, ``y_b`` are
the single-gene effects. With canonical pairs (``a <= b`` by gene index) that form is not
symmetric: swapping the genes changes the prediction unless ``b1 == b2``, and which gene gets
``b1`` depends on an arbitrary gene numbering. We keep three parameters but order the two
effects by value instead of by index:

.. math::

    \hat y_{ab} = b_0 + b_1 \min(y_a, y_b) + b_2 \max(y_a, y_b),

which is exactly symmetric, contains the symmetric ``b1 == b2`` model as a special case, and
lets the stronger (more negative) partner carry a different weight than the weaker one.

The coefficients are fitted by ordinary least squares. The posterior is that of Bayesian
linear regression under a flat prior with the noise variance fixed at its unbiased estimate,
``sigma^2 = RSS / (n - 3)``: ``beta ~ N(beta_hat, sigma^2 (F'F)^{-1})``. For a ``q``-batch of
pairs with feature rows ``F_q`` the latent posterior is the exact joint Gaussian
``N(F_q beta_hat, F_q Sigma F_q')`` (rank <= 3, stored as a root decomposition so sampling is
exact and cheap), so every analytic or MC acquisition that takes a GP posterior works on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from botorch.acquisition.objective import PosteriorTransform
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal
from linear_operator.operators import DiagLinearOperator, RootLinearOperator
from torch import Tensor

from naiad_bo.models.validation import (
    NotFittedError,
    as_gene_pairs,
    as_single_effects,
    as_targets,
)

__all__ = ["AdditiveLinearModel", "NotFittedError"]


class AdditiveLinearModel(Model):
    r"""Symmetric 3-parameter linear model on single-gene effects (paper's "Linear" row).

    ``y_ab = b0 + b1 min(y_a, y_b) + b2 max(y_a, y_b) + eps``, ``eps ~ N(0, sigma^2)``,
    least-squares fit, Gaussian posterior ``N(F beta_hat, F Sigma F')`` with
    ``Sigma = sigma^2 (F'F + ridge I)^{-1}``.

    Example:
        >>> model = AdditiveLinearModel(screen.single_effects).fit(train_X, train_Y)
        >>> model.posterior(X.unsqueeze(-2)).mean  # b x 1 x 1
    """

    _num_outputs = 1

    def __init__(
        self,
        single_effects: Tensor | np.ndarray,
        *,
        seed: int = 0,
        ridge: float = 1e-10,
    ) -> None:
        """Store the single effects and hyper-parameters; nothing is fitted here.

        Args:
            single_effects: ``(M,)`` single-gene effect of every gene (index = gene id).
            seed: accepted for the common surrogate interface; the fit is deterministic.
            ridge: tiny ridge added to ``F'F`` (relative to its mean diagonal) so that
                degenerate designs (e.g. all training genes with equal effects) still give a
                finite covariance; it does not change well-posed fits measurably.
        """
        super().__init__()
        if not np.isfinite(ridge) or ridge < 0:
            raise ValueError(f"ridge must be a finite non-negative float, got {ridge!r}")
        self.register_buffer("single_effects", as_single_effects(single_effects))
        self.seed = int(seed)
        self.ridge = float(ridge)
        self.register_buffer("coef_", None)
        self.register_buffer("cov_root_", None)
        self.register_buffer("noise_var_", None)
        self.n_train_: int | None = None

    @property
    def n_genes(self) -> int:
        """Number of genes M."""
        return int(self.single_effects.shape[0])

    @property
    def num_outputs(self) -> int:
        """The model has one output."""
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        """Not a batched model."""
        return torch.Size([])

    def features(self, X: Tensor) -> Tensor:
        """Design matrix ``[1, min(y_a, y_b), max(y_a, y_b)]`` of shape ``... x 3``."""
        pairs = as_gene_pairs(X, self.n_genes)
        a, b = pairs[..., 0], pairs[..., 1]
        ya = self.single_effects[a]
        yb = self.single_effects[b]
        return torch.stack([torch.ones_like(ya), torch.minimum(ya, yb), torch.maximum(ya, yb)], -1)

    def fit(self, train_X: Tensor, train_Y: Tensor) -> AdditiveLinearModel:
        """Least-squares fit of ``(b0, b1, b2)`` and of the noise variance.

        Args:
            train_X: ``n x 2`` gene index pairs (n >= 4: three coefficients and a noise level).
            train_Y: ``n x 1`` measured pair phenotypes.

        Returns:
            self, with ``coef_`` (3,), ``noise_var_`` (scalar), ``cov_root_`` (3 x 3,
            ``L L' = Sigma``) and ``n_train_`` set.
        """
        if not isinstance(train_X, Tensor) or train_X.dim() != 2:
            raise ValueError(
                f"train_X must be an n x 2 tensor, got {getattr(train_X, 'shape', type(train_X))}"
            )
        n = int(train_X.shape[0])
        if n < 4:
            raise ValueError(f"AdditiveLinearModel needs at least 4 training pairs, got {n}")
        y = as_targets(train_Y, n)[:, 0].to(self.single_effects)
        F = self.features(train_X)
        gram = F.T @ F
        gram = gram + self.ridge * gram.diagonal().mean() * torch.eye(3, dtype=F.dtype)
        coef = torch.linalg.solve(gram, F.T @ y)
        resid = y - F @ coef
        noise_var = (resid @ resid) / (n - 3)
        # Sigma = sigma^2 gram^{-1}; root L with L L' = Sigma (eigh: robust to near-singularity)
        evals, evecs = torch.linalg.eigh(gram)
        cov_root = evecs * (noise_var / evals.clamp_min(torch.finfo(F.dtype).tiny)).sqrt()
        self.coef_ = coef
        self.noise_var_ = noise_var
        self.cov_root_ = cov_root
        self.n_train_ = n
        return self

    def _check_fitted(self) -> None:
        if self.coef_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call .fit(X, Y) first")

    def predict_mean(self, X: Tensor) -> Tensor:
        """Posterior mean ``F beta_hat`` of shape ``X.shape[:-1]``."""
        self._check_fitted()
        return self.features(X) @ self.coef_

    def posterior(
        self,
        X: Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | Tensor = False,
        posterior_transform: PosteriorTransform | None = None,
        **kwargs: Any,
    ) -> GPyTorchPosterior:
        r"""Exact joint Gaussian posterior over a ``batch x q`` set of pairs.

        Args:
            X: ``batch_shape x q x 2`` gene index pairs.
            output_indices: only ``None`` or ``[0]`` (single output).
            observation_noise: if True, add the fitted noise variance ``sigma^2`` to the
                diagonal; a tensor (``... x q x 1`` or broadcastable) is added as given.
            posterior_transform: optional transform applied to the posterior.

        Returns:
            ``GPyTorchPosterior`` with mean ``batch_shape x q x 1`` and covariance
            ``F_q Sigma F_q'`` (+ noise), represented by its rank-3 root.
        """
        self._check_fitted()
        if output_indices is not None and list(output_indices) != [0]:
            raise ValueError(f"output_indices must be None or [0], got {output_indices}")
        if X.dim() < 2:
            raise ValueError(f"X must have shape batch x q x 2, got {tuple(X.shape)}")
        F = self.features(X).to(self.coef_)
        mean = F @ self.coef_
        covar = RootLinearOperator(F @ self.cov_root_)
        if isinstance(observation_noise, Tensor):
            noise = observation_noise.to(mean).expand(*mean.shape, 1)[..., 0]
            covar = covar + DiagLinearOperator(noise)
        elif observation_noise:
            covar = covar + DiagLinearOperator(self.noise_var_.expand(mean.shape).to(mean))
        posterior = GPyTorchPosterior(MultivariateNormal(mean, covar))
        if posterior_transform is not None:
            return posterior_transform(posterior)
        return posterior

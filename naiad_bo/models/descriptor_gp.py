r"""Gaussian-process surrogate on gene descriptors (GeneDisco-style GP over gene pairs).

The GP models the standardised pair phenotype as

.. math::

    y_{ab} = m(a, b) + f(a, b) + \varepsilon, \quad
    f \sim \mathcal{GP}(0, k), \quad \varepsilon \sim \mathcal N(0, \sigma^2),

with the single-effect mean ``m`` of :class:`~naiad_bo.kernels.SingleEffectMean` (initialised at
the least-squares fit of the Linear baseline) and the symmetric pair kernel
:class:`~naiad_bo.kernels.SymmetricPairKernel` over a :class:`~naiad_bo.kernels.GeneGram`
mixing the descriptor Grams (STRING / network Mashup, GO, DepMap, user tables), an RBF on the
single effects and gene identity. Hyper-parameters maximise the exact marginal likelihood
(the value of GPyTorch's ``ExactMarginalLogLikelihood``) with L-BFGS-B, the gradient taken
through ``dNLL/dK = (K^{-1} - a a^T)/2`` rather than autograd through the Cholesky factor (3-4x
cheaper), on a seeded subset of at most ``hyper_limit`` pairs (subset of data).

Scaling. Up to ``exact_limit`` training pairs everything is exact. Beyond it, the
hyper-parameters are fitted on a seeded random subset of ``exact_limit`` pairs, the posterior
*mean* conditions exactly on all ``n`` pairs by conjugate gradients with the pair kernel's
Kronecker-structured matvec (:func:`~naiad_bo.kernels.pair_kernel_matvec`, ``O(M^3 + n)`` per
iteration, no ``n x n`` matrix), and the posterior *covariance* conditions on the subset (a
conservative, larger variance). Posterior means need no per-pair kernel work at all: with
``alpha = K^{-1}(y - m)``

.. math::

    \mu(a, b) = m(a, b) + \big[\sigma_\times^2\, G (A + A^\top) G
        + \sigma_+^2 (u 1^\top + 1 u^\top)\big]_{ab},

where ``A`` scatters ``alpha`` on the ``M x M`` gene grid and ``u = G c`` with
``c_g = \sum_i alpha_i ([a_i = g] + [b_i = g])``: one ``M x M`` table, then a gather per pair.
Posterior variances ``k(x, x) - k_X(x)^T K^{-1} k_X(x)`` of all ``M^2`` pairs likewise come
from one ``M x M`` table per fit (:func:`~naiad_bo.kernels.pair_quadratic_table`,
``~0.6 M^4 + 4 M n^2`` flops instead of ``n^2`` per pair), which marginal posteriors use once
enough pairs are scored (:meth:`DescriptorGP.posterior`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from botorch.acquisition.objective import PosteriorTransform
from botorch.models.gpytorch import GPyTorchModel
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.constraints import GreaterThan
from gpytorch.distributions import MultivariateNormal
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import ConstantMean
from gpytorch.models import ExactGP
from scipy.optimize import minimize
from torch import Tensor

from naiad_bo.descriptors.alignment import AlignedDescriptor, CoverageReport
from naiad_bo.descriptors.sources import DescriptorSource, load_descriptors
from naiad_bo.kernels import (
    GeneGram,
    SingleEffectMean,
    SymmetricPairKernel,
    pair_kernel_matvec,
    pair_prior_variance_table,
    pair_quadratic_table,
)
from naiad_bo.models.pair_ensemble import (
    NotFittedError,
    as_gene_pairs,
    as_single_effects,
    as_targets,
)

__all__ = ["DescriptorGP", "PairExactGP", "fit_marginal_likelihood", "negative_log_likelihood"]

#: Test points per block when forming test-train covariances (bounded memory).
_BLOCK = 2048
#: Largest gene count for the ``M x M`` posterior variance table (``8 M^2`` bytes).
_TABLE_MAX_GENES = 8192


class PairExactGP(ExactGP, GPyTorchModel):
    """The exact GPyTorch model inside :class:`DescriptorGP` (hyper-parameter fitting)."""

    _num_outputs = 1

    def __init__(self, train_X, train_Y, mean, kernel, likelihood) -> None:
        ExactGP.__init__(self, train_X, train_Y.squeeze(-1), likelihood)
        self.mean_module = mean
        self.covar_module = kernel

    def forward(self, x: Tensor) -> MultivariateNormal:
        return MultivariateNormal(self.mean_module(x), self.covar_module(x))


def negative_log_likelihood(gp: PairExactGP, with_grad: bool = True) -> Tensor:
    r"""Exact negative log marginal likelihood of ``gp`` on its training data, per point.

    ``(r' K^{-1} r + log|K| + n log 2 pi) / (2 n)`` with ``K = k(X, X) + sigma^2 I`` and
    ``r = y - m(X)``, i.e. ``-ExactMarginalLogLikelihood``. With ``with_grad`` the gradient
    is accumulated into the parameters' ``.grad`` through ``dNLL/dK = (K^{-1} - a a') / 2n``
    (``a = K^{-1} r``), which avoids autograd through the Cholesky factorisation.
    """
    X = gp.train_inputs[0]
    y = gp.train_targets
    n = y.shape[0]
    with torch.set_grad_enabled(with_grad):
        K = gp.covar_module(X).to_dense() + gp.likelihood.noise.reshape(()) * torch.eye(
            n, dtype=y.dtype
        )
        r = y - gp.mean_module(X)
    with torch.no_grad():
        L, info = torch.linalg.cholesky_ex(K.detach())
        if int(info) != 0:
            raise torch.linalg.LinAlgError("kernel matrix not positive definite")
        a = torch.cholesky_solve(r.detach().unsqueeze(-1), L).squeeze(-1)
        nll = 0.5 * (r.detach() @ a) + torch.log(torch.diagonal(L)).sum()
        nll = (nll + 0.5 * n * math.log(2 * math.pi)) / n
    if with_grad:
        with torch.no_grad():
            Kinv = torch.cholesky_inverse(L)
            dK = (Kinv - torch.outer(a, a)) / (2 * n)
            dr = a / n  # d/dr of r'K^{-1}r / 2n
        torch.autograd.backward([K, r], [dK, dr])
    return nll


def fit_marginal_likelihood(gp: PairExactGP, maxiter: int = 100, ftol: float = 1e-7) -> dict:
    """Maximise the exact marginal likelihood of ``gp`` with L-BFGS-B (scipy).

    Args:
        gp: the model, on its training data.
        maxiter: L-BFGS iterations.
        ftol: relative NLL decrease below which L-BFGS-B stops (the NLL is per point, so
            ``1e-7`` is far below any difference in predictions).

    Returns:
        ``{"nll", "lbfgs_iterations", "nll_evaluations"}``.
    """
    params = [p for p in gp.parameters() if p.requires_grad]
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]

    def unpack(theta: np.ndarray) -> None:
        off = 0
        for p, n_, shp in zip(params, sizes, shapes):
            p.data.copy_(torch.from_numpy(theta[off : off + n_]).reshape(shp))
            off += n_

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        unpack(theta)
        for p in params:
            p.grad = None
        try:
            nll = negative_log_likelihood(gp)
        except torch.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        grad = np.concatenate(
            [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).numpy()
             for p in params]
        )
        return float(nll), grad

    theta0 = np.concatenate([p.detach().reshape(-1).numpy() for p in params]).astype(np.float64)
    gp.train()
    res = minimize(fun, theta0, jac=True, method="L-BFGS-B",
                   bounds=[(-20.0, 20.0)] * theta0.size,
                   options={"maxiter": int(maxiter), "ftol": ftol})
    unpack(res.x)
    return {"nll": float(res.fun), "lbfgs_iterations": int(res.nit),
            "nll_evaluations": int(res.nfev)}


def _cg(matvec, rhs: Tensor, diag: Tensor, tol: float, max_iter: int) -> tuple[Tensor, int]:
    """Jacobi-preconditioned conjugate gradients for ``K x = rhs``."""
    x = torch.zeros_like(rhs)
    r = rhs.clone()
    z = r / diag
    p = z.clone()
    rz = r @ z
    norm0 = rhs.norm().clamp_min(1e-300)
    for it in range(1, max_iter + 1):
        Kp = matvec(p)
        step = rz / (p @ Kp)
        x = x + step * p
        r = r - step * Kp
        if r.norm() / norm0 < tol:
            return x, it
        z = r / diag
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, max_iter


class DescriptorGP(Model):
    r"""BoTorch GP over gene-index pairs with descriptor gene kernels.

    Inputs are ``... x 2`` gene-index pairs (float holding integers, as BoTorch / Ax pass
    them). ``posterior`` is an exact joint Gaussian, so analytic and MC acquisitions, ours
    (MPE, RECOVER-UCB) and BoTorch's, and ``ModelList`` work unchanged.

    Example:
        >>> gp = DescriptorGP(screen.single_effects, genes=screen.genes, descriptors="string+go")
        >>> gp.fit(train_X, train_Y).posterior(X.unsqueeze(-2)).mean

    Args:
        single_effects: ``(M,)`` single-gene effects (index = gene id).
        seed: seed of the hyper-parameter subset (scalable path) and of the fit's restarts.
        genes: the M gene names (needed to align descriptors given by spec).
        descriptors: a spec string (``"string+go"``, ``"network:PATH"``, ...; see
            :mod:`naiad_bo.descriptors.sources`), a list of sources or of
            :class:`~naiad_bo.descriptors.AlignedDescriptor`, or None: the GP on single effects
            (mean + effect RBF + identity) only.
        single_effect_mean: use the linear single-effect mean (else a constant mean).
        single_effect_kernel: include the RBF on single effects in the gene kernel.
        interaction, additive: pair-kernel terms.
        exact_limit: the largest training set conditioned on exactly by Cholesky (see module
            docstring).
        hyper_limit: hyper-parameters are fitted on a seeded subset of at most this many
            training pairs (subset-of-data; the posterior still conditions on all pairs).
        maxiter: L-BFGS iterations of the marginal-likelihood fit.
        cg_tol: relative residual tolerance of CG on the scalable path.
    """

    spec_argument: ClassVar[str] = "descriptors"
    requires_genes: ClassVar[bool] = True
    _num_outputs = 1

    def __init__(
        self,
        single_effects: Tensor | np.ndarray,
        *,
        seed: int = 0,
        genes: Sequence[str] | None = None,
        descriptors: str | Sequence[DescriptorSource | AlignedDescriptor] | None = None,
        single_effect_mean: bool = True,
        single_effect_kernel: bool = True,
        interaction: bool = True,
        additive: bool = True,
        exact_limit: int = 3000,
        hyper_limit: int = 1000,
        maxiter: int = 100,
        cg_tol: float = 1e-6,
    ) -> None:
        super().__init__()
        self.register_buffer("single_effects", as_single_effects(single_effects))
        m = self.n_genes
        if genes is not None and len(genes) != m:
            raise ValueError(f"genes has {len(genes)} names but single_effects has {m} values")
        if int(exact_limit) < 10:
            raise ValueError(f"exact_limit must be >= 10, got {exact_limit!r}")
        self.seed = int(seed)
        self.genes = None if genes is None else tuple(str(g) for g in genes)
        self.single_effect_mean = bool(single_effect_mean)
        self.single_effect_kernel = bool(single_effect_kernel)
        self.interaction, self.additive = bool(interaction), bool(additive)
        self.exact_limit = int(exact_limit)
        self.hyper_limit = min(int(hyper_limit), self.exact_limit)
        if self.hyper_limit < 10:
            raise ValueError(f"hyper_limit must be >= 10, got {hyper_limit!r}")
        self.maxiter = int(maxiter)
        self.cg_tol = float(cg_tol)
        self.descriptors = self._resolve(descriptors)
        self.gp_: PairExactGP | None = None
        self.n_train_: int | None = None
        self.fit_info_: dict = {}
        self.variance_table_: Tensor | None = None
        self.direct_marginals_ = 0

    def _resolve(self, descriptors) -> list[AlignedDescriptor]:
        if descriptors is None or (isinstance(descriptors, str) and not descriptors.strip()):
            return []
        items = [descriptors] if isinstance(descriptors, str) else list(descriptors)
        if all(isinstance(d, AlignedDescriptor) for d in items):
            out = items
        else:
            if self.genes is None:
                raise ValueError(
                    "DescriptorGP needs genes=... (the screen's gene names) to align "
                    f"descriptors {descriptors!r}"
                )
            out = load_descriptors(descriptors, self.genes)
        for d in out:
            if d.features.shape[0] != self.n_genes:
                raise ValueError(
                    f"descriptor {d.name!r} has {d.features.shape[0]} genes, expected "
                    f"{self.n_genes}"
                )
        return out

    # ------------------------------------------------------------------ properties
    @property
    def n_genes(self) -> int:
        """Number of genes M."""
        return int(self.single_effects.shape[0])

    @property
    def num_outputs(self) -> int:
        """One output."""
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        """Not batched."""
        return torch.Size([])

    @property
    def coverage(self) -> list[CoverageReport]:
        """Coverage report of each descriptor."""
        return [d.report for d in self.descriptors]

    # ------------------------------------------------------------------ fitting
    def _build(self, X: Tensor, ys: Tensor, se_scaled: Tensor) -> PairExactGP:
        grams = [torch.from_numpy(d.gram()) for d in self.descriptors]
        gene = GeneGram(grams, self.single_effects if self.single_effect_kernel else None,
                        identity=True) if (grams or self.single_effect_kernel) else None
        if gene is None:  # identity only
            gene = GeneGram([torch.eye(self.n_genes, dtype=torch.float64)], None, identity=False)
        kernel = SymmetricPairKernel(gene, interaction=self.interaction, additive=self.additive)
        F = SingleEffectMean(se_scaled).features(X.to(torch.float64))
        if self.single_effect_mean:
            coef = torch.linalg.lstsq(F, ys.unsqueeze(-1)).solution.squeeze(-1)
            mean = SingleEffectMean(se_scaled, coef)
        else:
            coef = torch.tensor([float(ys.mean()), 0.0, 0.0], dtype=torch.float64)
            mean = ConstantMean().to(torch.float64)
            mean.constant.data.fill_(float(ys.mean()))
        resid = float(((ys - F @ coef) ** 2).mean().clamp_min(1e-6))
        lik = GaussianLikelihood(noise_constraint=GreaterThan(1e-6)).to(torch.float64)
        lik.noise = max(0.5 * resid, 1e-3)
        kernel.raw_scales.data.copy_(
            kernel.raw_scales_constraint.inverse_transform(
                torch.full((2,), max(0.25 * resid, 1e-3), dtype=torch.float64)
            )
        )
        return PairExactGP(X.to(torch.float64), ys.unsqueeze(-1), mean, kernel, lik)

    def fit(self, train_X: Tensor, train_Y: Tensor) -> DescriptorGP:
        """Fit hyper-parameters by marginal likelihood and condition on the data.

        Args:
            train_X: ``n x 2`` gene-index pairs (n >= 4).
            train_Y: ``n x 1`` measured phenotypes.

        Returns:
            self.
        """
        if not isinstance(train_X, Tensor) or train_X.dim() != 2:
            raise ValueError(
                f"train_X must be an n x 2 tensor, got {getattr(train_X, 'shape', type(train_X))}"
            )
        X = as_gene_pairs(train_X, self.n_genes, name="train_X")
        n = int(X.shape[0])
        if n < 4:
            raise ValueError(f"DescriptorGP needs at least 4 training pairs, got {n}")
        y = as_targets(train_Y, n)[:, 0]
        mu, sd = y.mean(), y.std().clamp_min(1e-12)
        ys = (y - mu) / sd
        se_scaled = (self.single_effects - mu) / sd
        rng = np.random.default_rng(self.seed)
        sub = (
            torch.from_numpy(np.sort(rng.choice(n, self.exact_limit, replace=False)))
            if n > self.exact_limit else torch.arange(n)
        )
        gp = self._build(X[sub], ys[sub], se_scaled)
        hyper = sub
        if sub.numel() > self.hyper_limit:
            hyper = sub[torch.from_numpy(np.sort(rng.choice(sub.numel(), self.hyper_limit,
                                                            replace=False)))]
        gp.set_train_data(X[hyper].to(torch.float64), ys[hyper], strict=False)
        self.fit_info_ = fit_marginal_likelihood(gp, maxiter=self.maxiter)
        gp.eval()
        self.gp_ = gp
        self.y_mean_, self.y_std_ = mu, sd
        self.n_train_ = n
        self._condition(X, ys, X[sub], ys[sub])
        return self

    @torch.no_grad()
    def _condition(self, X: Tensor, ys: Tensor, Xc: Tensor, ysc: Tensor) -> None:
        gp = self.gp_
        kernel = gp.covar_module
        G = kernel.gene_gram().detach()
        scales = kernel.scales.detach()
        noise = gp.likelihood.noise.detach().reshape(())
        Xcf = Xc.to(torch.float64)
        Kc = kernel.gram_terms(G, Xcf, Xcf)
        Kc = Kc + noise * torch.eye(Kc.shape[0], dtype=Kc.dtype)
        L, info = torch.linalg.cholesky_ex(Kc)
        jitter = 1e-8
        while int(info) != 0 and jitter < 1e-2:
            L, info = torch.linalg.cholesky_ex(Kc + jitter * torch.eye(Kc.shape[0], dtype=Kc.dtype))
            jitter *= 10
        resid = ys - gp.mean_module(X.to(torch.float64))
        if X.shape[0] == Xc.shape[0]:
            alpha = torch.cholesky_solve(resid.unsqueeze(-1), L).squeeze(-1)
            iters = 0
        else:
            a, b = X[:, 0], X[:, 1]
            diag = kernel.gram_terms(G, X.to(torch.float64), X.to(torch.float64), diag=True) + noise

            def mv(v: Tensor) -> Tensor:
                return pair_kernel_matvec(G, scales, a, b, v) + noise * v

            alpha, iters = _cg(mv, resid, diag, self.cg_tol, 1000)
        M = self.n_genes
        A = torch.zeros(M, M, dtype=torch.float64)
        A.index_put_((X[:, 0], X[:, 1]), alpha, accumulate=True)
        c = torch.zeros(M, dtype=torch.float64)
        c.index_add_(0, X[:, 0], alpha)
        c.index_add_(0, X[:, 1], alpha)
        u = G @ c
        self.mean_table_ = scales[0] * (G @ (A + A.T) @ G) + scales[1] * (u[:, None] + u[None, :])
        self.gene_gram_, self.chol_, self.X_cond_ = G, L, Xcf
        self.noise_ = noise
        self.variance_table_ = None
        self.direct_marginals_ = 0
        self.fit_info_ = {
            **self.fit_info_,
            "n_train": int(X.shape[0]),
            "n_exact": int(Xc.shape[0]),
            "n_hyper": int(self.gp_.train_targets.numel()),
            "cg_iterations": int(iters),
            "noise_var": float(noise * self.y_std_**2),
            "scales": [float(s * self.y_std_**2) for s in scales],
            "gene_weights": [float(w) for w in kernel.gene_gram.weights.detach()],
        }

    def _check_fitted(self) -> None:
        if self.gp_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call .fit(X, Y) first")

    # ------------------------------------------------------------------ prediction
    @torch.no_grad()
    def predict_mean(self, X: Tensor) -> Tensor:
        """Posterior mean of shape ``X.shape[:-1]`` (a table gather per pair; no kernel work)."""
        self._check_fitted()
        pairs = as_gene_pairs(X, self.n_genes)
        m = self.gp_.mean_module(pairs.to(torch.float64))
        return (m + self.mean_table_[pairs[..., 0], pairs[..., 1]]) * self.y_std_ + self.y_mean_

    def _joint_covariance(self, xb: Tensor) -> Tensor:
        """Standardised posterior covariance ``B x q x q`` of a block of ``B x q x 2`` pairs."""
        kernel = self.gp_.covar_module
        q = xb.shape[-2]
        kqq = kernel.gram_terms(self.gene_gram_, xb, xb)
        kxq = kernel.gram_terms(self.gene_gram_, self.X_cond_, xb)  # B x n x q
        nb = kxq.shape[0]
        rhs = kxq.permute(1, 0, 2).reshape(kxq.shape[1], nb * q)  # one n x (B q) solve
        V = torch.linalg.solve_triangular(self.chol_, rhs, upper=False).reshape(-1, nb, q)
        return kqq - torch.einsum("nbq,nbr->bqr", V, V)

    def _variance_table(self) -> Tensor:
        """Standardised ``M x M`` posterior variance table (cached per fit)."""
        if self.variance_table_ is None:
            kernel = self.gp_.covar_module
            scales = kernel.scales.detach()
            pairs = self.X_cond_.round().long()
            W = torch.cholesky_inverse(self.chol_)
            Q = pair_quadratic_table(self.gene_gram_, scales, pairs[:, 0], pairs[:, 1], W)
            self.variance_table_ = pair_prior_variance_table(self.gene_gram_, scales) - Q
        return self.variance_table_

    @torch.no_grad()
    def posterior_variance_table(self) -> Tensor:
        r"""Posterior variance of every gene pair, ``M x M`` (symmetric), original units.

        ``k(x, x) - k_X(x)^\top K^{-1} k_X(x)`` for all ``x = (c, d)`` at once
        (:func:`~naiad_bo.kernels.pair_quadratic_table`, ``M^4 + 4 M n^2`` flops with ``n``
        the conditioning pairs; ``K^{-1}`` from the cached Cholesky factor). Computed once per
        fit and cached; marginal posteriors (``q = 1``) gather from it once it pays off (see
        :meth:`posterior`).
        """
        self._check_fitted()
        return self._variance_table() * self.y_std_**2

    def _use_variance_table(self, n_marginals: int) -> bool:
        """Ski-rental rule: build the table once the direct marginals would have cost as much."""
        if self.variance_table_ is not None:
            return True
        n, m = int(self.X_cond_.shape[0]), self.n_genes
        if m > _TABLE_MAX_GENES:  # the M x M table and its M x 2n workspace stay bounded
            return False
        table = m**4 + 4 * m * n * n + 10 * m * m * n
        per_pair = n * n + 10 * n
        if (self.direct_marginals_ + n_marginals) * per_pair >= table:
            return True
        self.direct_marginals_ += n_marginals
        return False

    def posterior(
        self,
        X: Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | Tensor = False,
        posterior_transform: PosteriorTransform | None = None,
        **kwargs: Any,
    ) -> GPyTorchPosterior:
        r"""Exact joint Gaussian posterior over ``batch_shape x q x 2`` pairs.

        Marginals (``q = 1``) gather their variance from :meth:`posterior_variance_table`
        once the pairs scored directly since the fit would have cost as much as the table
        (ski rental: never more than twice the cheaper choice; the ~100k pairs of a screen
        take one table); the values are the same to rounding. Otherwise, and for joint
        posteriors (``q > 1``), test-train covariances are formed in blocks of at most
        ``2048`` batch elements (``O(block * q * n)`` memory) and solved against the cached
        Cholesky factor.

        Returns:
            ``GPyTorchPosterior``: mean ``batch_shape x q x 1``, covariance ``q x q`` per batch.
        """
        self._check_fitted()
        if output_indices is not None and list(output_indices) != [0]:
            raise ValueError(f"output_indices must be None or [0], got {output_indices}")
        if X.dim() < 2:
            raise ValueError(f"X must have shape batch x q x 2, got {tuple(X.shape)}")
        pairs = as_gene_pairs(X, self.n_genes)
        dtype = X.dtype if X.is_floating_point() else torch.float64
        batch, q = pairs.shape[:-2], pairs.shape[-2]
        flat = pairs.reshape(-1, q, 2).to(torch.float64)
        with torch.no_grad():
            mean = self.predict_mean(flat)
            if q == 1 and self._use_variance_table(flat.shape[0]):
                p = flat.round().long()
                cov = self._variance_table()[p[..., 0], p[..., 1]].unsqueeze(-1)  # B x 1 x 1
            else:
                cov = torch.cat([self._joint_covariance(flat[s : s + _BLOCK])
                                 for s in range(0, flat.shape[0], _BLOCK)])
            cov = cov * self.y_std_**2
        eye = torch.eye(q, dtype=cov.dtype)
        cov = cov + 1e-10 * self.y_std_**2 * eye
        if q == 1:
            cov = cov.clamp_min(1e-12 * float(self.y_std_**2))
        if isinstance(observation_noise, Tensor):
            noise = observation_noise.to(cov).reshape(-1, q) if observation_noise.numel() > 1 else (
                observation_noise.to(cov).reshape(1, 1).expand(cov.shape[0], q)
            )
            cov = cov + torch.diag_embed(noise)
        elif observation_noise:
            cov = cov + self.noise_ * self.y_std_**2 * eye
        mvn = MultivariateNormal(
            mean.reshape(*batch, q).to(dtype), cov.reshape(*batch, q, q).to(dtype)
        )
        posterior = GPyTorchPosterior(mvn)
        if posterior_transform is not None:
            return posterior_transform(posterior)
        return posterior

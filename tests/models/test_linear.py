"""Tests for naiad_bo.models.linear."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import PosteriorMean, UpperConfidenceBound
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from botorch.posteriors.gpytorch import GPyTorchPosterior
from botorch.sampling import SobolQMCNormalSampler

from naiad_bo.models.linear import AdditiveLinearModel, NotFittedError
from naiad_bo.splits import train_test_split


def _synthetic(n=400, m=30, seed=0, noise=0.01):
    rng = np.random.default_rng(seed)
    se = rng.normal(0, 0.2, m)
    pairs = np.sort(rng.integers(0, m, size=(n, 2)), axis=1)
    lo = np.minimum(se[pairs[:, 0]], se[pairs[:, 1]])
    hi = np.maximum(se[pairs[:, 0]], se[pairs[:, 1]])
    y = 0.05 + 0.9 * lo + 0.4 * hi + rng.normal(0, noise, n)
    return se, torch.from_numpy(pairs), torch.from_numpy(y).unsqueeze(-1)


def test_recovers_coefficients_and_noise():
    se, X, Y = _synthetic()
    m = AdditiveLinearModel(se).fit(X, Y)
    assert torch.allclose(m.coef_, torch.tensor([0.05, 0.9, 0.4], dtype=torch.float64), atol=0.01)
    assert 0.8e-4 < float(m.noise_var_) < 1.25e-4
    assert m.n_train_ == X.shape[0]


def test_exactly_symmetric_and_float_inputs():
    se, X, Y = _synthetic()
    m = AdditiveLinearModel(se).fit(X, Y)
    pairs = torch.cartesian_prod(torch.arange(30), torch.arange(30))
    a = m.posterior(pairs.unsqueeze(-2))
    b = m.posterior(pairs.flip(-1).double().unsqueeze(-2))
    assert torch.equal(a.mean, b.mean)
    assert torch.equal(a.variance, b.variance)


def test_posterior_matches_bayesian_linear_regression():
    se, X, Y = _synthetic(n=60, noise=0.05)
    m = AdditiveLinearModel(se, ridge=0.0).fit(X, Y)
    F = m.features(X)
    beta, *_ = np.linalg.lstsq(F.numpy(), Y.numpy()[:, 0], rcond=None)
    rss = ((F.numpy() @ beta - Y.numpy()[:, 0]) ** 2).sum()
    sigma2 = rss / (60 - 3)
    cov = sigma2 * np.linalg.inv(F.numpy().T @ F.numpy())
    Xq = X[:7].unsqueeze(0)  # 1 x 7 x 2: joint over q = 7
    post = m.posterior(Xq)
    assert isinstance(post, GPyTorchPosterior)
    assert post.mean.shape == (1, 7, 1)
    Fq = F[:7].numpy()
    np.testing.assert_allclose(post.mean[0, :, 0].numpy(), Fq @ beta, rtol=1e-8, atol=1e-10)
    full = post.distribution.covariance_matrix[0].detach().numpy()
    np.testing.assert_allclose(full, Fq @ cov @ Fq.T, rtol=1e-6, atol=1e-12)
    noisy = m.posterior(Xq, observation_noise=True)
    np.testing.assert_allclose(
        (noisy.variance - post.variance).numpy(), np.full((1, 7, 1), sigma2), rtol=1e-8
    )
    # MC sampling through the rank-3 root works for q > 3
    sampler = SobolQMCNormalSampler(sample_shape=torch.Size([64]), seed=0)
    samples = sampler(post)
    assert samples.shape == (64, 1, 7, 1)


def test_works_with_analytic_acquisition():
    se, X, Y = _synthetic()
    m = AdditiveLinearModel(se).fit(X, Y)
    ucb = UpperConfidenceBound(m, beta=4.0)
    vals = ucb(X[:10].double().unsqueeze(-2))
    post = m.posterior(X[:10].unsqueeze(-2))
    assert torch.allclose(vals, (post.mean + 2 * post.variance.sqrt()).reshape(-1))
    # Ax minimises through a ScalarizedPosteriorTransform with weight -1
    t = ScalarizedPosteriorTransform(weights=torch.tensor([-1.0], dtype=torch.float64))
    neg = PosteriorMean(m, posterior_transform=t)(X[:10].double().unsqueeze(-2))
    assert torch.allclose(neg, -post.mean.reshape(-1))


def test_beats_mean_predictor_on_real_screens(norman, horlbeck):
    for screen, n_train in ((norman, 224), (horlbeck, 896)):
        X = torch.from_numpy(screen.pair_index().copy())
        y = screen.y_values()
        for seed in range(3):
            s = train_test_split(screen.n_pairs, n_train, seed=seed)
            m = AdditiveLinearModel(screen.single_effects, seed=seed)
            m.fit(X[s.train], torch.from_numpy(y[s.train]).unsqueeze(-1))
            pred = m.posterior(X[s.test].unsqueeze(-2)).mean.reshape(-1).numpy()
            rmse = np.sqrt(np.mean((pred - y[s.test]) ** 2))
            rmse_mean = np.sqrt(np.mean((y[s.train].mean() - y[s.test]) ** 2))
            assert rmse < 0.6 * rmse_mean, (screen.name, seed, rmse, rmse_mean)
            # calibration: the predictive sd is the right order of magnitude
            sd = float(m.noise_var_) ** 0.5
            assert 0.7 < rmse / sd < 1.4


def test_bad_input_and_not_fitted():
    se, X, Y = _synthetic()
    m = AdditiveLinearModel(se)
    with pytest.raises(NotFittedError, match="fit"):
        m.posterior(X[:3].unsqueeze(-2))
    with pytest.raises(ValueError, match="at least 4"):
        m.fit(X[:3], Y[:3])
    with pytest.raises(ValueError, match="train_Y has 399 values"):
        m.fit(X, Y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        m.fit(X, torch.full_like(Y, float("nan")))
    with pytest.raises(ValueError, match="knows 30 genes"):
        m.fit(X + 30, Y)
    with pytest.raises(TypeError):
        AdditiveLinearModel([0.1, 0.2])

"""Cross-validated variance scale and bagged members of the pair deep ensembles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from naiad_bo.models import CrossValidatedVarianceScale, EnsembleConfig, NaiadEnsemble
from naiad_bo.models.training import train_members
from naiad_bo.models.variance_calibration import fit_variance_scale, noise_standardization

FAST = {"ensemble_size": 3, "epochs": 20}


@pytest.fixture(scope="module")
def norman_data(norman):
    X = torch.as_tensor(norman.pair_index())
    Y = torch.as_tensor(norman.y_values()).unsqueeze(-1)
    idx = torch.randperm(len(Y), generator=torch.Generator().manual_seed(0))
    return X[idx[:240]], Y[idx[:240]], X[idx[240:1240]]


def test_fit_variance_scale_recovers_known_parameters():
    rng = np.random.default_rng(0)
    n = 40_000
    v = rng.uniform(0.0, 2.0, n)
    z = rng.normal(size=n)
    a, s2, c = 1.7, 0.3, 0.5
    r = rng.normal(size=n) * np.sqrt(a * v + s2 * np.exp(c * z))
    a_hat, s2_hat, c_hat = fit_variance_scale(r, v, None, z)
    assert a_hat == pytest.approx(a, rel=0.08)
    assert s2_hat == pytest.approx(s2, rel=0.08)
    assert c_hat == pytest.approx(c, abs=0.05)
    # brute force: the fitted point beats a grid around it
    def nll(a_, s2_, c_):
        tot = a_ * v + s2_ * np.exp(c_ * z)
        return np.mean(np.log(tot) + r**2 / tot)

    best = nll(a_hat, s2_hat, c_hat)
    for da in (0.9, 1.1):
        for ds in (0.9, 1.1):
            for dc in (-0.05, 0.05):
                assert nll(a_hat * da, s2_hat * ds, c_hat + dc) >= best
    # fixed noise: only a is fitted, sigma^2 comes back unchanged, no slope without z
    a_fix, s2_fix, c_fix = fit_variance_scale(r, v, 0.3)
    assert s2_fix == 0.3 and c_fix == 0.0 and a_fix > 0
    with pytest.raises(ValueError, match="aligned"):
        fit_variance_scale(r[:5], v[:4])


def test_cv_scale_keeps_the_mean_and_scales_the_members(norman, norman_data):
    X, Y, Xt = norman_data
    plain = NaiadEnsemble(norman, seed=3, **FAST).fit(X, Y)
    cal = NaiadEnsemble(
        norman, seed=3, variance_calibration=CrossValidatedVarianceScale(3), **FAST
    ).fit(X, Y)
    p0, p1 = plain.posterior(Xt.double()), cal.posterior(Xt.double())
    torch.testing.assert_close(p1.mean, p0.mean)  # MPE unchanged
    a = cal.variance_scale_
    assert a > 0 and a != 1.0
    torch.testing.assert_close(p1.variance, a * p0.variance)
    # the noise follows the predicted mean: sigma^2 exp(c (mu - ybar) / s_y)
    noisy = cal.posterior(Xt.double(), observation_noise=True)
    center, scale = noise_standardization(Y)
    expected = p1.variance + cal.noise_variance_ * torch.exp(
        cal.noise_slope_ * (p1.mean - center) / scale
    )
    torch.testing.assert_close(noisy.variance, expected)
    # persistence keeps scale and noise model
    loaded = NaiadEnsemble.from_state(cal.state())
    torch.testing.assert_close(
        loaded.posterior(Xt.double(), observation_noise=True).variance, noisy.variance
    )


def test_cv_scale_brute_force_matches_fold_refits(norman, norman_data):
    """The fitted (a, sigma^2) maximise the likelihood of fold residuals computed by hand."""
    X, Y, _ = norman_data
    spec = CrossValidatedVarianceScale(2, mean_dependent_noise=False)
    cal = NaiadEnsemble(norman, seed=1, variance_calibration=spec, **FAST).fit(X, Y)
    from naiad_bo.models.variance_calibration import FOLD_SEED_OFFSET

    gen = torch.Generator().manual_seed(1 + FOLD_SEED_OFFSET)
    perm = torch.randperm(len(Y), generator=gen)
    fold = torch.empty(len(Y), dtype=torch.long)
    fold[perm] = torch.arange(len(Y)) % 2
    r, v = np.empty(len(Y)), np.empty(len(Y))
    for k in range(2):
        held = fold == k
        m = NaiadEnsemble(norman, seed=1 + FOLD_SEED_OFFSET + k, **FAST).fit(X[~held], Y[~held])
        post = m.posterior(X[held].double())
        r[held.numpy()] = (Y[held].reshape(-1) - post.mean.reshape(-1)).numpy()
        v[held.numpy()] = post.variance.reshape(-1).numpy()
    a, s2, c = fit_variance_scale(r, v)
    assert c == 0.0 and cal.noise_slope_ == 0.0
    assert cal.variance_scale_ == pytest.approx(a, rel=1e-6)
    assert cal.noise_variance_ == pytest.approx(s2, rel=1e-6)


def test_cv_scale_needs_enough_pairs(norman):
    X = torch.as_tensor(norman.pair_index()[:5])
    Y = torch.as_tensor(norman.y_values()[:5]).unsqueeze(-1)
    model = NaiadEnsemble(norman, variance_calibration=CrossValidatedVarianceScale(3), **FAST)
    with pytest.raises(ValueError, match="at least 6 training pairs"):
        model.fit(X, Y)


def test_bootstrap_members_are_reproducible_and_differ(norman, norman_data):
    X, Y, Xt = norman_data
    b1 = NaiadEnsemble(norman, seed=0, bootstrap=True, **FAST).fit(X, Y)
    b2 = NaiadEnsemble(norman, seed=0, bootstrap=True, **FAST).fit(X, Y)
    plain = NaiadEnsemble(norman, seed=0, **FAST).fit(X, Y)
    v1 = b1.posterior(Xt.double()).values
    torch.testing.assert_close(v1, b2.posterior(Xt.double()).values)
    assert not torch.allclose(v1, plain.posterior(Xt.double()).values)


def test_unit_pair_weights_equal_unweighted_training():
    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            gen = torch.Generator().manual_seed(0)
            self.w = torch.nn.Parameter(torch.randn(2, 10, generator=gen))

        def forward(self, a, b):
            return self.w[:, a] + self.w[:, b]

    a = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7])
    b = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8])
    z = torch.linspace(-1, 1, 8)
    cfg = EnsembleConfig(ensemble_size=2, batch_size=4)
    nets = [Tiny(), Tiny()]
    h0 = train_members(nets[0], a, b, z, config=cfg, epochs=5,
                       generator=torch.Generator().manual_seed(1))
    h1 = train_members(nets[1], a, b, z, config=cfg, epochs=5,
                       generator=torch.Generator().manual_seed(1),
                       pair_weights=torch.ones(2, 8))
    torch.testing.assert_close(h0, h1)
    torch.testing.assert_close(nets[0].w, nets[1].w)
    # a zero weight removes a pair from a member's loss: its gradient stays untouched
    net = Tiny()
    w9 = net.w[:, 9].detach().clone()
    weights = torch.ones(2, 8)
    weights[:, 7] = 0.0  # the only pair with gene 8
    w8 = net.w[:, 8].detach().clone()
    train_members(net, a, b, z, config=cfg, epochs=3,
                  generator=torch.Generator().manual_seed(1), pair_weights=weights)
    torch.testing.assert_close(net.w[:, 8], w8)
    torch.testing.assert_close(net.w[:, 9], w9)


def test_config_fields_validate_and_round_trip():
    spec = CrossValidatedVarianceScale(4, mean_dependent_noise=False)
    cfg = EnsembleConfig(bootstrap=True, variance_calibration=spec)
    again = EnsembleConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.variance_calibration.folds == 4
    assert EnsembleConfig.from_options(variance_calibration="cv5").variance_calibration.folds == 5
    assert EnsembleConfig.from_options(bootstrap="true").bootstrap is True
    with pytest.raises(ValueError, match="folds"):
        CrossValidatedVarianceScale(1)
    with pytest.raises(TypeError, match="variance_calibration"):
        EnsembleConfig(variance_calibration=3)
    with pytest.raises(TypeError, match="bootstrap"):
        EnsembleConfig(bootstrap=1)
    assert math.isclose(EnsembleConfig().to_dict()["chunk_size"], 8192)


def test_held_out_folds_uses_only_those_folds(norman, norman_data):
    """held_out_folds=1: one fold refitted, the likelihood over its pairs only (brute force)."""
    X, Y, _ = norman_data
    spec = CrossValidatedVarianceScale(3, mean_dependent_noise=False, held_out_folds=1)
    cal = NaiadEnsemble(norman, seed=2, variance_calibration=spec, **FAST).fit(X, Y)
    from naiad_bo.models.variance_calibration import FOLD_SEED_OFFSET

    gen = torch.Generator().manual_seed(2 + FOLD_SEED_OFFSET)
    perm = torch.randperm(len(Y), generator=gen)
    fold = torch.empty(len(Y), dtype=torch.long)
    fold[perm] = torch.arange(len(Y)) % 3
    held = fold == 0
    m = NaiadEnsemble(norman, seed=2 + FOLD_SEED_OFFSET, **FAST).fit(X[~held], Y[~held])
    post = m.posterior(X[held].double())
    r = (Y[held].reshape(-1) - post.mean.reshape(-1)).numpy()
    a, s2, _ = fit_variance_scale(r, post.variance.reshape(-1).numpy())
    assert cal.variance_scale_ == pytest.approx(a, rel=1e-6)
    assert cal.noise_variance_ == pytest.approx(s2, rel=1e-6)
    data = cal.variance_calibration_data_["residual"]
    assert np.isfinite(data).sum() == int(held.sum()) == 80
    # all folds by default, and the option validates and round-trips
    assert CrossValidatedVarianceScale(3).held_out_folds is None
    cfg = EnsembleConfig(variance_calibration=spec)
    assert EnsembleConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="held_out_folds"):
        CrossValidatedVarianceScale(3, held_out_folds=4)
    with pytest.raises(ValueError, match="held_out_folds"):
        CrossValidatedVarianceScale(3, held_out_folds=0)

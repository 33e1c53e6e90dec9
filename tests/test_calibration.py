"""Calibration metrics (naiad_bo/calibration.py) against scipy / brute-force references."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.optimize import minimize_scalar

from naiad_bo import metrics
from naiad_bo.calibration import (
    CALIBRATION_FIELDS,
    calibration_curve,
    calibration_metrics,
    calibration_spearman,
    gaussian_nll,
    interval_coverage,
    nll_homoscedastic,
    plot_reliability,
    undefined_calibration,
)
from naiad_bo.models import AdditiveLinearModel


@pytest.fixture(scope="module")
def linear_predictive(norman):
    """Mean / std of a Bayesian linear model fitted on 300 Norman pairs, at 2,000 others."""
    X = torch.as_tensor(norman.pair_index())
    y = norman.y_values()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(y))
    tr, te = idx[:300], idx[300:2300]
    model = AdditiveLinearModel(norman.single_effects).fit(
        X[tr], torch.as_tensor(y[tr]).unsqueeze(-1)
    )
    post = model.posterior(X[te].unsqueeze(-2), observation_noise=True)
    mean = post.mean.reshape(-1).detach().numpy()
    std = post.variance.reshape(-1).sqrt().detach().numpy()
    return y[te], mean, std


def test_coverage_matches_scipy_interval(linear_predictive):
    y, mu, sd = linear_predictive
    for level in (0.5, 0.9, 0.3):
        lo, hi = stats.norm.interval(level, loc=mu, scale=sd)
        expected = np.mean((y >= lo) & (y <= hi))
        assert interval_coverage(y, mu, sd, level) == pytest.approx(expected, abs=1e-12)
    # a linear model with its fitted noise level is close to calibrated on Norman
    assert 0.85 < interval_coverage(y, mu, sd, 0.9) < 0.97


def test_nll_matches_scipy_logpdf(linear_predictive):
    y, mu, sd = linear_predictive
    expected = -np.mean(stats.norm.logpdf(y, loc=mu, scale=sd))
    assert gaussian_nll(y, mu, sd) == pytest.approx(expected, rel=1e-12)
    assert gaussian_nll(torch.as_tensor(y), torch.as_tensor(mu), torch.as_tensor(sd)) == (
        pytest.approx(expected, rel=1e-12)
    )


def test_nll_homoscedastic_is_the_best_constant_std(linear_predictive):
    y, mu, _ = linear_predictive
    best = minimize_scalar(
        lambda log_s: gaussian_nll(y, mu, np.full(len(y), math.exp(log_s))),
        bounds=(-10, 2), method="bounded", options={"xatol": 1e-10},
    )
    assert nll_homoscedastic(y, mu) == pytest.approx(best.fun, abs=1e-9)
    # no constant std does better
    for s in (0.5, 0.9, 1.1, 2.0):
        rmse = math.sqrt(np.mean((y - mu) ** 2))
        assert gaussian_nll(y, mu, np.full(len(y), s * rmse)) > nll_homoscedastic(y, mu)


def test_spearman_matches_scipy_including_ties(linear_predictive):
    y, mu, sd = linear_predictive
    ref = stats.spearmanr(sd, np.abs(y - mu)).statistic
    assert calibration_spearman(y, mu, sd) == pytest.approx(ref, abs=1e-12)
    coarse = np.round(sd, 3)  # many ties
    ref = stats.spearmanr(coarse, np.abs(y - mu)).statistic
    assert calibration_spearman(y, mu, coarse) == pytest.approx(ref, abs=1e-12)
    assert math.isnan(calibration_spearman(y, mu, np.full(len(y), 0.1)))  # constant std


def test_calibration_curve_agrees_with_coverage_and_is_monotone(linear_predictive):
    y, mu, sd = linear_predictive
    levels, observed = calibration_curve(y, mu, sd)
    assert levels.tolist() == pytest.approx([k / 20 for k in range(1, 20)])
    assert np.all(np.diff(observed) >= 0)
    for p, o in zip(levels, observed, strict=True):
        assert o == pytest.approx(interval_coverage(y, mu, sd, float(p)))


def test_perfectly_calibrated_gaussian_draws():
    rng = np.random.default_rng(1)
    mu = rng.normal(size=20_000)
    sd = rng.uniform(0.1, 2.0, size=20_000)
    y = mu + sd * rng.normal(size=20_000)
    out = calibration_metrics(y, mu, sd)
    assert set(out) == set(CALIBRATION_FIELDS)
    assert out["coverage50"] == pytest.approx(0.5, abs=0.01)
    assert out["coverage90"] == pytest.approx(0.9, abs=0.01)
    assert out["nll"] < out["nll_homoscedastic"]  # informative per-pair std
    assert out["calibration_spearman"] > 0.3
    # a std that is right on average but shuffled carries no information
    shuffled = calibration_metrics(y, mu, rng.permutation(sd))
    assert shuffled["nll"] > shuffled["nll_homoscedastic"]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="std must be > 0"):
        gaussian_nll([0.0, 1.0], [0.0, 0.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="std has length"):
        interval_coverage([0.0, 1.0], [0.0, 0.0], [1.0])
    with pytest.raises(ValueError, match="level must be in"):
        interval_coverage([0.0], [0.0], [1.0], level=1.0)
    with pytest.raises(ValueError, match="NaN"):
        gaussian_nll([np.nan], [0.0], [1.0])
    with pytest.raises(ValueError, match="perfect fit"):
        nll_homoscedastic([1.0, 2.0], [1.0, 2.0])


def test_undefined_calibration_and_reexports():
    out = undefined_calibration("deterministic")
    assert all(math.isnan(out[k]) for k in CALIBRATION_FIELDS)
    assert out["calibration_note"] == "deterministic"
    assert metrics.gaussian_nll is gaussian_nll and metrics.interval_coverage is interval_coverage


def test_plot_reliability(linear_predictive):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y, mu, sd = linear_predictive
    ax = plot_reliability({"linear": calibration_curve(y, mu, sd)}, title="Norman")
    assert len(ax.lines) == 2 and ax.get_title() == "Norman"
    plt.close(ax.figure)

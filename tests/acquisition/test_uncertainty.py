"""Tests for naiad_bo.acquisition.uncertainty: variance, BALD, margin."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.acquisition import BALD, EnsembleVariance, Margin, select_batch
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.space import PairSpace

X = torch.tensor([[0, 1], [3, 3], [5, 9], [29, 2], [7, 11]])


def _members(model):
    return model.table[:, X[:, 0], X[:, 1]]


def test_variance_is_exact_member_variance(lookup):
    assert torch.allclose(EnsembleVariance(lookup).score(X), _members(lookup).var(0))


def test_bald_formula_and_same_ranking_as_variance(lookup):
    var = _members(lookup).var(0)
    assert torch.allclose(BALD(lookup).score(X), 0.5 * torch.log1p(var))
    assert torch.allclose(BALD(lookup, noise_var=0.5).score(X), 0.5 * torch.log1p(var / 0.5))
    space = PairSpace(30)
    a = select_batch(BALD(lookup), space, 25).pairs
    b = select_batch(EnsembleVariance(lookup), space, 25).pairs
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="noise_var"):
        BALD(lookup, noise_var=0.0)


def test_margin_is_max_minus_min(lookup):
    vals = _members(lookup)
    assert torch.allclose(Margin(lookup).score(X), vals.amax(0) - vals.amin(0))


def test_variance_on_bayesian_linear_model(norman):
    """Works on a GP-style (Gaussian) posterior: the marginal variance, one point at a time."""
    pairs = torch.as_tensor(np.array(norman.pair_index()))
    y = torch.as_tensor(np.array(norman.y_values())).unsqueeze(-1)
    lin = AdditiveLinearModel(norman.single_effects).fit(pairs[:300], y[:300])
    score = EnsembleVariance(lin).score(pairs[300:310])
    post_var = lin.posterior(pairs[300:310].unsqueeze(-2)).variance.reshape(-1)
    assert torch.allclose(score, post_var) and (score > 0).all()

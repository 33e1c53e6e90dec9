"""Tests for naiad_bo.kernels.mean against the Linear baseline."""

from __future__ import annotations

import numpy as np
import torch

from naiad_bo.kernels import SingleEffectMean
from naiad_bo.models import AdditiveLinearModel


def test_equals_linear_baseline_with_its_coefficients(norman):
    X = torch.from_numpy(norman.pair_index()[:500].copy())
    Y = torch.from_numpy(norman.y_values()[:500].copy()).unsqueeze(-1)
    lin = AdditiveLinearModel(norman.single_effects).fit(X, Y)
    mean = SingleEffectMean(torch.from_numpy(norman.single_effects), lin.coef_)
    np.testing.assert_allclose(mean(X.double()).detach(), lin.predict_mean(X), rtol=1e-12)
    np.testing.assert_allclose(mean(X.flip(-1).double()).detach(), mean(X.double()).detach())

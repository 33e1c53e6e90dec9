"""MemberEnsemblePosterior: observation noise on the variance only; scalarisation."""

from __future__ import annotations

import pytest
import torch
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from botorch.exceptions.errors import UnsupportedError

from naiad_bo.models.ensemble_posterior import MemberEnsemblePosterior, scalarize


def _values():
    g = torch.Generator().manual_seed(0)
    return torch.randn(2, 5, 3, 1, generator=g, dtype=torch.float64)


def test_noise_adds_to_variance_only():
    v = _values()
    plain = MemberEnsemblePosterior(v)
    noisy = MemberEnsemblePosterior(v, observation_noise=torch.tensor(0.5))
    torch.testing.assert_close(noisy.mean, plain.mean)
    torch.testing.assert_close(noisy.variance, v.var(-3) + 0.5)
    assert noisy.observation_noise.shape == (2, 3, 1)
    with pytest.raises(UnsupportedError, match="without observation_noise"):
        noisy.rsample(torch.Size([2]))
    assert plain.rsample(torch.Size([2])).shape == (2, 2, 3, 1)


def test_scalarize_members_and_noise():
    v = _values()
    post = MemberEnsemblePosterior(v, observation_noise=torch.tensor(0.5))
    tf = ScalarizedPosteriorTransform(weights=torch.tensor([-2.0], dtype=torch.float64),
                                      offset=1.0)
    out = scalarize(post, tf)
    torch.testing.assert_close(out.values, 1.0 - 2.0 * v)
    torch.testing.assert_close(out.variance, 4.0 * (v.var(-3) + 0.5))

"""Tests for naiad_bo.models.single_sum."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.posteriors.ensemble import EnsemblePosterior

from naiad_bo.models.single_sum import SingleEffectSumModel


def test_sum_values_and_symmetry():
    se = np.array([0.1, -0.2, 0.5])
    m = SingleEffectSumModel(se).fit(torch.tensor([[0, 1]]), torch.tensor([[0.0]]))
    X = torch.tensor([[[0, 1], [2, 2]], [[1, 0], [0, 2]]], dtype=torch.float64)
    post = m.posterior(X)
    assert isinstance(post, EnsemblePosterior)
    assert post.mean.shape == (2, 2, 1)
    expected = torch.tensor([[-0.1, 1.0], [-0.1, 0.6]], dtype=torch.float64)
    assert torch.allclose(post.mean[..., 0], expected)
    assert torch.all(post.variance == 0)
    assert m.num_outputs == 1


def test_bad_input():
    m = SingleEffectSumModel(np.zeros(3))
    with pytest.raises(ValueError, match="knows 3 genes"):
        m.posterior(torch.tensor([[[0, 3]]]))
    with pytest.raises(ValueError, match="non-integer"):
        m.posterior(torch.tensor([[[0.5, 1.0]]]))
    with pytest.raises(ValueError, match="train_Y has 2 values"):
        m.fit(torch.tensor([[0, 1]]), torch.zeros(2, 1))
    with pytest.raises(ValueError, match="missing"):
        SingleEffectSumModel(np.array([0.0, np.nan]))


def test_rank_by_sum_recovers_norman_top100(norman):
    """anchors.md: ranking Norman by y_a + y_b recovers ~37% of the true top-100."""
    m = SingleEffectSumModel(norman.single_effects)
    X = torch.from_numpy(norman.pair_index().copy())
    pred = m.posterior(X.unsqueeze(-2)).mean.reshape(-1).numpy()
    y = norman.y_values()
    strength_pred = norman.direction.strength(pred)
    strength_true = norman.direction.strength(y)
    top_pred = set(np.argsort(-strength_pred, kind="stable")[:100])
    top_true = set(np.argsort(-strength_true, kind="stable")[:100])
    overlap = len(top_pred & top_true)
    assert 30 <= overlap <= 45, overlap

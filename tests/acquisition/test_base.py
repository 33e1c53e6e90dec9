"""Tests for naiad_bo.acquisition.base: input checks, model capability checks, the hook."""

from __future__ import annotations

import pytest
import torch
from botorch.models.deterministic import GenericDeterministicModel

from naiad_bo.acquisition import (
    BALD,
    AcquisitionModelError,
    EnsembleVariance,
    Margin,
    MaxPredictedEffect,
    OptimisticEffect,
    RecoverUCB,
    SoftBALD,
    ThompsonSampling,
    Uniform,
    as_index_pairs,
)
from naiad_bo.direction import Direction
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.models.single_sum import SingleEffectSumModel


def test_as_index_pairs_accepts_integer_floats_and_rejects_bad_input():
    X = torch.tensor([[0.0, 3.0], [2.0, 2.0]], dtype=torch.float64)
    out = as_index_pairs(X)
    assert out.dtype == torch.long and out.tolist() == [[0, 3], [2, 2]]
    with pytest.raises(ValueError, match="integers"):
        as_index_pairs(torch.tensor([[0.5, 1.0]]))
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        as_index_pairs(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="negative"):
        as_index_pairs(torch.tensor([[-1, 2]]))
    with pytest.raises(ValueError, match="NaN"):
        as_index_pairs(torch.tensor([[float("nan"), 2.0]]))
    with pytest.raises(TypeError):
        as_index_pairs([[0, 1]])


@pytest.mark.parametrize(
    "cls", [EnsembleVariance, BALD, SoftBALD, Margin, ThompsonSampling, OptimisticEffect]
)
def test_deterministic_model_cannot_feed_uncertainty_acquisitions(cls):
    model = SingleEffectSumModel(torch.randn(10, dtype=torch.float64))
    with pytest.raises(AcquisitionModelError, match="deterministic"):
        cls(model)


def test_recover_ucb_rejects_deterministic_surrogate():
    se = torch.randn(10, dtype=torch.float64)
    with pytest.raises(AcquisitionModelError, match="deterministic"):
        RecoverUCB(SingleEffectSumModel(se), SingleEffectSumModel(se))


def test_mpe_works_on_deterministic_model():
    se = torch.tensor([0.0, -1.0, 2.0], dtype=torch.float64)
    acqf = MaxPredictedEffect(SingleEffectSumModel(se))
    X = torch.tensor([[0, 1], [1, 1], [2, 2]])
    assert torch.allclose(acqf.score(X), torch.tensor([1.0, 2.0, -4.0], dtype=torch.float64))


def test_margin_needs_members_not_a_gaussian_posterior():
    se = torch.randn(10, dtype=torch.float64)
    lin = AdditiveLinearModel(se)
    with pytest.raises(AcquisitionModelError, match="members"):
        Margin(lin)
    with pytest.raises(AcquisitionModelError, match="members"):
        ThompsonSampling(lin)


def test_one_member_ensemble_has_no_variance(lookup_factory):
    model = lookup_factory(n_members=1, n_genes=6)
    with pytest.raises(AcquisitionModelError, match="1 ensemble member"):
        EnsembleVariance(model).score(torch.tensor([[0, 1]]))
    with pytest.raises(AcquisitionModelError, match="at least 2"):
        Margin(model).score(torch.tensor([[0, 1]]))


def test_model_checks_none_multi_output_and_non_models():
    with pytest.raises(AcquisitionModelError, match="None"):
        MaxPredictedEffect(None)
    with pytest.raises(AcquisitionModelError, match="BoTorch Model"):
        MaxPredictedEffect(object())
    two = GenericDeterministicModel(lambda X: X.double(), num_outputs=2)
    with pytest.raises(AcquisitionModelError, match="single-output"):
        MaxPredictedEffect(two)


def test_forward_is_sum_of_pointwise_scores(lookup):
    acqf = MaxPredictedEffect(lookup)
    X = torch.tensor([[[0, 1], [2, 3]], [[4, 4], [5, 1]], [[7, 8], [9, 9]]])
    expected = acqf.score(X.reshape(-1, 2)).reshape(3, 2).sum(-1)
    assert torch.allclose(acqf(X), expected)
    # q = 1, float64 inputs as Ax and optimize_acqf_discrete hand them
    X1 = X[:, :1].double()
    assert torch.allclose(acqf(X1), acqf.score(X[:, 0]))


def test_from_training_data_passes_direction_and_seed_only_where_accepted(lookup):
    acqf = MaxPredictedEffect.from_training_data(lookup, direction="maximize", seed=4)
    assert acqf.direction is Direction.MAXIMIZE
    u = Uniform.from_training_data(None, direction="abs", seed=7)
    assert u.seed == 7
    v = EnsembleVariance.from_training_data(lookup, seed=3, direction="abs")
    assert isinstance(v, EnsembleVariance)
    s = SoftBALD.from_training_data(lookup, seed=5, temperature=0.5)
    assert (s.seed, s.temperature) == (5, 0.5)
    with pytest.raises(TypeError, match="unknown option"):
        MaxPredictedEffect.from_training_data(lookup, kappa=2.0)

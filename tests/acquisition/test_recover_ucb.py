"""Tests for naiad_bo.acquisition.recover_ucb: the paper's UCB row."""

from __future__ import annotations

import pytest
import torch

from naiad_bo.acquisition import AcquisitionModelError, RecoverUCB
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.space import PairSpace


def _data(model, n=80, seed=0):
    X = PairSpace(model.n_genes).sample(n, seed=seed)
    Y = model.posterior(X).mean.detach()
    se = torch.linspace(-1, 1, model.n_genes, dtype=torch.float64)
    return X, Y, se


def test_score_is_residual_plus_kappa_std(lookup):
    X, Y, se = _data(lookup)
    lin = AdditiveLinearModel(se).fit(X, Y)
    Xc = torch.tensor([[0, 1], [4, 4], [7, 20]])
    vals = lookup.table[:, Xc[:, 0], Xc[:, 1]]
    linear = lin.posterior(Xc.unsqueeze(-2)).mean.reshape(-1)
    for kappa in (0.0, 1.0, 2.5):
        got = RecoverUCB(lookup, lin, kappa=kappa).score(Xc)
        want = (vals.mean(0) - linear).abs() + kappa * vals.std(0)
        assert torch.allclose(got, want)


def test_from_training_data_fits_linear_baseline(lookup):
    X, Y, se = _data(lookup)
    acqf = RecoverUCB.from_training_data(lookup, X, Y, se, direction="minimize", seed=0)
    assert isinstance(acqf.linear_model, AdditiveLinearModel)
    assert acqf.linear_model.n_train_ == X.shape[0] and acqf.kappa == 1.0
    ref = AdditiveLinearModel(se).fit(X, Y)
    assert torch.allclose(acqf.linear_model.coef_, ref.coef_)
    with pytest.raises(ValueError, match="linear baseline"):
        RecoverUCB.from_training_data(lookup)
    # a pre-fitted baseline may be passed instead of the data
    assert RecoverUCB.from_training_data(lookup, linear_model=ref, kappa=2.0).kappa == 2.0


def test_bad_arguments(lookup):
    X, Y, se = _data(lookup)
    lin = AdditiveLinearModel(se).fit(X, Y)
    with pytest.raises(ValueError, match="kappa"):
        RecoverUCB(lookup, lin, kappa=-1)
    with pytest.raises(AcquisitionModelError, match="linear baseline"):
        RecoverUCB(lookup, "linear")

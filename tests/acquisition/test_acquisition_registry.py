"""Tests for naiad_bo.acquisition.registry, and every acquisition on the real NAIAD ensemble."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.optim.optimize import optimize_acqf_discrete

from naiad_bo.acquisition import (
    ACQUISITIONS,
    AcquisitionModelError,
    EnsembleVariance,
    MaxPredictedEffect,
    RecoverUCB,
    Uniform,
    UnknownAcquisitionError,
    build_acquisition,
    get_acquisition_class,
    select_batch,
)
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.models.single_sum import SingleEffectSumModel
from naiad_bo.space import PairSet, PairSpace

PAPER_AND_GENEDISCO = {"mpe", "ucb", "variance", "uniform", "bald", "softbald", "margin"}


def test_registry_names_and_lookup():
    assert PAPER_AND_GENEDISCO <= set(ACQUISITIONS)
    assert get_acquisition_class("MPE") is MaxPredictedEffect
    assert get_acquisition_class("soft-bald") is ACQUISITIONS["softbald"]
    assert get_acquisition_class("ucb") is RecoverUCB
    for cls in ACQUISITIONS.values():
        assert callable(cls.from_training_data)


def test_unknown_acquisition_name():
    with pytest.raises(UnknownAcquisitionError, match="unknown acquisition 'ei'.*mpe"):
        get_acquisition_class("ei")
    with pytest.raises(ValueError):  # also a ValueError for CLI code
        build_acquisition("nope", None)


@pytest.mark.parametrize("name", ["variance", "bald", "softbald", "margin", "ucb", "thompson"])
def test_registry_names_reject_deterministic_sum_model(norman, name):
    model = SingleEffectSumModel(norman.single_effects)
    pairs = torch.as_tensor(np.array(norman.pair_index()[:50]))
    y = torch.as_tensor(np.array(norman.y_values()[:50])).unsqueeze(-1)
    with pytest.raises(AcquisitionModelError, match="deterministic"):
        build_acquisition(name, model, pairs, y, norman.single_effects)


@pytest.mark.parametrize("name", sorted(ACQUISITIONS))
def test_every_acquisition_selects_new_pairs_on_real_naiad_ensemble(norman_round, name):
    model, train_X, train_Y, screen = norman_round
    space = PairSpace(screen.n_genes)
    acqf = build_acquisition(name, model, train_X, train_Y, screen.single_effects, seed=1)
    measured = PairSet(space, train_X)
    sel = select_batch(acqf, space, 100, exclude=measured)
    got = sel.pairs
    assert got.shape == (100, 2) and (got[:, 0] <= got[:, 1]).all()
    assert len({tuple(p) for p in got.tolist()}) == 100
    assert not measured.contains(got).any()
    assert sel.n_scored == space.n_pairs - len(measured)
    assert torch.isfinite(sel.scores).all()
    # q = 1 through BoTorch's discrete optimiser with Ax-style float64 choices
    choices = got[:20].double()
    cand, _ = optimize_acqf_discrete(acqf, q=1, choices=choices)
    assert cand.shape == (1, 2)


def test_mpe_on_real_ensemble_finds_strong_pairs(norman_round):
    model, train_X, train_Y, screen = norman_round
    space = PairSpace(screen.n_genes)
    y = screen.y_values()
    lookup = {tuple(p): i for i, p in enumerate(screen.pair_index().tolist())}

    def true_values(pairs):
        return y[[lookup[tuple(p)] for p in pairs.tolist()]]

    mpe = select_batch(MaxPredictedEffect(model), space, 100, exclude=train_X).pairs
    uni = select_batch(Uniform(seed=0), space, 100, exclude=train_X).pairs
    top200 = set(np.argsort(y, kind="stable")[:200].tolist())
    hits = len(top200 & {lookup[tuple(p)] for p in mpe.tolist()})
    assert true_values(mpe).mean() < true_values(uni).mean() - 0.15
    assert hits >= 25  # uniform expects ~3


def test_variance_is_exact_over_real_members(norman_round):
    model, train_X, _, screen = norman_round
    X = torch.as_tensor(np.array(screen.pair_index()[:64]))
    values = model.posterior(X).values[..., 0]  # s x n
    assert torch.allclose(EnsembleVariance(model).score(X), values.var(0), rtol=1e-6)


def test_recover_ucb_on_norman_uses_fitted_linear_baseline(norman_round):
    model, train_X, train_Y, screen = norman_round
    acqf = build_acquisition("ucb", model, train_X, train_Y, screen.single_effects)
    X = torch.as_tensor(np.array(screen.pair_index()[:64]))
    lin = AdditiveLinearModel(screen.single_effects).fit(train_X, train_Y)
    post = model.posterior(X)
    want = (post.mean.reshape(-1) - lin.predict_mean(X)).abs() + post.variance.reshape(-1).sqrt()
    assert torch.allclose(acqf.score(X), want, rtol=1e-6)

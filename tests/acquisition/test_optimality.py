"""Batch probability of optimality (naiad_bo/acquisition/optimality.py) vs brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.acquisition import BatchProbabilityOfOptimality, build_acquisition, select_batch
from naiad_bo.acquisition.optimality import _all_pairs_except
from naiad_bo.models import AdditiveLinearModel, NaiadEnsemble


@pytest.fixture(scope="module")
def fitted(norman):
    X = torch.as_tensor(norman.pair_index())
    Y = torch.as_tensor(norman.y_values()).unsqueeze(-1)
    idx = torch.randperm(len(Y), generator=torch.Generator().manual_seed(0))
    tr = idx[:300]
    lin = AdditiveLinearModel(norman.single_effects).fit(X[tr], Y[tr])
    ens = NaiadEnsemble(norman, seed=0, ensemble_size=6, epochs=20).fit(X[tr], Y[tr])
    # a small candidate set of strong, overlapping pairs so several have real chances
    post = lin.posterior(X.double().unsqueeze(-2))
    strongest = torch.argsort(post.mean.reshape(-1))[:40]
    return X[tr], lin, ens, X[strongest]


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_gaussian_qpo_matches_monte_carlo(fitted, direction):
    _, lin, _, C = fitted
    if direction == "maximize":
        post = lin.posterior(torch.as_tensor(C).double().unsqueeze(-2))
        C = C[torch.argsort(post.mean.reshape(-1), descending=True)][:40]
    acq = BatchProbabilityOfOptimality(lin, C, direction=direction, grid_size=2048)
    pi = acq.score(C).numpy()
    assert pi.sum() == pytest.approx(1.0, abs=2e-3)  # exactly one optimum
    post = lin.posterior(C.double().unsqueeze(-2))
    m = post.mean.reshape(-1).detach().numpy()
    s = post.variance.reshape(-1).sqrt().detach().numpy()
    rng = np.random.default_rng(0)
    draws = m + s * rng.normal(size=(200_000, len(m)))  # independent marginals
    best = draws.argmin(1) if direction == "minimize" else draws.argmax(1)
    mc = np.bincount(best, minlength=len(m)) / len(draws)
    np.testing.assert_allclose(pi, mc, atol=4e-3)


def test_member_qpo_is_the_argmax_share(fitted):
    _, _, ens, C = fitted
    acq = BatchProbabilityOfOptimality(ens, C, members=True)
    pi = acq.score(C)
    vals = ens.posterior(C.double()).values[..., 0]  # s x n
    winners = vals.argmin(dim=1)
    ref = torch.bincount(winners, minlength=C.shape[0]).double() / vals.shape[0]
    torch.testing.assert_close(pi, ref)
    # symmetric: (b, a) scores like (a, b)
    torch.testing.assert_close(acq.score(C.flip(-1)), pi)


def test_candidates_default_to_unmeasured_pairs_and_registry(fitted, norman):
    Xtr, lin, _, C = fitted
    allp = _all_pairs_except(5, torch.tensor([[1, 0], [3, 3]]))
    expected = [(a, b) for a in range(5) for b in range(a, 5) if (a, b) not in {(0, 1), (3, 3)}]
    assert [tuple(p) for p in allp.tolist()] == expected
    acq = build_acquisition("qpo", lin, Xtr, None, norman.single_effects, grid_size=256)
    assert isinstance(acq, BatchProbabilityOfOptimality)
    pairs, scores = select_batch(acq, C, 10)
    assert len(pairs) == 10 and float(torch.as_tensor(scores).min()) >= 0
    with pytest.raises(ValueError, match="not ABS"):
        BatchProbabilityOfOptimality(lin, C, direction="abs")

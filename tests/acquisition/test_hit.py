"""Probability of hit (naiad_bo/acquisition/hit.py) against BoTorch and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import ProbabilityOfImprovement
from scipy import stats

from naiad_bo.acquisition import (
    AcquisitionModelError,
    ProbabilityOfHit,
    build_acquisition,
    kth_strongest,
    select_batch,
)
from naiad_bo.direction import Direction
from naiad_bo.models import AdditiveLinearModel, NaiadEnsemble, SingleEffectSumModel


@pytest.fixture(scope="module")
def fitted(norman):
    X = torch.as_tensor(norman.pair_index())
    Y = torch.as_tensor(norman.y_values()).unsqueeze(-1)
    idx = torch.randperm(len(Y), generator=torch.Generator().manual_seed(0))
    tr, te = idx[:300], idx[300:1300]
    lin = AdditiveLinearModel(norman.single_effects).fit(X[tr], Y[tr])
    ens = NaiadEnsemble(norman, seed=0, ensemble_size=4, epochs=20).fit(X[tr], Y[tr])
    return X[tr], Y[tr], X[te], lin, ens


@pytest.mark.parametrize("direction", [Direction.MINIMIZE, Direction.MAXIMIZE])
def test_gaussian_hit_equals_botorch_probability_of_improvement(fitted, direction):
    _, Ytr, Xte, lin, _ = fitted
    tau = float(Ytr.quantile(0.1 if direction is Direction.MINIMIZE else 0.9))
    ours = ProbabilityOfHit(lin, tau, direction=direction).score(Xte.double())
    pi = ProbabilityOfImprovement(lin, best_f=tau, maximize=direction is Direction.MAXIMIZE)
    ref = pi(Xte.double().unsqueeze(-2))
    torch.testing.assert_close(ours, ref.to(ours), rtol=1e-4, atol=1e-5)


def test_abs_direction_matches_scipy(fitted):
    _, _, Xte, lin, _ = fitted
    tau = -0.15
    ours = ProbabilityOfHit(lin, tau, direction="abs").score(Xte.double()).numpy()
    post = lin.posterior(Xte.double().unsqueeze(-2))
    mu = post.mean.reshape(-1).detach().numpy()
    sd = post.variance.reshape(-1).sqrt().detach().numpy()
    ref = stats.norm.sf(0.15, mu, sd) + stats.norm.cdf(-0.15, mu, sd)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-12)


def test_member_hit_is_the_fraction_of_members_beyond_threshold(fitted):
    _, Ytr, Xte, _, ens = fitted
    tau = kth_strongest(Ytr, 20)
    ours = ProbabilityOfHit(ens, tau, members=True).score(Xte.double())
    values = ens.posterior(Xte.double()).values[..., 0]  # s x n
    ref = (values < tau).double().mean(dim=0)
    torch.testing.assert_close(ours, ref.to(ours))
    # the Gaussian version orders pairs like the member fraction where members agree
    gauss = ProbabilityOfHit(ens, tau).score(Xte.double())
    sure = (ref == 1.0) | (ref == 0.0)
    assert gauss[sure & (ref == 1.0)].min() > gauss[sure & (ref == 0.0)].max()


def test_threshold_from_training_data_and_registry(fitted, norman):
    Xtr, Ytr, Xte, lin, _ = fitted
    acq = build_acquisition("hit", lin, Xtr, Ytr, norman.single_effects, k=10)
    assert isinstance(acq, ProbabilityOfHit)
    assert acq.threshold == pytest.approx(float(torch.sort(Ytr.reshape(-1)).values[9]))
    assert acq.direction is Direction.MINIMIZE  # default (strongest = most negative)
    assert kth_strongest(torch.tensor([3.0, -1.0, 2.0]), 2, "maximize") == 2.0
    assert kth_strongest(torch.tensor([3.0, -1.0]), 5) == 3.0  # k capped at n
    with pytest.raises(ValueError, match="threshold= or the measured values"):
        ProbabilityOfHit.from_training_data(lin, Xtr, None)
    with pytest.raises(AcquisitionModelError, match="deterministic"):
        ProbabilityOfHit(SingleEffectSumModel(norman.single_effects), 0.0)
    # exact top-q: the selected batch is the q highest hit probabilities
    pairs, chosen = select_batch(acq, Xte, 25)
    best = torch.topk(acq.score(Xte.double()), 25).values
    torch.testing.assert_close(
        torch.sort(torch.as_tensor(chosen).double()).values, torch.sort(best.double()).values
    )


def test_threshold_from_candidates_is_the_estimated_top_k_cutoff(fitted):
    Xtr, Ytr, Xte, lin, _ = fitted
    acq = ProbabilityOfHit.from_training_data(lin, Xtr, Ytr, k=50, candidates=Xte)
    mean = lin.posterior(Xte.double().unsqueeze(-2)).mean.reshape(-1).detach()
    combined = torch.cat([Ytr.reshape(-1).double(), mean.double()])
    assert acq.threshold == pytest.approx(float(torch.sort(combined).values[49]))


def test_estimate_cutoff_takes_every_unmeasured_pair(fitted, norman):
    Xtr, Ytr, _, lin, _ = fitted
    acq = ProbabilityOfHit.from_training_data(lin, Xtr, Ytr, norman.single_effects, k=200,
                                              estimate_cutoff=True)
    # brute force: every unordered pair of the 112 genes except the 300 measured ones
    measured = {tuple(sorted(p)) for p in Xtr.long().tolist()}
    rest = torch.tensor([(a, b) for a in range(norman.n_genes) for b in range(a, norman.n_genes)
                         if (a, b) not in measured], dtype=torch.float64)
    assert len(rest) == norman.n_pairs - 300
    mean = lin.posterior(rest.unsqueeze(-2)).mean.reshape(-1).detach()
    combined = torch.cat([Ytr.reshape(-1).double(), mean.double()])
    assert acq.threshold == pytest.approx(float(torch.sort(combined).values[199]))
    # off by default: the k-th strongest measured value (here the weakest of 300 is not it)
    plain = ProbabilityOfHit.from_training_data(lin, Xtr, Ytr, k=200)
    assert plain.threshold == pytest.approx(float(torch.sort(Ytr.reshape(-1)).values[199]))
    assert plain.threshold != acq.threshold
    # through the spec grammar, as a campaign builds it
    spec = build_acquisition("hit", lin, Xtr, Ytr, norman.single_effects, k=200,
                             estimate_cutoff=True)
    assert spec.threshold == acq.threshold

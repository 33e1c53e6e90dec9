"""Tests for naiad_bo.acquisition.selection: exact chunked top-q, exclusion, caps, BoTorch paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import PosteriorMean, UpperConfidenceBound
from botorch.acquisition.monte_carlo import qSimpleRegret, qUpperConfidenceBound
from botorch.optim.optimize import optimize_acqf_discrete
from botorch.sampling.index_sampler import IndexSampler

from naiad_bo.acquisition import (
    ACQUISITIONS,
    EnsembleVariance,
    InsufficientCandidatesError,
    MaxPredictedEffect,
    PointwiseAcquisition,
    ThompsonSampling,
    Uniform,
    as_pointwise,
    build_acquisition,
    select_batch,
    select_on_shortlist,
)
from naiad_bo.space import CandidateSet, PairSet, PairSpace


def _all_pairs(space):
    return torch.cat([p for _, p in space.iter_chunks(10**6)])


def _brute_top(acqf, pairs, q):
    scores = acqf.score(pairs)
    order = torch.argsort(scores, descending=True, stable=True)[:q]
    return pairs[order], scores[order]


class ConstantScore(PointwiseAcquisition):
    """All candidates tie: selection must follow candidate order."""

    def __init__(self):
        super().__init__(None)

    def score(self, X):
        return torch.zeros(X.shape[0], dtype=torch.float64)


class NaNScore(ConstantScore):
    def score(self, X):
        out = super().score(X)
        out[0] = float("nan")
        return out


@pytest.mark.parametrize("chunk_size", [1, 7, 64, 10**6])
@pytest.mark.parametrize("q", [1, 13, 200])
def test_exact_top_q_matches_brute_force_with_exclusion(lookup, chunk_size, q):
    space = PairSpace(30)
    exclude = space.sample(50, seed=0)
    acqf = MaxPredictedEffect(lookup)
    sel = select_batch(acqf, space, q, exclude=PairSet(space, exclude), chunk_size=chunk_size)
    available = _all_pairs(space)
    keep = ~PairSet(space, exclude).contains(available)
    want_pairs, want_scores = _brute_top(acqf, available[keep], q)
    assert torch.equal(sel.pairs, want_pairs)
    assert torch.allclose(sel.scores, want_scores)
    assert sel.n_scored == space.n_pairs - 50
    pairs, scores = sel  # unpacks
    assert len(sel) == q and pairs is sel.pairs and scores is sel.scores


def test_never_returns_excluded_pending_or_duplicate_pairs(lookup):
    space = PairSpace(30)
    acqf = EnsembleVariance(lookup)
    top = select_batch(acqf, space, 40).pairs
    measured = top[:10].flip(-1)  # swapped order must still be excluded
    pending = top[10:20]
    acqf.set_X_pending(pending.double())
    sel = select_batch(acqf, space, 30, exclude=measured, chunk_size=17)
    got = {tuple(p) for p in sel.pairs.tolist()}
    assert len(got) == 30
    assert not got & {tuple(sorted(p)) for p in measured.tolist()}
    assert not got & {tuple(p) for p in pending.tolist()}
    assert [tuple(p) for p in sel.pairs.tolist()][:20] == [tuple(p) for p in top[20:40].tolist()]
    assert sel.n_scored == space.n_pairs - 20


def test_candidate_tensor_is_canonicalised_and_deduplicated(lookup):
    cand = torch.tensor([[3, 1], [1, 3], [2, 2], [5, 4], [4, 5], [0, 7], [7, 0], [6, 6]])
    sel = select_batch(MaxPredictedEffect(lookup), cand, 5)
    got = sel.pairs.tolist()
    assert len({tuple(p) for p in got}) == 5 and all(a <= b for a, b in got)
    with pytest.raises(InsufficientCandidatesError, match="5 available"):
        select_batch(MaxPredictedEffect(lookup), cand, 6)
    # numpy input, float input, exclude as (n, 2) pairs or a PairSet
    ex = np.array([[1, 3], [6, 6]])
    sel2 = select_batch(MaxPredictedEffect(lookup), cand.double().numpy(), 3, exclude=ex)
    assert not {tuple(p) for p in sel2.pairs.tolist()} & {(1, 3), (6, 6)}
    sel3 = select_batch(
        MaxPredictedEffect(lookup), cand, 3, exclude=PairSet(PairSpace(30), torch.tensor(ex))
    )
    assert torch.equal(sel2.pairs, sel3.pairs)
    with pytest.raises(ValueError, match="flat indices"):
        select_batch(MaxPredictedEffect(lookup), cand, 3, exclude=np.array([0, 1]))


def test_candidate_set_and_flat_exclude(lookup):
    space = PairSpace(30)
    subset = space.sample(100, seed=3)
    cs = CandidateSet(subset, 30)
    acqf = MaxPredictedEffect(lookup)
    sel = select_batch(acqf, cs, 10, exclude=space.to_flat(subset[:5]))
    want, _ = _brute_top(acqf, torch.as_tensor(cs.from_flat(cs.flat)), 100)
    want = [
        tuple(p) for p in want.tolist() if tuple(p) not in {tuple(x) for x in subset[:5].tolist()}
    ]
    assert [tuple(p) for p in sel.pairs.tolist()] == want[:10]


def test_ties_follow_candidate_order():
    space = PairSpace(20)
    sel = select_batch(ConstantScore(), space, 25, chunk_size=6)
    assert torch.equal(sel.pairs, _all_pairs(space)[:25])


def test_bad_q_and_insufficient_candidates(lookup):
    space = PairSpace(5)  # 15 pairs
    acqf = MaxPredictedEffect(lookup)
    with pytest.raises(ValueError, match="positive integer"):
        select_batch(acqf, space, 0)
    with pytest.raises(ValueError, match="positive integer"):
        select_batch(acqf, space, -3)
    with pytest.raises(TypeError, match="positive integer"):
        select_batch(acqf, space, 2.5)
    with pytest.raises(TypeError, match="positive integer"):
        select_batch(acqf, space, True)
    with pytest.raises(InsufficientCandidatesError, match="q=16 exceeds the 15"):
        select_batch(acqf, space, 16)
    with pytest.raises(InsufficientCandidatesError, match="q=12 exceeds the 11"):
        select_batch(acqf, space, 12, exclude=space.sample(4, seed=0))
    # pending points count too (only known after the pass)
    acqf.set_X_pending(space.sample(5, seed=1))
    with pytest.raises(InsufficientCandidatesError, match="exceeds the 10"):
        select_batch(acqf, space, 11)
    assert len(select_batch(acqf, space, 10)) == 10


def test_nan_scores_and_wrong_acquisitions(lookup):
    with pytest.raises(ValueError, match="NaN scores"):
        select_batch(NaNScore(), PairSpace(5), 3)
    with pytest.raises(TypeError, match="not a pointwise acquisition"):
        select_batch(qSimpleRegret(lookup), PairSpace(5), 3)
    with pytest.raises(TypeError, match="AcquisitionFunction"):
        select_batch(lambda X: X.sum(-1), PairSpace(5), 3)


def _gene_counts(pairs, n_genes):
    counts = np.zeros(n_genes, dtype=int)
    for a, b in pairs.tolist():
        counts[a] += 1
        if b != a:
            counts[b] += 1
    return counts


@pytest.mark.parametrize("cap", [1, 2, 5])
def test_max_per_gene_is_greedy_over_sorted_scores(lookup, cap):
    space = PairSpace(30)
    acqf = MaxPredictedEffect(lookup)
    q = {1: 15, 2: 25, 5: 60}[cap]
    sel = select_batch(acqf, space, q, max_per_gene=cap, chunk_size=50)
    assert _gene_counts(sel.pairs, 30).max() <= cap
    ranked, _ = _brute_top(acqf, _all_pairs(space), space.n_pairs)
    want = []
    counts = np.zeros(30, dtype=int)
    for a, b in ranked.tolist():
        genes = {a, b}
        if all(counts[g] < cap for g in genes):
            for g in genes:
                counts[g] += 1
            want.append([a, b])
        if len(want) == q:
            break
    assert sel.pairs.tolist() == want


def test_max_per_gene_grows_the_shortlist_and_reports_infeasible(lookup_factory):
    # a hub gene dominating the scores forces the greedy deep into the ranking
    model = lookup_factory(n_members=3, n_genes=60, seed=1)
    model.table[:, 0, :] -= 100.0
    model.table[:, :, 0] -= 100.0
    space = PairSpace(60)
    sel = select_batch(MaxPredictedEffect(model), space, 25, max_per_gene=1, chunk_size=100)
    assert _gene_counts(sel.pairs, 60).max() == 1 and len(sel) == 25
    with pytest.raises(InsufficientCandidatesError, match="max_per_gene=1"):
        select_batch(MaxPredictedEffect(model), PairSpace(6), 7, max_per_gene=1)
    with pytest.raises(ValueError, match="max_per_gene"):
        select_batch(MaxPredictedEffect(model), space, 5, max_per_gene=0)


@pytest.mark.parametrize("name", sorted(ACQUISITIONS))
def test_optimize_acqf_discrete_q1_agrees_with_select_batch(lookup, name):
    space = PairSpace(30)
    X = space.sample(60, seed=2)
    Y = lookup.posterior(X).mean.detach()
    se = torch.linspace(-1, 1, 30, dtype=torch.float64)
    acqf = build_acquisition(name, lookup, X, Y, se, seed=4)
    choices = _all_pairs(space).double()
    cand, value = optimize_acqf_discrete(acqf, q=1, choices=choices)
    if isinstance(acqf, ThompsonSampling):  # q = 1: argmax under the first drawn member
        member = int(acqf.draw_members(1, lookup.n_members)[0])
        best = acqf.member_scores(choices.long())[:, member].max()
        assert torch.allclose(value.reshape(()), best)
        return
    sel = select_batch(acqf, space, 1)
    assert cand.long().tolist() == sel.pairs.tolist()
    assert torch.allclose(value.reshape(()), sel.scores[0])


def test_optimize_acqf_discrete_greedy_equals_exact_top_q(lookup):
    space = PairSpace(30)
    acqf = MaxPredictedEffect(lookup)
    cand, _ = optimize_acqf_discrete(acqf, q=8, choices=_all_pairs(space).double())
    sel = select_batch(acqf, space, 8)
    assert {tuple(p) for p in cand.long().tolist()} == {tuple(p) for p in sel.pairs.tolist()}


def test_select_on_shortlist_runs_botorch_mc_acquisitions(lookup):
    space = PairSpace(30)
    measured = space.sample(20, seed=0)
    sampler = IndexSampler(torch.Size([lookup.n_members]), seed=0)
    acqf = qUpperConfidenceBound(lookup, beta=1.0, sampler=sampler)
    pending = torch.tensor([[0, 0]], dtype=torch.float64)
    acqf.set_X_pending(pending)
    shortlist = MaxPredictedEffect(lookup, direction="maximize")
    sel = select_on_shortlist(
        acqf, space, 6, shortlist=shortlist, shortlist_size=30, exclude=measured
    )
    got = {tuple(p) for p in sel.pairs.tolist()}
    assert len(got) == 6 and len(sel.scores) == 6
    short = {tuple(p) for p in select_batch(shortlist, space, 31, exclude=measured).pairs.tolist()}
    assert got <= short - {(0, 0)}
    assert not got & {tuple(p) for p in measured.tolist()}
    # with an exhaustive shortlist, q = 1 is the exact argmax of the acquisition
    sel1 = select_on_shortlist(
        qSimpleRegret(lookup, sampler=sampler),
        space,
        1,
        shortlist=Uniform(seed=0),
        shortlist_size=space.n_pairs,
    )
    best = select_batch(MaxPredictedEffect(lookup, direction="maximize"), space, 1)
    assert torch.equal(sel1.pairs, best.pairs)


def test_select_on_shortlist_bad_input(lookup):
    space = PairSpace(30)
    with pytest.raises(TypeError, match="analytic"):
        select_on_shortlist(
            UpperConfidenceBound(lookup, beta=1.0), space, 3, shortlist=Uniform(seed=0)
        )
    with pytest.raises(TypeError, match="PointwiseAcquisition"):
        select_on_shortlist(qSimpleRegret(lookup), space, 3, shortlist=qSimpleRegret(lookup))
    with pytest.raises(ValueError, match="shortlist_size"):
        select_on_shortlist(
            qSimpleRegret(lookup), space, 5, shortlist=Uniform(seed=0), shortlist_size=3
        )
    with pytest.raises(InsufficientCandidatesError):
        select_on_shortlist(qSimpleRegret(lookup), PairSpace(3), 7, shortlist=Uniform())


def test_as_pointwise_wraps_analytic_botorch_acquisitions(lookup):
    space = PairSpace(30)
    wrapped = as_pointwise(PosteriorMean(lookup))
    sel = select_batch(wrapped, space, 12)
    ref = select_batch(MaxPredictedEffect(lookup, direction="maximize"), space, 12)
    assert torch.equal(sel.pairs, ref.pairs)
    with pytest.raises(TypeError):
        as_pointwise("mpe")


def test_progress_bar_can_be_forced(lookup, capsys):
    sel = select_batch(MaxPredictedEffect(lookup), PairSpace(30), 5, progress=True, chunk_size=50)
    assert len(sel) == 5
    assert "scoring MaxPredictedEffect" in capsys.readouterr().err

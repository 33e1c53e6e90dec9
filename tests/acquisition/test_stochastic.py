"""Tests for naiad_bo.acquisition.stochastic: hashed uniforms, Uniform, SoftBALD."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.acquisition import (
    BALD,
    AcquisitionModelError,
    SoftBALD,
    Uniform,
    pair_uniform,
    select_batch,
)
from naiad_bo.models.single_sum import SingleEffectSumModel
from naiad_bo.space import PairSpace


def test_pair_uniform_is_symmetric_reproducible_and_uniform():
    space = PairSpace(300)
    pairs = torch.cat([p for _, p in space.iter_chunks(10_000)])
    u = pair_uniform(pairs, seed=1)
    assert torch.equal(u, pair_uniform(pairs.flip(-1), seed=1))  # (b, a) == (a, b)
    assert torch.equal(u, pair_uniform(pairs, seed=1))
    assert ((u > 0) & (u < 1)).all()
    assert u.unique().numel() == u.numel()
    hist = np.histogram(u.numpy(), bins=10, range=(0, 1))[0] / u.numel()
    assert np.abs(hist - 0.1).max() < 0.01
    v = pair_uniform(pairs, seed=2)
    assert abs(np.corrcoef(u.numpy(), v.numpy())[0, 1]) < 0.02
    # independent of the position in the batch (counter-based, not a stream)
    assert torch.equal(pair_uniform(pairs[10:20], seed=1), u[10:20])


def test_uniform_selection_is_uniform_and_chunking_free():
    space = PairSpace(10)  # 55 pairs
    q, n_seeds = 5, 600
    counts = np.zeros(space.n_pairs)
    for seed in range(n_seeds):
        sel = select_batch(Uniform(seed=seed), space, q, chunk_size=16)
        counts[space.to_flat(sel.pairs.numpy())] += 1
    expected = n_seeds * q / space.n_pairs
    # chi-square with 54 dof: mean 54, sd ~10.4 -> 110 is > 5 sd
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 110
    a = select_batch(Uniform(seed=3), space, 7, chunk_size=5).pairs
    b = select_batch(Uniform(seed=3), space, 7, chunk_size=1000).pairs
    assert torch.equal(a, b)
    assert not torch.equal(a, select_batch(Uniform(seed=4), space, 7).pairs)


def test_softbald_sampling_probabilities_follow_tempered_softmax(lookup_factory):
    """q = 1 draws pick pair x with probability (eps + var_x)^(1/T) / sum."""
    model = lookup_factory(n_members=4, n_genes=3, seed=2)
    space = PairSpace(3)  # 6 pairs
    pairs = torch.cat([p for _, p in space.iter_chunks(100)])
    var = model.table[:, pairs[:, 0], pairs[:, 1]].var(0)
    temperature = 0.5
    p = (var + 1e-7) ** (1 / temperature)
    p = (p / p.sum()).numpy()
    n = 3000
    wins = np.zeros(len(pairs))
    for seed in range(n):
        acqf = SoftBALD(model, temperature=temperature, seed=seed)
        wins[int(acqf.score(pairs).argmax())] += 1
    assert np.abs(wins / n - p).max() < 4 * np.sqrt(p * (1 - p) / n).max() + 1e-3


def test_softbald_temperature_limits(lookup):
    space = PairSpace(30)
    cold = select_batch(SoftBALD(lookup, temperature=1e-4, seed=0), space, 10).pairs
    bald = select_batch(BALD(lookup), space, 10).pairs
    assert {tuple(x) for x in cold.tolist()} == {tuple(x) for x in bald.tolist()}
    hot = select_batch(SoftBALD(lookup, temperature=1e6, seed=0), space, 10).pairs
    uni = select_batch(Uniform(seed=0), space, 10).pairs
    assert torch.equal(hot, uni)  # same per-pair noise, energy negligible
    with pytest.raises(ValueError, match="temperature"):
        SoftBALD(lookup, temperature=0)


def test_softbald_needs_variance():
    with pytest.raises(AcquisitionModelError):
        SoftBALD(SingleEffectSumModel(torch.zeros(4, dtype=torch.float64)))

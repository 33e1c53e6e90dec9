"""Row-run kernels: equal to the per-pair NaiadNet kernels and to the existing posterior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.models import run_kernels
from naiad_bo.models.naiad_net import NaiadNet
from naiad_bo.models.run_kernels import row_runs, single_branch_tables
from naiad_bo.models.scoring import score_members
from naiad_bo.space import PairSet, PairSpace


def _net(m, *, dtype=torch.float32, skip=None, ties=False, zero_units=False, seed=0, p=6, h=24):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m, generator=g, dtype=torch.float64)
    if ties:  # equal single effects: pairs with lo == hi, and kinks exactly at partner values
        x[::3] = x[0]
    net = NaiadNet(x, ensemble_size=3, embed_dim=p, single_dim=h, skip_init=skip, generator=g)
    with torch.no_grad():
        net.b3.normal_(generator=g)
        net.c2.normal_(generator=g)
        if zero_units:  # units with w1 = 0 or w0 = 0 (constant in one case)
            net.w1[:, 1, :4] = 0.0
            net.w1[:, 0, 4:8] = 0.0
    return net.to(dtype).eval()


def _space_chunks(m, chunk, exclude=None):
    space = PairSpace(m)
    return [p for _, p in space.iter_chunks(chunk, exclude=exclude)]


@pytest.fixture
def short_runs(monkeypatch):
    """Use the run kernels from runs of 4 pairs on (so small screens exercise both the
    binary-search and the histogram piece lookups)."""
    monkeypatch.setattr(run_kernels, "MIN_MEAN_RUN", 4)


@pytest.mark.parametrize("case", ["plain", "skip", "ties", "zero_units", "float64"])
def test_run_kernels_equal_per_pair_kernels(short_runs, case):
    m = 150
    dtype = torch.float64 if case == "float64" else torch.float32
    net = _net(m, dtype=dtype, skip=(0.3, -0.7) if case == "skip" else None,
               ties=case == "ties", zero_units=case == "zero_units")
    exclude = PairSet(PairSpace(m), PairSpace(m).sample(900, seed=1))
    tol = 1e-10 if dtype == torch.float64 else 2e-5
    for pairs in _space_chunks(m, 2000, exclude):
        a, b = pairs[:, 0], pairs[:, 1]
        assert row_runs(a) is not None
        with torch.no_grad():
            net.run_kernels = True
            fast = net(a, b)
            swapped = net(b, a)
            net.run_kernels = False
            slow = net(a, b)
        assert fast.dtype == dtype and fast.shape == slow.shape
        assert torch.equal(fast, swapped)  # exactly symmetric
        scale = float(slow.abs().max())
        assert float((fast - slow).abs().max()) <= tol * max(scale, 1.0)


def test_tables_reproduce_the_branch_at_every_partner():
    m = 60
    net = _net(m, dtype=torch.float64, zero_units=True, ties=True)
    genes = torch.arange(m)
    kinks, slope, icpt = single_branch_tables(net.x[genes], net.w1, net.b1, net.a1)
    assert kinks.shape == (m, 3, 2 * 24 + 1) and slope.shape == (m, 3, 2 * 24 + 2)
    assert torch.all(kinks[..., 1:] >= kinks[..., :-1])  # sorted (the searchsorted contract)
    for g in (0, 7, 31):
        t = net.x
        j = torch.searchsorted(kinks[g], t.expand(3, -1).contiguous())
        table = torch.gather(slope[g], 1, j) * t + torch.gather(icpt[g], 1, j)
        lo, hi = torch.minimum(t, net.x[g]), torch.maximum(t, net.x[g])
        pre = lo[None, :, None] * net.w1[:, 0, None, :] + hi[None, :, None] * net.w1[:, 1, None, :]
        direct = torch.relu(pre + net.b1[:, None, :]) @ net.a1.unsqueeze(-1)
        assert torch.allclose(table, direct[..., 0], atol=1e-12, rtol=0)


def test_random_pairs_use_the_per_pair_kernels():
    net = _net(400)
    g = torch.Generator().manual_seed(3)
    a, b = torch.randint(0, 400, (3000,), generator=g), torch.randint(0, 400, (3000,), generator=g)
    assert row_runs(torch.minimum(a, b)) is None
    with torch.no_grad():
        net.run_kernels = True
        fast = net(a, b)
        net.run_kernels = False
        assert torch.equal(fast, net(a, b))


def test_gelu_and_grad_never_use_run_kernels():
    net = _net(50)
    assert net.uses_run_kernels()
    net.activation = "gelu"
    assert not net.uses_run_kernels()
    net.activation = "relu"
    net.run_kernels = False
    assert not net.uses_run_kernels()


def test_score_members_with_run_kernels_matches_chunked_dense(short_runs):
    net = _net(300)
    pairs = _space_chunks(300, 10**6)[0]
    a, b = pairs[:, 0], pairs[:, 1]
    net.run_kernels = True
    fast = score_members(net, a, b, ensemble_size=3, chunk_size=1000, dtype=torch.float32)
    net.run_kernels = False
    slow = score_members(net, a, b, ensemble_size=3, chunk_size=1000, dtype=torch.float32)
    assert torch.allclose(fast, slow, atol=2e-5 * float(slow.abs().max()), rtol=0)


def test_fitted_posterior_mean_unchanged(short_runs, norman):
    from naiad_bo.models import NaiadEnsemble

    pairs = norman.pair_index()
    rng = np.random.default_rng(0)
    train = rng.choice(len(pairs), 250, replace=False)
    X = torch.from_numpy(pairs[train]).double()
    Y = torch.from_numpy(norman.y_values()[train]).reshape(-1, 1)
    model = NaiadEnsemble(norman, seed=0, epochs=8).fit(X, Y)
    cand = torch.cat(_space_chunks(norman.n_genes, 10**6)).double()
    model.network_.run_kernels = True
    post = model.posterior(cand)
    model.network_.run_kernels = False
    ref = model.posterior(cand)
    assert torch.allclose(post.mean, ref.mean, atol=1e-6, rtol=0)
    assert torch.allclose(post.variance, ref.variance, atol=1e-7, rtol=1e-4)


def test_score_members_chunks_pairs_without_runs(monkeypatch):
    """Random pairs never reach the network in one call above chunk_size (memory bound)."""
    net = _net(500)
    sizes = []
    forward = NaiadNet.forward

    def spy(self, a, b):
        sizes.append(a.numel())
        return forward(self, a, b)

    monkeypatch.setattr(NaiadNet, "forward", spy)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randint(0, 500, (5000,), generator=g), torch.randint(0, 500, (5000,), generator=g)
    out = score_members(net, a, b, ensemble_size=3, chunk_size=1000, dtype=torch.float32)
    assert max(sizes) == 1000 and out.shape == (3, 5000)
    sizes.clear()
    pairs = _space_chunks(500, 10**6)[0][:20_000]  # long runs: one call
    score_members(net, pairs[:, 0], pairs[:, 1], ensemble_size=3, chunk_size=1000,
                  dtype=torch.float32)
    assert sizes == [20_000]

"""NaiadEnsemble on the real bundled screens, and stock BoTorch acquisitions on top of it."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from botorch.acquisition import (
    PosteriorMean,
    UpperConfidenceBound,
    qLogNoisyExpectedImprovement,
    qSimpleRegret,
    qUpperConfidenceBound,
)
from botorch.acquisition.objective import GenericMCObjective, ScalarizedPosteriorTransform
from botorch.models import ModelList, SingleTaskGP
from botorch.models.ensemble import EnsembleModel
from botorch.models.transforms.input import Normalize
from botorch.optim import optimize_acqf_discrete
from botorch.posteriors.ensemble import EnsemblePosterior
from botorch.sampling.index_sampler import IndexSampler

from naiad_bo.acquisition import MaxPredictedEffect, as_pointwise, select_batch
from naiad_bo.direction import Direction, posterior_transform
from naiad_bo.models import EnsembleMemberSampler, FastNaiadEnsemble, NaiadEnsemble
from naiad_bo.models.registry import get_model_class
from naiad_bo.models.training import train_members
from naiad_bo.space import PairSet, PairSpace


def _split(screen, n_train: int, seed: int = 0):
    pairs = torch.as_tensor(np.array(screen.pair_index()))
    y = torch.as_tensor(np.array(screen.y_values()))
    perm = torch.as_tensor(np.random.default_rng(seed).permutation(len(pairs)))
    return pairs, y, perm[:n_train], perm[n_train:]


@pytest.fixture(scope="module")
def norman_fit(norman):
    """A short-trained ensemble on 300 Norman pairs, plus (pairs, y, train, rest)."""
    pairs, y, tr, rest = _split(norman, 300)
    model = NaiadEnsemble(norman.single_effects, seed=0, epochs=40)
    model.fit(pairs[tr], y[tr].unsqueeze(-1))
    return model, pairs, y, tr, rest


def _linear_rmse(screen, pairs, y, tr, te) -> float:
    se = torch.as_tensor(screen.single_effects)

    def design(idx):
        ya, yb = se[pairs[idx, 0]], se[pairs[idx, 1]]
        return torch.stack([torch.ones_like(ya), torch.minimum(ya, yb), torch.maximum(ya, yb)], 1)

    beta = torch.linalg.lstsq(design(tr), y[tr].unsqueeze(-1)).solution
    return (design(te) @ beta - y[te].unsqueeze(-1)).pow(2).mean().sqrt().item()


def test_beats_linear_model_at_small_n_on_norman(norman):
    """Paper Table 1 regime (each gene seen ~4 times, N = 224): NAIAD < 3-parameter linear."""
    pairs, y, tr, rest = _split(norman, 2 * norman.n_genes)
    te = rest[: len(pairs) // 10]
    model = NaiadEnsemble(norman.single_effects, seed=0).fit(pairs[tr], y[tr].unsqueeze(-1))
    assert model.epochs_ == 500 and model.embed_dim_ == 4 and model.single_dim_ == 64
    assert model.lr_ == 1e-2  # Norman-size screens keep the paper's recipe
    pred = model.posterior(pairs[te].double()).mean.squeeze(-1)
    rmse = (pred - y[te]).pow(2).mean().sqrt().item()
    assert rmse < 0.95 * _linear_rmse(norman, pairs, y, tr, te)


def test_is_a_botorch_ensemble_model_with_shapes(norman_fit):
    model, pairs, *_ = norman_fit
    assert isinstance(model, EnsembleModel) and model.num_outputs == 1
    X = pairs[:24].reshape(2, 3, 4, 2)
    out = model.posterior(X.double()).values
    assert out.shape == (2, 3, 5, 4, 1)  # batch x s x q x 1
    post = model.posterior(X)
    assert isinstance(post, EnsemblePosterior)
    assert post.mean.shape == (2, 3, 4, 1)
    torch.testing.assert_close(post.mean, out.mean(-3))
    torch.testing.assert_close(post.variance, out.var(-3))  # unbiased over members


def test_exactly_symmetric_on_all_pairs(norman_fit):
    model, pairs, *_ = norman_fit
    assert torch.equal(model(pairs), model(pairs.flip(-1)))  # transformed space
    assert torch.equal(model.posterior(pairs).values, model.posterior(pairs.flip(-1)).values)


def test_reproducible_and_members_differ(norman):
    pairs, y, tr, _ = _split(norman, 150, seed=1)
    fit = lambda seed: NaiadEnsemble(norman.single_effects, seed=seed, epochs=10).fit(  # noqa: E731
        pairs[tr], y[tr].unsqueeze(-1)).posterior(pairs).values
    a, b, c = fit(7), fit(7), fit(8)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert (a.var(0) > 0).all()  # different initialisations give different members


def test_float64_inputs_and_float32_scoring_are_exact_enough(norman_fit):
    model, pairs, *_ = norman_fit
    v_long = model.posterior(pairs).values
    v_ax = model.posterior(pairs.double()).values  # what Ax hands us
    assert v_ax.dtype == torch.float64
    assert torch.equal(v_ax, v_long)
    model.set_compute_dtype("float64")
    try:
        v64 = model.posterior(pairs).values
    finally:
        model.set_compute_dtype("float32")
    assert (v64 - v_long).abs().max().item() < 1e-5  # phenotype sd ~0.1
    top32 = set(torch.topk(-v_long.mean(0).squeeze(-1), 100).indices.tolist())
    top64 = set(torch.topk(-v64.mean(0).squeeze(-1), 100).indices.tolist())
    assert len(top32 & top64) >= 99


def test_adaptive_embedding_and_paper_defaults(norman, horlbeck):
    pairs, y, tr, _ = _split(norman, 100)
    model = NaiadEnsemble(norman.single_effects, epochs=2).fit(pairs[tr], y[tr].unsqueeze(-1))
    assert model.embed_dim_ == 2  # 2N/M = 1.8 -> Table 5 first row
    assert model.resolve_embed_dim(1000) == 16  # 2N/M = 17.9 -> 16
    assert model.network_.emb.shape == (5, norman.n_genes, 2)
    assert NaiadEnsemble(norman.single_effects, embed_dim=8).resolve_embed_dim(100) == 8
    big = NaiadEnsemble(horlbeck.single_effects)
    assert big.resolve_embed_dim(500) == 4 and big.resolve_embed_dim(1000) == 16  # Horlbeck row
    assert big.resolve_single_dim() == 256
    # the paper's recipe by default; "naiad-fast": 60 epochs at 3e-2 on Horlbeck-size screens
    assert (big.resolve_epochs(500), big.resolve_lr()) == (200, 1e-2)
    assert (model.resolve_epochs(500), model.resolve_lr()) == (2, 1e-2)
    assert NaiadEnsemble(norman.single_effects).resolve_epochs(100) == 500
    fast = get_model_class("naiad-fast")
    assert fast is FastNaiadEnsemble and issubclass(fast, NaiadEnsemble)
    assert (fast(horlbeck.single_effects).resolve_epochs(500),
            fast(horlbeck.single_effects).resolve_lr()) == (60, 3e-2)
    assert (fast(norman.single_effects).resolve_epochs(100),
            fast(norman.single_effects).resolve_lr()) == (500, 1e-2)
    pinned = fast(horlbeck.single_effects, lr=1e-2, epochs=200)
    assert (pinned.resolve_epochs(500), pinned.resolve_lr()) == (200, 1e-2)
    assert NaiadEnsemble(horlbeck.single_effects, schedule="norman_simpson").resolve_embed_dim(
        1000) == 4


def test_fast_recipe_fits_with_its_schedule_and_beats_linear_on_k562(horlbeck):
    """naiad-fast: 60 epochs at lr 3e-2 on a Horlbeck-size screen, recorded on the model."""
    pairs, y, tr, rest = _split(horlbeck, 2 * horlbeck.n_genes)
    te = rest[:2000]
    model = FastNaiadEnsemble(horlbeck.single_effects, seed=0).fit(pairs[tr], y[tr].unsqueeze(-1))
    assert (model.epochs_, model.lr_) == (60, 3e-2) and model.train_loss_.shape == (60, 5)
    pred = model.posterior(pairs[te].double()).mean.squeeze(-1)
    rmse = (pred - y[te]).pow(2).mean().sqrt().item()
    assert rmse < _linear_rmse(horlbeck, pairs, y, tr, te)


def test_scores_all_horlbeck_pairs_chunked(horlbeck):
    pairs, y, tr, _ = _split(horlbeck, 500)
    model = NaiadEnsemble(horlbeck.single_effects, epochs=3, chunk_size=4096)
    model.fit(pairs[tr], y[tr].unsqueeze(-1))
    out = model.posterior(pairs).values
    assert out.shape == (5, horlbeck.n_pairs, 1) and torch.isfinite(out).all()
    model.set_chunk_size(10**6)  # one chunk: same numbers
    torch.testing.assert_close(model.posterior(pairs).values, out)


def test_save_load_round_trip(tmp_path, norman_fit):
    model, pairs, *_ = norman_fit
    model.save(tmp_path / "naiad.pt")
    loaded = NaiadEnsemble.load(tmp_path / "naiad.pt")
    assert torch.equal(loaded.posterior(pairs).values, model.posterior(pairs).values)
    assert loaded.config == model.config and loaded.epochs_ == model.epochs_
    assert loaded.embed_dim_ == model.embed_dim_
    assert torch.equal(loaded.outcome_transform.means, model.outcome_transform.means)
    assert torch.equal(loaded.outcome_transform.stdvs, model.outcome_transform.stdvs)
    assert loaded.noise_variance_ == model.noise_variance_
    assert torch.equal(loaded.train_X_, model.train_X_)


def test_anchored_model_measures_outputs_from_no_effect(tmp_path, norman):
    """anchor_no_effect: scaled (not centred) single effects, no b1, offset T(0)."""
    pairs, y, tr, rest = _split(norman, 300)
    model = NaiadEnsemble(norman.single_effects, seed=0, epochs=40, anchor_no_effect=True)
    model.fit(pairs[tr], y[tr].unsqueeze(-1))
    net = model.network_
    ytr = y[tr]
    assert float(net.z0) == pytest.approx(float(-ytr.mean() / ytr.std()), rel=1e-6)  # fp32
    se = torch.as_tensor(norman.single_effects)
    torch.testing.assert_close(net.x.double(), se / se.std(), rtol=1e-6, atol=0)  # 0 stays 0
    assert "b1" not in dict(net.named_parameters()) and not net.b1.any()
    # a fresh single-branch-only network predicts a zero-effect pair at exactly y = 0
    zero = NaiadEnsemble(np.r_[0.0, norman.single_effects[1:]], seed=0, epochs=40,
                         embed_dim=0, anchor_no_effect=True)
    zero.fit(pairs[tr], y[tr].unsqueeze(-1))
    at_origin = zero.posterior(torch.tensor([[0.0, 0.0]])).mean
    assert float(at_origin.abs().max()) < 1e-6  # float32 round trip; scores ~0.1
    # persisted and reloaded bit for bit
    model.save(tmp_path / "anchored.pt")
    loaded = NaiadEnsemble.load(tmp_path / "anchored.pt")
    assert loaded.config.anchor_no_effect
    assert torch.equal(loaded.posterior(pairs).values, model.posterior(pairs).values)
    # and it is a different model from the default one on the same seed
    plain = NaiadEnsemble(norman.single_effects, seed=0, epochs=40).fit(
        pairs[tr], y[tr].unsqueeze(-1))
    assert not torch.allclose(plain.posterior(pairs).mean, model.posterior(pairs).mean)


def test_ax_scalarized_transform(norman_fit):
    model, pairs, *_ = norman_fit
    X = pairs[:50].double().unsqueeze(-2)
    minimise = ScalarizedPosteriorTransform(weights=torch.tensor([-1.0], dtype=torch.float64))
    torch.testing.assert_close(
        model.posterior(X, posterior_transform=minimise).mean, -model.posterior(X).mean
    )
    acq = PosteriorMean(model, posterior_transform=minimise)
    torch.testing.assert_close(acq(X), -model.posterior(X).mean.squeeze(-1).squeeze(-1))


def test_analytic_acquisitions(norman_fit):
    model, pairs, *_ = norman_fit
    X = pairs.double().unsqueeze(-2)  # N x 1 x 2
    post = model.posterior(X)
    mean, sd = post.mean.squeeze(-1).squeeze(-1), post.variance.sqrt().squeeze(-1).squeeze(-1)
    torch.testing.assert_close(PosteriorMean(model, maximize=False)(X), -mean)
    ucb = UpperConfidenceBound(model, beta=4.0, maximize=False)(X)
    torch.testing.assert_close(ucb, -mean + 2.0 * sd)
    # .to(X) inside analytic acquisitions must not turn the network into float64
    assert all(p.dtype == torch.float32 for p in model.network_.parameters())


def test_mc_acquisitions_exact_with_member_sampler_balanced_by_default(norman_fit):
    model, pairs, *_ = norman_fit
    X = pairs[:300].double().unsqueeze(-2)
    members = model.posterior(X).values.squeeze(-1).squeeze(-1)  # N x s
    exact = EnsembleMemberSampler(model.ensemble_size)
    sr = qSimpleRegret(model, sampler=exact)
    torch.testing.assert_close(sr(X), members.mean(-1))  # exact ensemble mean
    beta = 2.0
    qucb = qUpperConfidenceBound(model, beta=beta, sampler=exact)
    mu = members.mean(-1, keepdim=True)
    want = (mu + (beta * torch.pi / 2) ** 0.5 * (members - mu).abs()).mean(-1)
    torch.testing.assert_close(qucb(X), want)
    # default: BoTorch's 512 samples kept (ModelList needs it), members used 102-103 times each
    default = qSimpleRegret(model)
    default(X[:1])  # BoTorch builds the default sampler on the first call
    assert isinstance(default.sampler, EnsembleMemberSampler)
    assert default.sampler.sample_shape == (512,)
    torch.testing.assert_close(default(X), members.mean(-1), atol=0.01 * members.std().item(),
                               rtol=0)
    # 510 = 102 x 5 samples: exact again
    tiled = qSimpleRegret(model, sampler=EnsembleMemberSampler(5, torch.Size([510])))
    torch.testing.assert_close(tiled(X), members.mean(-1))


def test_model_list_with_a_gp_under_mc_acquisition(norman_fit):
    """ModelList(NaiadEnsemble, SingleTaskGP) + qSimpleRegret with an objective (issue 8)."""
    model, pairs, y, tr, rest = norman_fit
    Xtr = pairs[tr].double()
    Y2 = (Xtr[:, :1] - Xtr[:, 1:]).abs() / 100.0  # a second, smooth outcome
    gp = SingleTaskGP(Xtr, Y2, input_transform=Normalize(d=2, bounds=torch.tensor(
        [[0.0, 0.0], [111.0, 111.0]], dtype=torch.float64)))  # unfitted: enough for plumbing
    both = ModelList(model, gp)
    objective = GenericMCObjective(lambda Y, X: -Y[..., 0] + Y[..., 1])
    acq = qSimpleRegret(both, objective=objective)
    X = pairs[rest[:40]].double().unsqueeze(-2)
    got = acq(X)
    want = -model.posterior(X).mean[..., 0, 0] + gp.posterior(X).mean[..., 0, 0]
    sd = gp.posterior(X).variance[..., 0, 0].sqrt()
    assert ((got - want).abs() < 4 * sd / 512**0.5 + 1e-3 * model.posterior(X).variance[
        ..., 0, 0].sqrt()).all()


def test_weighted_ensemble_under_mc_acquisitions(norman, norman_fit):
    _, pairs, y, tr, rest = norman_fit
    w = torch.tensor([5.0, 1.0, 1.0, 1.0, 1.0])
    model = NaiadEnsemble(norman.single_effects, seed=0, epochs=40, weights=w)
    model.fit(pairs[tr], y[tr].unsqueeze(-1))
    X = pairs[rest[:50]].double().unsqueeze(-2)
    post = model.posterior(X)
    weighted_mean = (post.values * (w / w.sum()).double()[:, None, None]).sum(-3)
    torch.testing.assert_close(post.mean, weighted_mean)
    acq = qSimpleRegret(model, sampler=IndexSampler(torch.Size([4096]), seed=0))
    mc_sd = post.variance.sqrt()[..., 0, 0] / 4096**0.5
    assert ((acq(X) - post.mean[..., 0, 0]).abs() < 5 * mc_sd + 1e-12).all()
    default = qUpperConfidenceBound(model, beta=1.0)  # default sampler: IndexSampler
    assert torch.isfinite(default(X)).all() and type(default.sampler) is IndexSampler


def test_qlognei_ranks_agree_with_brute_force(norman, norman_fit):
    """Exact NEI over members: mean_k max(f_k(x) - max_b f_k(b), 0) (strength = -y)."""
    model, pairs, y, tr, rest = norman_fit
    base = pairs[tr[:30]].double()
    cand = pairs[rest[:400]].double()
    s = model.ensemble_size
    tf = posterior_transform(Direction.MINIMIZE)
    acq = qLogNoisyExpectedImprovement(
        model, X_baseline=base, sampler=EnsembleMemberSampler(s), posterior_transform=tf,
        prune_baseline=False,
    )
    log_nei = acq(cand.unsqueeze(-2))
    strength = lambda X: -model.posterior(X).values[..., 0]  # noqa: E731  s x n
    best = strength(base).amax(-1, keepdim=True)  # per member
    exact = (strength(cand) - best).clamp_min(0).mean(0)
    positive = exact > 0
    # with 5 exact members EI is exactly 0 wherever no member beats its own incumbent
    assert 0 < positive.sum() < len(cand)
    top_bf = set(torch.topk(exact, 10).indices.tolist())
    top_acq = set(torch.topk(log_nei, 10).indices.tolist())
    assert len(top_bf & top_acq) >= 9
    ranks_bf = exact[positive].argsort().argsort().double()
    ranks_acq = log_nei[positive].argsort().argsort().double()
    spearman = torch.corrcoef(torch.stack([ranks_bf, ranks_acq]))[0, 1]
    assert spearman > 0.95


def test_optimize_acqf_discrete_agrees_with_select_batch(norman_fit):
    model, pairs, y, tr, rest = norman_fit
    space = PairSpace(model.n_genes)
    measured = PairSet(space, pairs[tr])
    for acq in (MaxPredictedEffect(model),
                UpperConfidenceBound(model, beta=1.0, posterior_transform=posterior_transform(
                    "minimize"))):
        pointwise = acq if isinstance(acq, MaxPredictedEffect) else as_pointwise(acq)
        sel = select_batch(pointwise, space, q=1, exclude=measured, progress=False)
        choices = pairs[rest].double()
        cand, val = optimize_acqf_discrete(acq, q=1, choices=choices)
        assert torch.equal(torch.sort(cand[0].long()).values, sel.pairs[0])
        torch.testing.assert_close(val.reshape(()).double(), sel.scores[0].double())


def test_int64_inputs_ours_accept_stock_analytic_acquisitions_need_floats(norman_fit):
    model, pairs, *_ = norman_fit
    X = pairs[:5]
    torch.testing.assert_close(model.posterior(X).mean, model.posterior(X.double()).mean)
    with pytest.raises(TypeError, match="floating point"):  # BoTorch's self.to(X)
        PosteriorMean(model)(X.unsqueeze(-2))


def test_model_moves_to_another_device_after_fit(norman_fit):
    model, pairs, *_ = norman_fit
    moved = copy.deepcopy(model).to("meta")
    assert moved.device.type == "meta"
    assert all(p.device.type == "meta" for p in moved.network_.parameters())
    assert moved.outcome_transform.means.device.type == "meta"
    post = moved.posterior(pairs[:300].double().to("meta").reshape(3, 100, 2))
    assert post.values.device.type == "meta" and post.values.shape == (3, 5, 100, 1)
    with pytest.raises(ValueError, match="device"):
        moved.posterior(pairs[:3].double())


def test_fitting_path_allocates_on_the_data_device(norman):
    """prepare -> build -> train -> score on ``meta``: any CPU allocation would fail."""
    pairs, y, tr, _ = _split(norman, 300)
    m = NaiadEnsemble(norman.single_effects, seed=0, epochs=2, batch_size=100, chunk_size=60)
    meta = torch.device("meta")
    data = m._prepare(pairs[tr].to(meta), y[tr].unsqueeze(-1).to(meta), None)
    assert data.targets.device == meta and m.outcome_transform.means.device == meta
    net = m._make_network(data, torch.Generator().manual_seed(0))
    hist = train_members(net, data.X[:, 0], data.X[:, 1], data.targets.float(),
                         config=m.config, epochs=2, generator=torch.Generator().manual_seed(0))
    assert hist.device == meta
    m.network_ = net
    assert m.posterior(pairs[:300].double().to(meta)).values.device == meta


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")


@cuda
def test_cuda_fit_score_and_acquire(norman):
    pairs, y, tr, rest = _split(norman, 300)
    cpu = NaiadEnsemble(norman.single_effects, seed=0, epochs=40).fit(pairs[tr].double(),
                                                                       y[tr].unsqueeze(-1))
    dev = torch.device("cuda")
    gpu = NaiadEnsemble(norman.single_effects, seed=0, epochs=40, chunk_size=1000)
    gpu.fit(pairs[tr].double().to(dev), y[tr].unsqueeze(-1).to(dev))
    assert all(p.device.type == "cuda" for p in gpu.network_.parameters())
    Xall = pairs.double()
    m_cpu = cpu.posterior(Xall).mean
    m_gpu = gpu.posterior(Xall.to(dev)).mean.cpu()  # several chunks
    assert (m_cpu - m_gpu).abs().max() < 0.05 * y.std()  # same seed, other kernels
    ucb = UpperConfidenceBound(gpu, beta=1.0, posterior_transform=posterior_transform(
        "minimize", device=dev))
    assert ucb(Xall[:10].to(dev).unsqueeze(-2)).device.type == "cuda"
    moved = copy.deepcopy(cpu).to(dev)
    torch.testing.assert_close(moved.posterior(Xall.to(dev)).mean.cpu(), m_cpu, atol=1e-5, rtol=0)


def test_qlognei_runs_on_ensemble(norman_fit):
    model, pairs, y, tr, rest = norman_fit
    acq = qLogNoisyExpectedImprovement(model, X_baseline=pairs[tr[:50]].double())
    vals = acq(pairs[rest[:200]].double().unsqueeze(-2))
    assert vals.shape == (200,) and torch.isfinite(vals).all()
    # q = 2 joint batches also evaluate
    assert acq(pairs[rest[:20]].double().reshape(10, 2, 2)).shape == (10,)


def test_optimize_acqf_discrete_q1_picks_best_unmeasured_pair(norman_fit):
    model, pairs, y, tr, rest = norman_fit
    choices = pairs.double()
    acq = PosteriorMean(model, maximize=False)  # most negative growth = strongest
    cand, val = optimize_acqf_discrete(acq, q=1, choices=choices, X_avoid=pairs[tr].double())
    mean = model.posterior(pairs[rest].unsqueeze(-2)).mean.squeeze()
    best = pairs[rest][mean.argmin()]
    assert cand.shape == (1, 2) and torch.equal(cand[0].long(), best)
    assert not (pairs[tr] == cand[0].long()).all(-1).any()
    ucb_cand, _ = optimize_acqf_discrete(
        UpperConfidenceBound(model, beta=1.0, maximize=False), q=1, choices=choices
    )
    assert ucb_cand.shape == (1, 2)


def test_bad_inputs_give_clear_errors(norman, norman_fit):
    model, pairs, y, tr, _ = norman_fit
    with pytest.raises(ValueError, match=f"gene id {norman.n_genes}"):
        model.posterior(torch.tensor([[[0.0, float(norman.n_genes)]]]))
    with pytest.raises(ValueError, match="integer"):
        model.posterior(torch.tensor([[[0.5, 1.0]]], dtype=torch.float64))
    se = np.array(norman.single_effects, dtype=float)
    se[3] = np.nan
    with pytest.raises(ValueError, match="gene ids: 3"):
        NaiadEnsemble(se)
    fresh = NaiadEnsemble(norman.single_effects)
    with pytest.raises(ValueError, match="at least 2 training pairs"):
        fresh.fit(pairs[:0], y[:0].unsqueeze(-1))
    with pytest.raises(ValueError, match="at least 2 training pairs"):
        fresh.fit(pairs[:1], y[:1].unsqueeze(-1))
    bad_y = y[tr].clone().unsqueeze(-1)
    bad_y[0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        fresh.fit(pairs[tr], bad_y)
    with pytest.raises(ValueError, match="schedule"):
        NaiadEnsemble(norman.single_effects, schedule="simpson")
    with pytest.raises(ValueError, match="activation"):
        NaiadEnsemble(norman.single_effects, activation="tanh")
    with pytest.raises(TypeError, match="embed_dim"):
        NaiadEnsemble(norman.single_effects, embed_dim=2.5)

"""NaiadEnsemble on the real bundled screens, and stock BoTorch acquisitions on top of it."""

from __future__ import annotations

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
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from botorch.models.ensemble import EnsembleModel
from botorch.optim import optimize_acqf_discrete
from botorch.posteriors.ensemble import EnsemblePosterior

from naiad_bo.models import EnsembleMemberSampler, NaiadEnsemble


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
    rmse = (model(pairs[te]).mean(0).squeeze(-1) - y[te]).pow(2).mean().sqrt().item()
    assert rmse < 0.95 * _linear_rmse(norman, pairs, y, tr, te)


def test_is_a_botorch_ensemble_model_with_shapes(norman_fit):
    model, pairs, *_ = norman_fit
    assert isinstance(model, EnsembleModel) and model.num_outputs == 1
    X = pairs[:24].reshape(2, 3, 4, 2)
    out = model(X)
    assert out.shape == (2, 3, 5, 4, 1)  # batch x s x q x 1
    post = model.posterior(X)
    assert isinstance(post, EnsemblePosterior)
    assert post.mean.shape == (2, 3, 4, 1)
    torch.testing.assert_close(post.mean, out.mean(-3))
    torch.testing.assert_close(post.variance, out.var(-3))  # unbiased over members


def test_exactly_symmetric_on_all_pairs(norman_fit):
    model, pairs, *_ = norman_fit
    assert torch.equal(model(pairs), model(pairs.flip(-1)))


def test_reproducible_and_members_differ(norman):
    pairs, y, tr, _ = _split(norman, 150, seed=1)
    fit = lambda seed: NaiadEnsemble(norman.single_effects, seed=seed, epochs=10).fit(  # noqa: E731
        pairs[tr], y[tr].unsqueeze(-1))(pairs)
    a, b, c = fit(7), fit(7), fit(8)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    assert (a.var(0) > 0).all()  # different initialisations give different members


def test_float64_inputs_and_float32_scoring_are_exact_enough(norman_fit):
    model, pairs, *_ = norman_fit
    v_long = model(pairs)
    v_ax = model(pairs.double())  # what Ax hands us
    assert v_ax.dtype == torch.float64
    assert torch.equal(v_ax, v_long)
    model.set_compute_dtype("float64")
    try:
        v64 = model(pairs)
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
    assert big.resolve_single_dim() == 256 and big._resolve_epochs(500) == 200
    assert NaiadEnsemble(horlbeck.single_effects, schedule="norman_simpson").resolve_embed_dim(
        1000) == 4


def test_scores_all_horlbeck_pairs_chunked(horlbeck):
    pairs, y, tr, _ = _split(horlbeck, 500)
    model = NaiadEnsemble(horlbeck.single_effects, epochs=3, chunk_size=4096)
    model.fit(pairs[tr], y[tr].unsqueeze(-1))
    out = model(pairs)
    assert out.shape == (5, horlbeck.n_pairs, 1) and torch.isfinite(out).all()
    model.hparams["chunk_size"] = 10**6  # one chunk: same numbers
    torch.testing.assert_close(model(pairs), out)


def test_save_load_round_trip(tmp_path, norman_fit):
    model, pairs, *_ = norman_fit
    model.save(tmp_path / "naiad.pt")
    loaded = NaiadEnsemble.load(tmp_path / "naiad.pt")
    assert torch.equal(loaded(pairs), model(pairs))
    assert loaded.hparams == model.hparams
    assert loaded.embed_dim_ == model.embed_dim_
    assert loaded.y_mean_ == model.y_mean_ and loaded.y_std_ == model.y_std_
    assert torch.equal(loaded.train_X_, model.train_X_)


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


def test_mc_acquisitions_use_exact_member_sampler(norman_fit):
    model, pairs, *_ = norman_fit
    X = pairs[:300].double().unsqueeze(-2)
    members = model(X).squeeze(-1).squeeze(-1)  # N x s
    sr = qSimpleRegret(model)
    torch.testing.assert_close(sr(X), members.mean(-1))  # exact ensemble mean
    assert isinstance(sr.sampler, EnsembleMemberSampler)
    beta = 2.0
    qucb = qUpperConfidenceBound(model, beta=beta)
    mu = members.mean(-1, keepdim=True)
    want = (mu + (beta * torch.pi / 2) ** 0.5 * (members - mu).abs()).mean(-1)
    torch.testing.assert_close(qucb(X), want)
    assert isinstance(qucb.sampler, EnsembleMemberSampler)
    # an explicitly passed sampler works the same
    explicit = qSimpleRegret(model, sampler=model.default_sampler())
    torch.testing.assert_close(explicit(X), sr(X))


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

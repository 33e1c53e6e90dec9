"""Tests for naiad_bo.models.embedding_mlp."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.posteriors.ensemble import EnsemblePosterior

from naiad_bo.models.embedding_mlp import EmbeddingMLPEnsemble
from naiad_bo.splits import train_test_split

FAST = dict(ensemble_size=3, epochs=150, embed_dim=32, hidden_dim=32)


def _data(screen, n_train, seed):
    X = torch.from_numpy(screen.pair_index().copy())
    Y = torch.from_numpy(screen.y_values().copy()).unsqueeze(-1)
    s = train_test_split(screen.n_pairs, n_train, seed=seed)
    return X, Y, s


def test_shapes_symmetry_and_member_diversity(norman):
    X, Y, s = _data(norman, 300, 0)
    m = EmbeddingMLPEnsemble(norman.single_effects, seed=0, **FAST).fit(X[s.train], Y[s.train])
    Xq = X[s.test[:12]].reshape(3, 4, 2)
    out = m(Xq.double())
    assert out.shape == (3, 3, 4, 1) and out.dtype == torch.float64
    post = m.posterior(Xq)
    assert isinstance(post, EnsemblePosterior) and post.mean.shape == (3, 4, 1)
    assert torch.equal(post.mean, m.posterior(Xq.flip(-1)).mean)  # exactly symmetric
    assert (post.variance > 0).all()  # members differ


def test_ignores_single_effects_and_is_seeded(norman):
    """The MLP baseline has no single-gene input: the single effects must not matter."""
    X, Y, s = _data(norman, 200, 1)
    kw = dict(FAST, epochs=20)
    a = EmbeddingMLPEnsemble(norman.single_effects, seed=3, **kw).fit(X[s.train], Y[s.train])
    shuffled = np.random.default_rng(0).permutation(norman.single_effects)
    b = EmbeddingMLPEnsemble(shuffled, seed=3, **kw).fit(X[s.train], Y[s.train])
    c = EmbeddingMLPEnsemble(norman.single_effects, seed=4, **kw).fit(X[s.train], Y[s.train])
    Xt = X[s.test[:50]].unsqueeze(-2)
    assert torch.equal(a.posterior(Xt).mean, b.posterior(Xt).mean)
    assert not torch.allclose(a.posterior(Xt).mean, c.posterior(Xt).mean)


def test_learns_held_out_pairs(norman):
    """With every gene seen ~20 times it predicts unseen pairs far better than the mean."""
    X, Y, s = _data(norman, 1120, 0)
    m = EmbeddingMLPEnsemble(norman.single_effects, seed=0, **FAST).fit(X[s.train], Y[s.train])
    y = Y[s.test, 0].numpy()
    pred = m.posterior(X[s.test].unsqueeze(-2)).mean.reshape(-1).numpy()
    rmse = np.sqrt(np.mean((pred - y) ** 2))
    rmse_mean = np.sqrt(np.mean((Y[s.train].mean().item() - y) ** 2))
    assert rmse < 0.5 * rmse_mean, (rmse, rmse_mean)


def test_chunked_scoring_and_save_load(norman, tmp_path):
    X, Y, s = _data(norman, 200, 2)
    m = EmbeddingMLPEnsemble(norman.single_effects, seed=0, **dict(FAST, epochs=10))
    m.fit(X[s.train], Y[s.train])
    full = m(X[s.test])
    m.set_chunk_size(97)
    assert torch.allclose(m(X[s.test]), full, atol=1e-6)
    m.save(tmp_path / "mlp.pt")
    loaded = EmbeddingMLPEnsemble.load(tmp_path / "mlp.pt")
    assert isinstance(loaded, EmbeddingMLPEnsemble)
    assert torch.allclose(loaded(X[s.test]), full, atol=1e-6)


def test_defaults_and_bad_hyperparameters():
    m = EmbeddingMLPEnsemble(np.zeros(4))
    assert m.config.embed_dim == 128 and m.resolve_lr() == 1e-2
    with pytest.raises(ValueError, match="embed_dim"):
        EmbeddingMLPEnsemble(np.zeros(4), embed_dim=0)
    with pytest.raises(TypeError, match="hidden_dim"):
        EmbeddingMLPEnsemble(np.zeros(4), hidden_dim=2.5)
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        EmbeddingMLPEnsemble(np.zeros(4), bilinear_dim=3)

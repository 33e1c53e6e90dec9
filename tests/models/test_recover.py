"""Tests for naiad_bo.models.recover."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.models.recover import BlissOffset, RecoverEnsemble
from naiad_bo.splits import train_test_split

FAST = dict(ensemble_size=3, epochs=150, embed_dim=32, bilinear_dim=32)


def _data(screen, n_train, seed):
    X = torch.from_numpy(screen.pair_index().copy())
    Y = torch.from_numpy(screen.y_values().copy()).unsqueeze(-1)
    s = train_test_split(screen.n_pairs, n_train, seed=seed)
    return X, Y, s


def test_bliss_expectation():
    se = np.array([-0.5, 0.2, 0.0])
    m = RecoverEnsemble(se)
    a, b = torch.tensor([0, 0, 1, 2]), torch.tensor([1, 0, 1, 0])
    expected = (1 + se[a.numpy()]) * (1 + se[b.numpy()]) - 1
    np.testing.assert_allclose(m.expectation(a, b).numpy(), expected, rtol=1e-12)
    assert m.config.lr is None and m.resolve_lr() == 1e-2 and m.config.embed_dim == 128


def test_no_interaction_gives_back_bliss():
    """Targets exactly at the Bliss expectation: unseen pairs are predicted at Bliss."""
    rng = np.random.default_rng(0)
    se = rng.uniform(-0.5, 0.1, 40)
    pairs = torch.combinations(torch.arange(40), with_replacement=True)
    perm = torch.from_numpy(rng.permutation(len(pairs)))
    train, test = pairs[perm[:300]], pairs[perm[300:]]
    m = RecoverEnsemble(se, seed=0, **dict(FAST, epochs=50))
    y = m.expectation(train[:, 0], train[:, 1]).unsqueeze(-1)
    m.fit(train, y)
    pred = m.posterior(test.unsqueeze(-2)).mean.reshape(-1)
    bliss = m.expectation(test[:, 0], test[:, 1])
    # the network only learned "zero residual": predictions track Bliss closely
    assert (pred - bliss).pow(2).mean().sqrt() < 0.1 * bliss.std()
    # and the expectation is added back exactly: prediction = Bliss + residual network
    # (BlissOffset then Standardize, undone by BoTorch's EnsembleModel.posterior)
    std = m.outcome_transform["standardize"]
    with torch.no_grad():
        resid = m.network_(test[:, 0], test[:, 1]).double() * std.stdvs[0] + std.means[0]
    members = m.posterior(test).values[..., 0]
    assert torch.allclose(members - bliss, resid, atol=1e-12)


def test_symmetry_shapes_and_chunking(norman):
    X, Y, s = _data(norman, 300, 0)
    m = RecoverEnsemble(norman.single_effects, seed=1, **dict(FAST, epochs=30))
    m.fit(X[s.train], Y[s.train])
    Xq = X[s.test[:20]].reshape(5, 4, 2)
    assert m.posterior(Xq).values.shape == (5, 3, 4, 1)
    post = m.posterior(Xq)
    assert post.mean.shape == (5, 4, 1)
    assert torch.equal(post.mean, m.posterior(Xq.flip(-1)).mean)
    full = m(X[s.test])
    m.set_chunk_size(101)  # chunked scoring goes through the per-gene cache
    assert torch.allclose(m(X[s.test]), full, atol=1e-6)


def test_beats_bliss_and_mean_on_held_out_norman(norman):
    X, Y, s = _data(norman, 560, 0)
    m = RecoverEnsemble(norman.single_effects, seed=0, **FAST).fit(X[s.train], Y[s.train])
    test = X[s.test]
    y = Y[s.test, 0].numpy()
    pred = m.posterior(test.unsqueeze(-2)).mean.reshape(-1).numpy()
    bliss = m.expectation(test[:, 0], test[:, 1]).numpy()
    rmse = np.sqrt(np.mean((pred - y) ** 2))
    rmse_bliss = np.sqrt(np.mean((bliss - y) ** 2))
    rmse_mean = np.sqrt(np.mean((Y[s.train].mean().item() - y) ** 2))
    assert rmse < 0.9 * rmse_bliss and rmse < 0.4 * rmse_mean, (rmse, rmse_bliss, rmse_mean)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match="bilinear_dim"):
        RecoverEnsemble(np.zeros(3), bilinear_dim=0)
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        RecoverEnsemble(np.zeros(3), hidden_dim=8)


def test_bliss_offset_is_an_outcome_transform_undone_by_the_posterior():
    se = torch.tensor([-0.5, 0.2, 0.0], dtype=torch.float64)
    tf = BlissOffset(se)
    X = torch.tensor([[0.0, 1.0], [2.0, 2.0], [0.0, 0.0]], dtype=torch.float64)
    Y = torch.tensor([[0.1], [0.2], [0.3]], dtype=torch.float64)
    resid, _ = tf(Y, X=X)
    e = torch.tensor([-0.5 + 0.2 - 0.1, 0.0, -0.75], dtype=torch.float64).unsqueeze(-1)
    torch.testing.assert_close(resid, Y - e)
    torch.testing.assert_close(tf.untransform(resid, X=X)[0], Y)
    members = resid.unsqueeze(0).expand(4, 3, 1)  # s x q x 1 ensemble values
    torch.testing.assert_close(tf.untransform(members, X=X)[0], Y.expand(4, 3, 1))
    with pytest.raises(ValueError, match="needs the gene pairs"):
        tf(Y)
    m = RecoverEnsemble(se.numpy())
    assert isinstance(m.outcome_transform["bliss"], BlissOffset)

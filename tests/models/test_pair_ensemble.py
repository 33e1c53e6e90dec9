"""PairEnsembleModel base machinery, exercised through a tiny additive subclass."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from botorch.acquisition import PosteriorMean
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from torch import nn

from naiad_bo.models.pair_ensemble import (
    NotFittedError,
    PairEnsembleModel,
    as_gene_pairs,
    linear_warmup_decay,
)
from naiad_bo.models.sampler import MemberEnsemblePosterior

M = 25


class _AdditiveNet(nn.Module):
    """t[a] + t[b] per member: enough to test the base class end to end."""

    def __init__(self, s: int, n_genes: int, scale: float, g: torch.Generator, nan: bool):
        super().__init__()
        self.t = nn.Parameter(torch.randn(s, n_genes, generator=g, dtype=torch.float64) * scale)
        self.nan = nan

    def forward(self, a, b):
        out = self.t[:, a] + self.t[:, b]
        return out * float("nan") if self.nan else out


class ToyEnsemble(PairEnsembleModel):
    hyperparameter_defaults: ClassVar[dict[str, Any]] = {
        **PairEnsembleModel.hyperparameter_defaults,
        "init_scale": 0.1,
        "make_nan": False,
        "epochs": 150,
        "lr": 0.05,
    }

    def _build_network(self, n_train, generator):
        self.seen_n_train = n_train
        return _AdditiveNet(self.ensemble_size, self.n_genes, self.hparams["init_scale"],
                            generator, self.hparams["make_nan"])


class OffsetToy(ToyEnsemble):
    """Learns the residual over a fixed baseline y_a * y_b (the _offset hook)."""

    def _offset(self, a, b):
        return 100.0 * self.single_effects[a] * self.single_effects[b]


class UnbatchedToy(ToyEnsemble):
    def _build_network(self, n_train, generator):
        return nn.Linear(2, 1)


def _data(n=200, seed=0):
    g = np.random.default_rng(seed)
    effect = g.normal(size=M)
    pairs = np.sort(g.integers(0, M, size=(n, 2)), axis=1)
    y = 1000.0 + 50.0 * (effect[pairs[:, 0]] + effect[pairs[:, 1]])
    return effect, torch.as_tensor(pairs), torch.as_tensor(y).unsqueeze(-1)


@pytest.fixture(scope="module")
def fitted():
    effect, X, Y = _data()
    return ToyEnsemble(effect, seed=0).fit(X, Y), X, Y


def test_fit_standardises_and_predicts_in_original_units(fitted):
    model, X, Y = fitted
    assert model.y_mean_.item() == pytest.approx(Y.mean().item())
    assert model.y_std_.item() == pytest.approx(Y.std().item())
    assert model.seen_n_train == len(X)
    pred = model(X)  # s x n x 1, raw units
    assert pred.shape == (5, len(X), 1)
    rmse = (pred.mean(0) - Y).pow(2).mean().sqrt().item()
    assert rmse < 0.1 * Y.std().item()  # an additive truth is learnt, offset 1000 restored
    assert model.train_loss_.shape == (150, 5)
    assert (model.train_loss_[-1] < 0.2 * model.train_loss_[0]).all()


def test_offset_hook_adds_baseline_back():
    effect, X, _ = _data()
    y = 100.0 * effect[X[:, 0]] * effect[X[:, 1]] + 3.0 * (effect[X[:, 0]] + effect[X[:, 1]])
    Y = torch.as_tensor(y).unsqueeze(-1)
    model = OffsetToy(effect, seed=0).fit(X, Y)
    # the network only had to learn the additive residual
    assert (model(X).mean(0) - Y).abs().max().item() < 0.3
    z = model.standardized_targets()
    assert torch.allclose(z * model.y_std_ + model.y_mean_, Y.squeeze(-1) - model._offset(
        X[:, 0], X[:, 1]))


def test_minibatches_and_reproducibility():
    effect, X, Y = _data()
    kw = dict(batch_size=64, epochs=20)
    p1 = ToyEnsemble(effect, seed=3, **kw).fit(X, Y)(X)
    p2 = ToyEnsemble(effect, seed=3, **kw).fit(X, Y)(X)
    p3 = ToyEnsemble(effect, seed=4, **kw).fit(X, Y)(X)
    assert torch.equal(p1, p2)
    assert not torch.equal(p1, p3)


def test_lr_schedule_warmup_then_decay():
    total, warm = 100, 10
    f = [linear_warmup_decay(i, total, warm) for i in range(total)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert all(x < y for x, y in zip(f[:10], f[1:10], strict=False))
    assert all(x > y for x, y in zip(f[10:], f[11:], strict=False))
    assert f[-1] == pytest.approx(1 / 90) and f[-1] > 0
    assert linear_warmup_decay(0, 5, 0) == 1.0
    with pytest.raises(ValueError):
        linear_warmup_decay(5, 5, 0)


def test_output_shapes_and_posterior(fitted):
    model, X, _ = fitted
    Xb = X[:12].reshape(3, 4, 2)
    assert model(Xb).shape == (3, 5, 4, 1)  # batch x s x q x 1
    post = model.posterior(Xb)
    assert isinstance(post, MemberEnsemblePosterior)
    assert post.mean.shape == (3, 4, 1) and post.variance.shape == (3, 4, 1)
    assert (post.variance > 0).all()
    assert model.num_outputs == 1 and model.batch_shape == torch.Size([])


def test_scalarized_posterior_transform_applied_by_model(fitted):
    model, X, _ = fitted
    plain = model.posterior(X[:7])
    tf = ScalarizedPosteriorTransform(weights=torch.tensor([-1.0], dtype=torch.float64),
                                      offset=2.0)
    post = model.posterior(X[:7], posterior_transform=tf)
    assert isinstance(post, MemberEnsemblePosterior)
    torch.testing.assert_close(post.mean, 2.0 - plain.mean)
    torch.testing.assert_close(post.variance, plain.variance)
    with pytest.raises(ValueError, match="weights"):
        model.posterior(X[:2], posterior_transform=ScalarizedPosteriorTransform(
            weights=torch.tensor([1.0, 1.0])))


def test_dtype_is_deliberate(fitted):
    model, X, _ = fitted
    assert all(p.dtype == torch.float32 for p in model.network_.parameters())
    out64 = model(X.double())
    assert out64.dtype == torch.float64
    assert model(X).dtype == torch.float64  # long in -> float64 out
    assert model(X.float()).dtype == torch.float32
    torch.testing.assert_close(out64, model(X))
    # an analytic acquisition casts its model with .to(X): the network must stay float32
    PosteriorMean(model)(X[:5].double().unsqueeze(-2))
    model.double()
    assert all(p.dtype == torch.float32 for p in model.network_.parameters())
    assert model.y_mean_.dtype == torch.float64 and model.single_effects.dtype == torch.float64
    model.set_compute_dtype("float64")
    try:
        assert all(p.dtype == torch.float64 for p in model.network_.parameters())
        torch.testing.assert_close(model(X), out64, rtol=1e-5, atol=1e-4)
    finally:
        model.set_compute_dtype(torch.float32)
    with pytest.raises(ValueError, match="dtype"):
        model.set_compute_dtype("float16")


def test_save_load_round_trip(tmp_path, fitted):
    model, X, _ = fitted
    path = tmp_path / "toy.pt"
    model.save(path)
    loaded = ToyEnsemble.load(path)
    assert type(loaded) is ToyEnsemble
    assert torch.equal(loaded(X), model(X))
    assert loaded.hparams == model.hparams and loaded.seed == model.seed
    assert loaded.y_std_ == model.y_std_ and loaded.epochs_ == model.epochs_
    # the base class can load any subclass it knows; other classes refuse
    assert type(PairEnsembleModel.load(path)) is ToyEnsemble
    with pytest.raises(ValueError, match="not a OffsetToy"):
        OffsetToy.load(path)
    unfitted = tmp_path / "unfitted.pt"
    ToyEnsemble(np.zeros(M), seed=1).save(unfitted)
    assert not ToyEnsemble.load(unfitted).is_fitted
    with pytest.raises(ValueError, match="format"):
        ToyEnsemble.from_state({"format": "something else"})


def test_input_validation():
    X = torch.tensor([[0, 1], [2, 3]])
    assert as_gene_pairs(X.double(), 4).dtype == torch.long
    assert as_gene_pairs(np.array([[0, 3]]), 4).tolist() == [[0, 3]]
    with pytest.raises(ValueError, match="gene id 4"):
        as_gene_pairs(X + 1, 4)
    with pytest.raises(ValueError, match="gene id -1"):
        as_gene_pairs(X - 1, 4)
    with pytest.raises(ValueError, match="integer gene indices"):
        as_gene_pairs(X.double() + 0.5, 4)
    with pytest.raises(ValueError, match="NaN"):
        as_gene_pairs(torch.tensor([[0.0, float("nan")]]), 4)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        as_gene_pairs(torch.zeros(3, 3), 4)
    with pytest.raises(TypeError):
        as_gene_pairs([[0, 1]], 4)
    with pytest.raises(TypeError):
        as_gene_pairs(torch.ones(2, 2, dtype=torch.bool), 4)


def test_bad_construction_and_fit_inputs():
    effect, X, Y = _data()
    with pytest.raises(ValueError, match="missing"):
        ToyEnsemble(np.r_[effect[:3], np.nan, effect[4:]])
    with pytest.raises(ValueError, match="shape"):
        ToyEnsemble(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        ToyEnsemble(effect, n_members=3)
    with pytest.raises(ValueError, match="ensemble_size"):
        ToyEnsemble(effect, ensemble_size=0)
    with pytest.raises(TypeError, match="epochs"):
        ToyEnsemble(effect, epochs=1.5)
    with pytest.raises(ValueError, match="warmup_fraction"):
        ToyEnsemble(effect, warmup_fraction=1.0)
    with pytest.raises(ValueError, match="lr"):
        ToyEnsemble(effect, lr=0)
    model = ToyEnsemble(effect)
    with pytest.raises(NotFittedError):
        model(X)
    with pytest.raises(ValueError, match="at least 2"):
        model.fit(X[:0], Y[:0])  # empty training set
    with pytest.raises(ValueError, match="at least 2"):
        model.fit(X[:1], Y[:1])
    Ynan = Y.clone()
    Ynan[5] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, Ynan)
    with pytest.raises(ValueError, match="train_Y has 10"):
        model.fit(X, Y[:10])
    with pytest.raises(ValueError, match="gene id"):
        model.fit(X + M, Y)
    with pytest.raises(TypeError, match="batched"):
        UnbatchedToy(effect).fit(X, Y)
    with pytest.raises(FloatingPointError, match="diverged"):
        ToyEnsemble(effect, make_nan=True, epochs=2).fit(X, Y)


def test_constant_targets_do_not_crash():
    effect, X, _ = _data()
    model = ToyEnsemble(effect, epochs=5).fit(X, torch.full((len(X), 1), 3.0))
    assert model.y_std_.item() == 1.0
    torch.testing.assert_close(model(X).mean(0), torch.full((len(X), 1), 3.0, dtype=torch.float64),
                               atol=0.5, rtol=0)


def test_numpy_hyperparameters_survive_save_load(tmp_path):
    effect, X, Y = _data()
    model = ToyEnsemble(effect, epochs=np.int64(3), lr=np.float32(0.05)).fit(X, Y)
    assert type(model.hparams["epochs"]) is int
    model.save(tmp_path / "m.pt")
    assert ToyEnsemble.load(tmp_path / "m.pt").hparams["epochs"] == 3

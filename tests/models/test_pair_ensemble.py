"""PairEnsembleModel: the BoTorch contract (transforms, posterior, noise, limits, devices).

Exercised through a tiny additive subclass (fast) with an exact reference where one exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch
from botorch.acquisition import PosteriorMean
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from botorch.exceptions.errors import UnsupportedError
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Log, Standardize
from botorch.utils.datasets import SupervisedDataset
from torch import nn

from naiad_bo.direction import Direction
from naiad_bo.models import EnsembleConfig, NotFittedError, PairEnsembleModel
from naiad_bo.models.ensemble_posterior import MemberEnsemblePosterior

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


@dataclass(frozen=True)
class ToyConfig(EnsembleConfig):
    init_scale: float = 0.1
    make_nan: bool = False
    epochs: int | None = 150
    lr: float = 0.05


class ToyEnsemble(PairEnsembleModel):
    config_class: ClassVar[type[EnsembleConfig]] = ToyConfig

    def _build_network(self, data, generator):
        self.seen_n_train = data.n
        return _AdditiveNet(self.ensemble_size, self.n_genes, self.config.init_scale,
                            generator, self.config.make_nan)


class UnbatchedToy(ToyEnsemble):
    def _build_network(self, data, generator):
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
    return ToyEnsemble(effect, seed=0).fit(X.double(), Y), X.double(), Y


def test_standardize_is_the_outcome_transform_applied_by_botorch(fitted):
    model, X, Y = fitted
    tf = model.outcome_transform
    assert isinstance(tf, Standardize)
    torch.testing.assert_close(tf.means.reshape(()), Y.mean())
    torch.testing.assert_close(tf.stdvs.reshape(()), Y.std())  # ddof = 1 as before
    z = model(X)  # forward: members in standardised units
    assert abs(z.mean().item()) < 0.1 and 0.5 < z.std().item() < 1.5
    post = model.posterior(X)
    torch.testing.assert_close(post.values, z * Y.std() + Y.mean())
    rmse = (post.mean - Y).pow(2).mean().sqrt().item()
    assert rmse < 0.1 * Y.std().item()  # an additive truth is learnt, offset 1000 restored
    assert model.train_loss_.shape == (150, 5)
    assert (model.train_loss_[-1] < 0.2 * model.train_loss_[0]).all()
    assert model.seen_n_train == len(X)


def test_user_outcome_transforms_are_honoured_or_none():
    effect, X, Y = _data()
    raw = ToyEnsemble(effect, outcome_transform=None, epochs=5).fit(X, Y)
    assert not hasattr(raw, "outcome_transform")
    torch.testing.assert_close(raw.posterior(X).values, raw(X))  # no transform: raw units
    log = Log()
    logged = ToyEnsemble(effect, outcome_transform=log, epochs=5).fit(X, Y)
    assert logged.outcome_transform is log
    torch.testing.assert_close(logged.posterior(X).values, logged(X).exp())
    with pytest.raises(UnsupportedError, match="gene ids"):
        ToyEnsemble(effect, input_transform=Normalize(d=2))
    with pytest.raises(TypeError, match="OutcomeTransform"):
        ToyEnsemble(effect, outcome_transform="standardize")


def test_botorch_style_constructor_with_training_data(fitted):
    model, X, Y = fitted
    effect, *_ = _data()
    other = ToyEnsemble(effect, X, Y, seed=0).fit()
    assert torch.equal(other.posterior(X).values, model.posterior(X).values)
    ds = SupervisedDataset(X, Y, feature_names=["gene_a", "gene_b"], outcome_names=["y"])
    kwargs = ToyEnsemble.construct_inputs(ds, single_effects=effect, seed=0)
    from_ds = ToyEnsemble(**kwargs).fit()
    assert torch.equal(from_ds.posterior(X).values, model.posterior(X).values)
    with pytest.raises(ValueError, match="single_effects"):
        ToyEnsemble.construct_inputs(ds)
    with pytest.raises(ValueError, match="both"):
        ToyEnsemble(effect, X)
    with pytest.raises(ValueError, match="needs train_X"):
        ToyEnsemble(effect).fit()


def test_config_is_typed_frozen_and_maps_keyword_options():
    effect, *_ = _data()
    m = ToyEnsemble(effect, ensemble_size=3, batch_size="auto", dtype="float64")
    assert isinstance(m.config, ToyConfig)
    assert m.config.ensemble_size == 3 and m.config.batch_size is None
    assert m.config.dtype is torch.float64 and m.compute_dtype is torch.float64
    with pytest.raises(AttributeError):
        m.config.lr = 1.0  # frozen
    assert m.hparams == m.config.to_dict() and m.hparams["dtype"] == "float64"
    with pytest.raises(TypeError):
        m.hparams["chunk_size"] = 10  # read-only view, not a switch
    cfg = ToyConfig(ensemble_size=2)
    m2 = ToyEnsemble(effect, config=cfg, lr=0.2)
    assert m2.config == ToyConfig(ensemble_size=2, lr=0.2) and cfg.lr == 0.05
    with pytest.raises(TypeError, match="ToyConfig"):
        ToyEnsemble(effect, config=EnsembleConfig())


def test_minibatches_and_reproducibility():
    effect, X, Y = _data()
    kw = dict(batch_size=64, epochs=20)
    p1 = ToyEnsemble(effect, seed=3, **kw).fit(X, Y)(X)
    p2 = ToyEnsemble(effect, seed=3, **kw).fit(X, Y)(X)
    p3 = ToyEnsemble(effect, seed=4, **kw).fit(X, Y)(X)
    assert torch.equal(p1, p2)
    assert not torch.equal(p1, p3)


def test_posterior_values_statistics_and_shapes(fitted):
    model, X, _ = fitted
    Xb = X[:12].reshape(3, 4, 2)
    post = model.posterior(Xb)
    assert isinstance(post, MemberEnsemblePosterior)
    assert post.values.shape == (3, 5, 4, 1)  # batch x s x q x 1
    torch.testing.assert_close(post.mean, post.values.mean(-3))
    torch.testing.assert_close(post.variance, post.values.var(-3))  # unbiased over members
    assert model.num_outputs == 1 and model.batch_shape == torch.Size([])


def test_observation_noise_from_train_yvar_and_estimated(fitted):
    model, X, Y = fitted
    effect, *_ = _data()
    epistemic = model.posterior(X[:30]).variance
    # no Yvar: in-sample mean squared residual of the ensemble mean
    resid = (Y - model.posterior(X).mean).pow(2).mean().item()
    assert model.noise_variance_ == pytest.approx(resid, rel=1e-10)
    noisy = model.posterior(X[:30], observation_noise=True)
    torch.testing.assert_close(noisy.variance, epistemic + resid)
    torch.testing.assert_close(noisy.mean, model.posterior(X[:30]).mean)
    given = torch.full((30, 1), 4.0, dtype=torch.float64)
    torch.testing.assert_close(
        model.posterior(X[:30], observation_noise=given).variance, epistemic + 4.0
    )
    # with train_Yvar: its mean; members are unchanged (Yvar does not weight the loss)
    Yvar = torch.linspace(1.0, 3.0, len(X), dtype=torch.float64).unsqueeze(-1)
    with_var = ToyEnsemble(effect, seed=0).fit(X, Y, Yvar)
    assert with_var.noise_variance_ == pytest.approx(2.0)
    assert torch.equal(with_var(X), model(X))
    assert (with_var.posterior(X, observation_noise=True).variance > epistemic.min()).all()
    with pytest.raises(UnsupportedError, match="observation noise"):
        noisy.rsample(torch.Size([4]))
    with pytest.raises(ValueError, match="broadcast"):
        model.posterior(X[:30], observation_noise=torch.ones(7, 1))


def test_bad_yvar_and_y():
    effect, X, Y = _data()
    model = ToyEnsemble(effect, epochs=2)
    with pytest.raises(ValueError, match="negative"):
        model.fit(X, Y, -torch.ones_like(Y))
    with pytest.raises(ValueError, match="train_Yvar has 10"):
        model.fit(X, Y, torch.ones(10, 1))
    with pytest.raises(ValueError, match="train_Yvar must be n x 1"):
        model.fit(X, Y, torch.ones(len(X), 2))
    Ynan = Y.clone()
    Ynan[5] = float("nan")
    with pytest.raises(ValueError, match=r"NaN.*rows \[5\]"):
        model.fit(X, Ynan)
    with pytest.raises(ValueError, match="train_Y is on device meta but train_X is on cpu"):
        model.fit(X, Y.to("meta"))
    with pytest.raises(ValueError, match="train_Yvar is on device meta"):
        model.fit(X, Y, torch.ones_like(Y).to("meta"))


def test_scalarized_posterior_transform_applied_by_model(fitted):
    model, X, _ = fitted
    plain = model.posterior(X[:7])
    tf = ScalarizedPosteriorTransform(weights=torch.tensor([-1.0], dtype=torch.float64),
                                      offset=2.0)
    post = model.posterior(X[:7], posterior_transform=tf)
    assert isinstance(post, MemberEnsemblePosterior)
    torch.testing.assert_close(post.mean, 2.0 - plain.mean)
    torch.testing.assert_close(post.variance, plain.variance)
    noisy = model.posterior(X[:7], observation_noise=True, posterior_transform=tf)
    torch.testing.assert_close(noisy.variance, plain.variance + model.noise_variance_)
    with pytest.raises(ValueError, match="weights"):
        model.posterior(X[:2], posterior_transform=ScalarizedPosteriorTransform(
            weights=torch.tensor([1.0, 1.0])))


def test_clear_limits(fitted):
    model, X, Y = fitted
    assert model.subset_output([0]) is model
    with pytest.raises(ValueError, match="one output"):
        model.subset_output([1])
    with pytest.raises(UnsupportedError, match="fit\\(train_X, train_Y\\)"):
        model.condition_on_observations(X[:2], Y[:2])
    with pytest.raises(UnsupportedError, match="SingleTaskGP"):
        model.fantasize(X[:2])
    with pytest.raises(ValueError, match="output_indices"):
        model.posterior(X[:2], output_indices=[1])


def test_dtype_is_deliberate(fitted):
    model, X, _ = fitted
    Xl = X.long()
    assert all(p.dtype == torch.float32 for p in model.network_.parameters())
    out64 = model.posterior(X).values
    assert out64.dtype == torch.float64
    assert model.posterior(Xl).values.dtype == torch.float64  # long in -> float64 out
    assert model.posterior(X.float()).values.dtype == torch.float32
    torch.testing.assert_close(out64, model.posterior(Xl).values)
    # an analytic acquisition casts its model with .to(X): network and transform keep dtypes
    PosteriorMean(model)(X[:5].float().unsqueeze(-2))
    model.double()
    assert all(p.dtype == torch.float32 for p in model.network_.parameters())
    assert model.outcome_transform.means.dtype == torch.float64
    assert model.single_effects.dtype == torch.float64
    model.set_compute_dtype("float64")
    try:
        assert all(p.dtype == torch.float64 for p in model.network_.parameters())
        torch.testing.assert_close(model.posterior(X).values, out64, rtol=1e-5, atol=1e-3)
    finally:
        model.set_compute_dtype(torch.float32)
    with pytest.raises(ValueError, match="dtype"):
        model.set_compute_dtype("float16")


def test_device_mismatch_is_a_clear_error(fitted):
    model, X, _ = fitted
    with pytest.raises(ValueError, match="device meta"):
        model.posterior(X.to("meta"))


def test_direction_and_weights_from_constructor(norman):
    model = ToyEnsemble(norman, epochs=1)
    assert model.direction is Direction.MINIMIZE and model.n_genes == norman.n_genes
    assert ToyEnsemble(norman.single_effects).direction is None
    with pytest.raises(ValueError, match="contradicts"):
        ToyEnsemble(norman, direction="maximize")
    with pytest.raises(ValueError, match="shape \\(5,\\)"):
        ToyEnsemble(norman.single_effects, weights=torch.ones(3))
    with pytest.raises(ValueError, match="> 0"):
        ToyEnsemble(norman.single_effects, weights=torch.tensor([1.0, 1, 1, 1, 0]))


def test_weighted_posterior_statistics(fitted):
    model, X, Y = fitted
    effect, *_ = _data()
    w = torch.tensor([4.0, 1.0, 1.0, 1.0, 1.0], dtype=torch.float64)
    weighted = ToyEnsemble(effect, seed=0, weights=w).fit(X, Y)
    post = weighted.posterior(X[:10])
    v = post.values[..., 0]  # s x n
    wn = (w / w.sum()).unsqueeze(-1)
    torch.testing.assert_close(post.mean[..., 0], (wn * v).sum(0))
    var = (wn * (v - (wn * v).sum(0)) ** 2).sum(0) / (1 - wn.pow(2).sum())
    torch.testing.assert_close(post.variance[..., 0], var)


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
    with pytest.raises(TypeError, match="seed"):
        ToyEnsemble(effect, seed=1.5)
    model = ToyEnsemble(effect)
    with pytest.raises(NotFittedError):
        model(X)
    with pytest.raises(NotFittedError):
        model.posterior(X)
    with pytest.raises(ValueError, match="at least 2"):
        model.fit(X[:0], Y[:0])  # empty training set
    with pytest.raises(ValueError, match="at least 2"):
        model.fit(X[:1], Y[:1])
    with pytest.raises(ValueError, match="train_Y has 10"):
        model.fit(X, Y[:10])
    with pytest.raises(ValueError, match="gene id"):
        model.fit(X + M, Y)
    with pytest.raises(ValueError, match="integers"):
        model.fit(X + 0.5, Y)
    with pytest.raises(TypeError, match="batched"):
        UnbatchedToy(effect).fit(X, Y)
    with pytest.raises(FloatingPointError, match="diverged"):
        ToyEnsemble(effect, make_nan=True, epochs=2).fit(X, Y)


def test_constant_targets_do_not_crash():
    effect, X, _ = _data()
    model = ToyEnsemble(effect, epochs=5).fit(X, torch.full((len(X), 1), 3.0))
    assert model.outcome_transform.stdvs.item() == 1.0
    torch.testing.assert_close(model.posterior(X).mean, torch.full((len(X), 1), 3.0,
                               dtype=torch.float64), atol=0.5, rtol=0)

"""The reference implementation's member network: formula, symmetry, dropout, real-data fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import naiad_bo
from naiad_bo.models import CrossValidatedVarianceScale, ReferenceNaiadEnsemble
from naiad_bo.models.reference_naiad import ReferenceNaiadConfig, ReferenceNaiadNet
from naiad_bo.models.registry import get_model_class

S, M = 3, 30


def _net(dropout=0.1, p=4, H=8) -> ReferenceNaiadNet:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(M, generator=g, dtype=torch.float64) * 0.2
    return ReferenceNaiadNet(x, ensemble_size=S, embed_dim=p, single_dim=H, dropout=dropout,
                             generator=g)


def _pairs(n=50, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, M, (n,), generator=g), torch.randint(0, M, (n,), generator=g)


def test_forward_is_the_reference_formula_member_by_member():
    """One member at a time with F.linear, as nn.Sequential(Linear, Dropout, act, ...) in
    eval mode computes it (weights transposed to nn.Linear's (out, in) layout)."""
    net = _net().eval()
    a, b = _pairs()
    got = net(a, b)
    for k in range(S):
        ya, yb = net.x[a], net.x[b]
        design = torch.stack((torch.minimum(ya, yb), torch.maximum(ya, yb)), -1)
        h = F.gelu(F.linear(design, net.w1[k].T))
        h = F.gelu(F.linear(h, net.w2[k].T))
        single = F.linear(h, net.a[k][None], net.c[k][None]).squeeze(-1)

        def gene(e, k=k):
            h = F.relu(F.linear(e, net.f1_w[k].T, net.f1_b[k]))
            return F.linear(h, net.f2_w[k].T, net.f2_b[k])

        u = gene(net.emb[k, a]) + gene(net.emb[k, b])
        h = F.relu(F.linear(u, net.c1_w[k].T, net.c1_b[k]))
        inter = F.linear(h, net.c2_w[k][None], net.c2_b[k][None]).squeeze(-1)
        torch.testing.assert_close(got[k], single + inter)


def test_exactly_symmetric_and_dropout_only_while_training():
    net = _net()
    a, b = _pairs()
    net.eval()
    assert torch.equal(net(a, b), net(b, a))
    assert torch.equal(net(a, b), net(a, b))
    net.train()
    t1, t2 = net(a, b), net(a, b)
    assert not torch.equal(t1, t2)  # fresh masks every call
    again = _net().train()
    assert torch.equal(again(a, b), t1)  # masks come from the seeded generator
    off = _net(dropout=0.0)
    assert torch.equal(off.train()(a, b), off.eval()(a, b))


def test_every_parameter_is_batched_over_members_and_branches_can_be_disabled():
    net = _net()
    assert all(p.shape[0] == S for p in net.parameters())
    a, b = _pairs(5)
    for p, H in ((0, 8), (4, 0)):
        assert _net(p=p, H=H).eval()(a, b).shape == (S, 5)
    with pytest.raises(ValueError, match="branch"):
        _net(p=0, H=0)


def test_config_rejects_what_the_architecture_fixes():
    with pytest.raises(ValueError, match="dropout"):
        ReferenceNaiadConfig(dropout=1.0)
    with pytest.raises(ValueError, match="activation"):
        ReferenceNaiadConfig(activation="gelu")
    with pytest.raises(ValueError, match="anchor_no_effect"):
        ReferenceNaiadConfig(anchor_no_effect=True)
    assert get_model_class("naiad-reference") is ReferenceNaiadEnsemble


def test_fits_raw_scores_on_norman_beats_linear_and_round_trips(tmp_path):
    """Table-1 regime (2N/M = 4): better than the 3-parameter linear model on held-out
    pairs; raw units (no outcome transform); saved and loaded bit for bit."""
    screen = naiad_bo.load_screen("norman2019")
    pairs = torch.as_tensor(screen.pair_index())
    y = torch.as_tensor(screen.y_values())
    perm = torch.as_tensor(np.random.default_rng(0).permutation(len(pairs)))
    tr, te = perm[:224], perm[224:224 + 1000]
    model = ReferenceNaiadEnsemble(screen.single_effects, seed=0)
    model.fit(pairs[tr], y[tr].unsqueeze(-1))
    assert getattr(model, "outcome_transform", None) is None and model.embed_dim_ == 4
    pred = model.posterior(pairs[te].double()).mean.squeeze(-1)
    rmse = float((pred - y[te]).pow(2).mean().sqrt())
    se = torch.as_tensor(screen.single_effects)

    def design(idx):
        ya, yb = se[pairs[idx, 0]], se[pairs[idx, 1]]
        return torch.stack([torch.ones_like(ya), torch.minimum(ya, yb),
                            torch.maximum(ya, yb)], 1)

    beta = torch.linalg.lstsq(design(tr), y[tr].unsqueeze(-1)).solution
    linear = float((design(te) @ beta - y[te].unsqueeze(-1)).pow(2).mean().sqrt())
    assert rmse < 0.95 * linear
    model.save(tmp_path / "ref.pt")
    loaded = ReferenceNaiadEnsemble.load(tmp_path / "ref.pt")
    assert torch.equal(loaded.posterior(pairs[te]).mean, model.posterior(pairs[te]).mean)


def _norman_split(n_train: int, n_test: int = 1000, seed: int = 0):
    screen = naiad_bo.load_screen("norman2019")
    pairs = torch.as_tensor(screen.pair_index())
    y = torch.as_tensor(screen.y_values())
    perm = torch.as_tensor(np.random.default_rng(seed).permutation(len(pairs)))
    tr, te = perm[:n_train], perm[n_train:n_train + n_test]
    return screen, pairs[tr], y[tr].unsqueeze(-1), pairs[te], y[te]


def test_default_variance_calibration_is_informative_and_leaves_the_mean():
    """The default surrogate's 2-fold variance scale: on held-out Norman pairs (2N/M = 4)
    its predictive NLL beats the best constant std, which the uncalibrated spread does not;
    the posterior mean is the uncalibrated model's."""
    from naiad_bo.calibration import gaussian_nll, interval_coverage, nll_homoscedastic
    from naiad_bo.models.reference_naiad import DEFAULT_VARIANCE_CALIBRATION

    assert ReferenceNaiadConfig().variance_calibration == DEFAULT_VARIANCE_CALIBRATION
    assert DEFAULT_VARIANCE_CALIBRATION.folds == 2
    screen, X, Y, Xt, yt = _norman_split(224)
    cal = ReferenceNaiadEnsemble(screen.single_effects, seed=0).fit(X, Y)
    plain = ReferenceNaiadEnsemble(screen.single_effects, seed=0,
                                   variance_calibration=None).fit(X, Y)
    assert cal.variance_calibrated_ and not plain.variance_calibrated_
    assert cal.variance_scale_ != 1.0
    pc = cal.posterior(Xt.double(), observation_noise=True)
    pp = plain.posterior(Xt.double(), observation_noise=True)
    torch.testing.assert_close(pc.mean, pp.mean, rtol=1e-12, atol=1e-12)
    mean = pc.mean.squeeze(-1).numpy()
    homo = nll_homoscedastic(yt.numpy(), mean)
    nll_cal = gaussian_nll(yt.numpy(), mean, pc.variance.sqrt().squeeze(-1).numpy())
    nll_plain = gaussian_nll(yt.numpy(), mean, pp.variance.sqrt().squeeze(-1).numpy())
    assert nll_cal < homo < nll_plain
    assert 0.85 <= interval_coverage(yt.numpy(), mean, pc.variance.sqrt().squeeze(-1).numpy(),
                                     0.9) <= 0.95


def test_default_variance_calibration_is_skipped_on_small_data_and_survives_save(tmp_path):
    screen, X, Y, _, _ = _norman_split(30)
    small = ReferenceNaiadEnsemble(screen.single_effects, seed=0, epochs=5).fit(X[:19], Y[:19])
    assert not small.variance_calibrated_ and small.variance_scale_ == 1.0
    model = ReferenceNaiadEnsemble(screen.single_effects, seed=0, epochs=5).fit(X, Y)
    assert model.variance_calibrated_
    model.save(tmp_path / "m.pt")
    loaded = ReferenceNaiadEnsemble.load(tmp_path / "m.pt")
    assert loaded.variance_calibrated_ and loaded.variance_scale_ == model.variance_scale_
    assert loaded.config.variance_calibration == model.config.variance_calibration


def test_variance_calibration_spellings():
    from naiad_bo.models.reference_naiad import DEFAULT_VARIANCE_CALIBRATION

    for off in ("none", "off", None):
        assert ReferenceNaiadConfig.from_options(variance_calibration=off).variance_calibration \
            is None
    assert ReferenceNaiadConfig.from_options(variance_calibration="auto").variance_calibration \
        == DEFAULT_VARIANCE_CALIBRATION
    assert ReferenceNaiadConfig.from_options(variance_calibration="cv3").variance_calibration \
        .folds == 3
    from naiad_bo.models import NaiadConfig

    assert NaiadConfig.from_options(variance_calibration="auto").variance_calibration is None
    with pytest.raises(ValueError, match="skip_below"):
        CrossValidatedVarianceScale(2, skip_below=-1)

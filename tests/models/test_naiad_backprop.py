"""Hand-written NAIAD gradients are autograd's, bit for bit, and the fit uses them."""

from __future__ import annotations

import pytest
import torch

from naiad_bo.models import EnsembleConfig
from naiad_bo.models.naiad_backprop import loss_and_grads, supports
from naiad_bo.models.naiad_net import NaiadNet
from naiad_bo.models.training import train_members


def _net(act="relu", skip=None, M=40, p=4, H=16, dtype=torch.float32, seed=0, **kw):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(M, generator=g, dtype=torch.float64)
    net = NaiadNet(x, ensemble_size=3, embed_dim=p, single_dim=H, activation=act,
                   skip_init=skip, generator=g, **kw).to(dtype)
    a, b = torch.randint(0, M, (60,), generator=g), torch.randint(0, M, (60,), generator=g)
    z = torch.randn(60, generator=g, dtype=torch.float64).to(dtype)
    return net, a, b, z


def _autograd(net, a, b, z, w):
    named = list(net.named_parameters())
    pred = net(a, b)
    sq = (pred - z).pow(2)
    loss = (sq if w is None else sq * w).mean(dim=-1)
    grads = torch.autograd.grad(loss.sum(), [p for _, p in named])
    return loss.detach(), {k: g for (k, _), g in zip(named, grads, strict=True)}


@pytest.mark.parametrize("act", ["relu", "gelu"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("p", "H"), [(4, 16), (0, 16), (4, 0)])
def test_gradients_equal_autograd_bit_for_bit(act, weighted, p, H):
    net, a, b, z = _net(act, p=p, H=H)
    w = torch.rand(3, 60, generator=torch.Generator().manual_seed(1)) if weighted else None
    ref_loss, ref = _autograd(net, a, b, z, w)
    loss, grads = loss_and_grads(net, a, b, z, w)
    assert torch.equal(loss, ref_loss)
    assert set(grads) == set(ref)
    for k in ref:
        assert torch.equal(grads[k], ref[k]), k


@pytest.mark.parametrize("act", ["relu", "gelu"])
def test_anchored_network_gradients_equal_autograd_bit_for_bit(act):
    # no-effect anchoring: zero b1 buffer (no gradient) and a constant output offset
    net, a, b, z = _net(act, single_bias=False, output_offset=-0.8)
    assert "b1" not in dict(net.named_parameters()) and float(net.z0) == pytest.approx(-0.8)
    ref_loss, ref = _autograd(net, a, b, z, None)
    loss, grads = loss_and_grads(net, a, b, z, None)
    assert torch.equal(loss, ref_loss)
    for k in ref:
        assert torch.equal(grads[k], ref[k]), k


def test_uncovered_networks_fall_back_to_autograd():
    net, a, b, z = _net(skip=(0.1, 0.5))
    assert not supports(net, 60) and loss_and_grads(net, a, b, z) is None
    net, a, b, z = _net(M=200)  # few pairs: the network gathers only the genes involved
    assert not supports(net, 60)
    net.member_loops = False  # batched device path
    assert not supports(net, 200)


def test_training_with_and_without_autograd_is_identical():
    cfg = EnsembleConfig(ensemble_size=3, batch_size=25, bootstrap=False)
    fits = []
    for use_manual in (True, False):
        net, a, b, z = _net()
        if not use_manual:
            net.loss_and_grads = lambda *args, **kw: None
        hist = train_members(net, a, b, z, config=cfg, epochs=6,
                             generator=torch.Generator().manual_seed(3))
        fits.append((hist, [p.detach().clone() for p in net.parameters()]))
    assert torch.equal(fits[0][0], fits[1][0])
    assert all(torch.equal(x, y) for x, y in zip(fits[0][1], fits[1][1], strict=True))

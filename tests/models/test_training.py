"""The batched training loop: schedule, per-member independence, device-following allocations."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from naiad_bo.models import EnsembleConfig
from naiad_bo.models.training import (
    BatchedAdam,
    _clip_per_member,
    linear_warmup_decay,
    train_members,
)


class _Table(nn.Module):
    def __init__(self, s, m, g):
        super().__init__()
        self.t = nn.Parameter(torch.randn(s, m, generator=g) * 0.1)

    def forward(self, a, b):
        return self.t[:, a] + self.t[:, b]


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


def _problem(device="cpu"):
    g = torch.Generator().manual_seed(0)
    a, b = torch.randint(0, 10, (64,), generator=g), torch.randint(0, 10, (64,), generator=g)
    truth = torch.randn(10, generator=g)
    z = truth[a] + truth[b]
    return _Table(3, 10, g).to(device), a.to(device), b.to(device), z.to(device)


def test_members_are_independent_and_learn():
    net, a, b, z = _problem()
    cfg = EnsembleConfig(ensemble_size=3, lr=0.05, batch_size=16)
    hist = train_members(net, a, b, z, config=cfg, epochs=80, generator=torch.Generator())
    assert hist.shape == (80, 3) and (hist[-1] < 0.05 * hist[0]).all()
    # a member trained alone (same data order) ends exactly where it ended in the ensemble
    net2, *_ = _problem()
    with torch.no_grad():
        net2.t[1:] = 0.0
    hist2 = train_members(net2, a, b, z, config=cfg, epochs=80, generator=torch.Generator())
    torch.testing.assert_close(net2.t[0], net.t[0])
    torch.testing.assert_close(hist2[:, 0], hist[:, 0])


def test_grad_clip_is_per_member():
    grad = torch.tensor([[3.0, 4.0, 0.0], [0.3, 0.4, 0.0]])  # norms 5 and 0.5
    _clip_per_member([grad, None], 2, max_norm=1.0)
    torch.testing.assert_close(grad[0].norm(), torch.tensor(1.0), atol=1e-5, rtol=0)
    torch.testing.assert_close(grad[1], torch.tensor([0.3, 0.4, 0.0]))


def test_every_allocation_follows_the_data_device():
    """On torch's shape-only ``meta`` device: a CPU allocation would raise a device error."""
    net, a, b, z = _problem("meta")
    cfg = EnsembleConfig(ensemble_size=3, batch_size=16, grad_clip=1.0)
    hist = train_members(net, a, b, z, config=cfg, epochs=2, generator=torch.Generator())
    assert hist.device.type == "meta" and hist.shape == (2, 3)
    assert net.t.device.type == "meta"


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_batched_adam_is_fused_torch_adam_bit_for_bit(weight_decay):
    g = torch.Generator().manual_seed(1)
    ours = [torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(5, generator=g)]
    ref = [nn.Parameter(p.clone()) for p in ours]
    opt = torch.optim.Adam(ref, lr=0.1, weight_decay=weight_decay, fused=True)
    adam = BatchedAdam(ours, weight_decay=weight_decay)
    for step in range(25):
        lr = 0.1 / (step + 1)
        grads = [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in ours]
        grads[1] = None if step % 7 == 3 else grads[1]  # a missing gradient skips its param
        for p, gr in zip(ref, grads, strict=True):
            p.grad = None if gr is None else gr.clone()
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        adam.step(grads, lr)
        for p, q in zip(ours, ref, strict=True):
            assert torch.equal(p, q.detach())


def test_a_full_fit_does_not_import_dynamo():
    """``torch.optim`` optimisers import ``torch._dynamo`` (~1 s) on their first step."""
    code = (
        "import sys, torch\n"
        "from naiad_bo import load_screen\n"
        "from naiad_bo.models import NaiadEnsemble\n"
        "s = load_screen('norman2019')\n"
        "X = torch.tensor(s.pairs[['gene_a', 'gene_b']].to_numpy()[:300], dtype=torch.float64)\n"
        "Y = torch.tensor(s.pairs['y'].to_numpy()[:300]).unsqueeze(-1)\n"
        "m = NaiadEnsemble(s.single_effects, seed=0, epochs=3, batch_size=128).fit(X, Y)\n"
        "m.posterior(X[:5])\n"
        "assert 'torch._dynamo' not in sys.modules, 'torch._dynamo was imported'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]

"""NaiadNet: exact symmetry, hand-written gradients vs autograd, per-gene caching paths."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from naiad_bo.models.naiad_net import (
    NaiadNet,
    _GeneSumBranch,
    _SingleEffectBranch,
    gene_sum_branch,
    single_effect_branch,
    uses_member_loops,
)

S, M = 3, 40


def _net(**kw) -> NaiadNet:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(M, generator=g, dtype=torch.float64)
    args = dict(ensemble_size=S, embed_dim=6, single_dim=16, generator=g)
    args.update(kw)
    return NaiadNet(x, **args)


def _pairs(n: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, M, (n,), generator=g), torch.randint(0, M, (n,), generator=g)


def _act(name):
    return torch.relu if name == "relu" else F.gelu


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("n", [5, 200])  # 2n < M: only involved genes; 2n >= M: full table
def test_exactly_symmetric(activation, n):
    net = _net(activation=activation)
    a, b = _pairs(n)
    with torch.no_grad():
        assert torch.equal(net(a, b), net(b, a))
    assert torch.equal(net(a, b), net(b, a))  # autograd path too


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_single_effect_branch_gradients_match_autograd(activation):
    g = torch.Generator().manual_seed(3)
    n, H = 50, 8
    lo, hi = torch.randn(n, generator=g, dtype=torch.float64).sort(0).values, None
    hi = lo + torch.rand(n, generator=g, dtype=torch.float64)
    params = [torch.randn(S, 2, H, generator=g, dtype=torch.float64, requires_grad=True),
              torch.randn(S, H, generator=g, dtype=torch.float64, requires_grad=True),
              torch.randn(S, H, generator=g, dtype=torch.float64, requires_grad=True)]
    gout = torch.randn(S, n, generator=g, dtype=torch.float64)

    out = _SingleEffectBranch.apply(lo, hi, *params, activation)
    grads = torch.autograd.grad(out, params, gout)

    w, b, a = params
    pre = lo[None, :, None] * w[:, None, 0] + hi[None, :, None] * w[:, None, 1] + b[:, None]
    ref = (_act(activation)(pre) * a[:, None]).sum(-1)
    ref_grads = torch.autograd.grad(ref, params, gout)
    torch.testing.assert_close(out, ref)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want)
    no_grad, _ = single_effect_branch(lo, hi, *(p.detach() for p in params), activation)
    torch.testing.assert_close(no_grad, ref.detach())


@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_gene_sum_branch_gradients_match_autograd(activation):
    g = torch.Generator().manual_seed(4)
    n, p = 60, 5
    a, b = _pairs(n, seed=5)
    params = [torch.randn(S, M, p, generator=g, dtype=torch.float64, requires_grad=True),
              torch.randn(S, p, generator=g, dtype=torch.float64, requires_grad=True),
              torch.randn(S, p, generator=g, dtype=torch.float64, requires_grad=True)]
    table, c, r = params
    gout = torch.randn(S, n, generator=g, dtype=torch.float64)

    out = _GeneSumBranch.apply(table, a, b, c, r, activation)
    grads = torch.autograd.grad(out, params, gout)
    ref = (_act(activation)(table[:, a] + table[:, b] + c[:, None]) * r[:, None]).sum(-1)
    ref_grads = torch.autograd.grad(ref, params, gout)
    torch.testing.assert_close(out, ref)
    for got, want in zip(grads, ref_grads, strict=True):
        torch.testing.assert_close(got, want)
    no_grad, _ = gene_sum_branch(table.detach(), a, b, c.detach(), r.detach(), activation)
    torch.testing.assert_close(no_grad, ref.detach())


def test_whole_net_matches_plain_formula():
    """forward == skip + phi([min,max] W1 + b1) A1 + phi(K_a + K_b + b3) A2 (naive autograd)."""
    net = _net(skip_init=(0.3, -0.7), activation="gelu")
    a, b = _pairs(30)
    ya, yb = net.x[a], net.x[b]
    lo, hi = torch.minimum(ya, yb), torch.maximum(ya, yb)
    pre1 = lo[None, :, None] * net.w1[:, None, 0] + hi[None, :, None] * net.w1[:, None, 1]
    single = (F.gelu(pre1 + net.b1[:, None]) * net.a1[:, None]).sum(-1)
    K = torch.bmm(F.gelu(torch.bmm(net.emb, net.w2) + net.c2), net.w3)
    inter = (F.gelu(K[:, a] + K[:, b] + net.b3[:, None]) * net.a2[:, None]).sum(-1)
    want = net.c0 + net.c1 * (ya + yb) + single + inter
    torch.testing.assert_close(net(a, b), want)


@pytest.mark.parametrize("n", [5, 200])
def test_anchored_single_branch_is_zero_at_the_origin_and_homogeneous(n):
    """single_bias=False: phi([lo, hi] W1) A1 + z0, so f(0, 0) = z0 and, for ReLU,
    f(t x) - z0 = t (f(x) - z0) for t > 0 (rays from the no-effect point)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(M, generator=g, dtype=torch.float64)
    x[:3] = 0.0
    a, b = _pairs(n)
    outs = []
    for scale in (1.0, 2.5):
        net = NaiadNet(x * scale, ensemble_size=S, embed_dim=0, single_dim=16,
                       single_bias=False, output_offset=0.3,
                       generator=torch.Generator().manual_seed(1))
        with torch.no_grad():  # no-grad scoring uses the row-run kernels on long runs
            outs.append((net(a, b), net(torch.tensor([0, 1]), torch.tensor([2, 0]))))
    assert torch.equal(outs[0][1], torch.full((S, 2), 0.3, dtype=torch.float64))
    torch.testing.assert_close(outs[1][0] - 0.3, 2.5 * (outs[0][0] - 0.3))
    net.run_kernels = False
    with torch.no_grad():
        torch.testing.assert_close(net(a, b), outs[1][0])  # run and per-pair kernels agree


def test_state_dicts_saved_before_the_offset_existed_still_load():
    net = _net()
    state = {k: v for k, v in net.state_dict().items() if k != "z0"}
    fresh = _net(output_offset=0.7)
    fresh.load_state_dict(state)
    assert float(fresh.z0) == 0.0
    a, b = _pairs(30)
    assert torch.equal(fresh(a, b), net(a, b))


def test_table_paths_and_gene_cache_agree():
    net = _net()
    a, b = _pairs(8)  # 2n < M: per-pair gene subset
    with torch.no_grad():
        subset = net(a, b)
        with net.gene_cache():
            assert net._table is not None
            cached = net(a, b)
        assert net._table is None
    torch.testing.assert_close(subset, cached)
    a2, b2 = torch.cat([a, _pairs(40)[0]]), torch.cat([b, _pairs(40)[1]])
    with torch.no_grad():
        full = net(a2, b2)[:, :8]  # 2n >= M: full table
    torch.testing.assert_close(subset, full)


def test_parameters_batched_over_members_and_seeded():
    net = _net(skip_init=(0.0, 1.0))
    for name, p in net.named_parameters():
        assert p.shape[0] == S, name
    again = _net(skip_init=(0.0, 1.0))
    for (n1, p1), (_, p2) in zip(net.named_parameters(), again.named_parameters(), strict=True):
        assert torch.equal(p1, p2), n1
    # members are different random initialisations
    assert not torch.equal(net.w1[0], net.w1[1])


def test_branches_can_be_disabled():
    a, b = _pairs(10)
    only_single = _net(embed_dim=0)
    assert not hasattr(only_single, "emb") and only_single(a, b).shape == (S, 10)
    only_emb = _net(single_dim=0)
    assert not hasattr(only_emb, "w1") and only_emb(a, b).shape == (S, 10)


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        _net(activation="tanh")
    with pytest.raises(ValueError, match="branch"):
        _net(embed_dim=0, single_dim=0)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("n", [8, 200])
def test_batched_device_path_equals_cpu_kernels_values_and_gradients(activation, n):
    """The path used on GPUs (one batched expression per branch) == the per-member kernels."""
    loops, batched = _net(activation=activation, skip_init=(0.1, 0.5)), None
    batched = _net(activation=activation, skip_init=(0.1, 0.5))
    loops.member_loops, batched.member_loops = True, False
    a, b = _pairs(n)
    g = torch.randn(S, n, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    out_l, out_b = loops(a, b), batched(a, b)
    torch.testing.assert_close(out_b, out_l)
    grads_l = torch.autograd.grad(out_l, list(loops.parameters()), g)
    grads_b = torch.autograd.grad(out_b, list(batched.parameters()), g)
    for gl, gb in zip(grads_l, grads_b, strict=True):
        torch.testing.assert_close(gb, gl)
    with torch.no_grad():
        torch.testing.assert_close(batched(a, b), loops(a, b))
        assert torch.equal(batched(a, b), batched(b, a))


def test_kernel_path_is_chosen_by_device():
    assert uses_member_loops(torch.device("cpu"))
    assert not uses_member_loops(torch.device("cuda"))
    assert not uses_member_loops(torch.device("meta"))
    net = _net().to("meta")  # batched path: runs on a device without the CPU kernels
    a = torch.zeros(50, dtype=torch.long, device="meta")
    out = net(a, a)
    assert out.device.type == "meta" and out.shape == (S, 50)
    out.sum().backward()
    assert net.emb.grad.device.type == "meta"

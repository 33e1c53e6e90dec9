r"""Loss and gradients of :class:`~naiad_bo.models.naiad_net.NaiadNet` without autograd,
bit for bit the ones autograd computes (the training loop's path on CPU).

For member ``k`` on a mini-batch of ``n`` pairs with targets ``z`` and optional weights ``w``

.. math:: L_k = \frac{1}{n}\sum_i w_{ki} (f_k(a_i, b_i) - z_i)^2, \qquad
    G_{ki} = \frac{\partial \sum_k L_k}{\partial f_{ki}} = \Big(\frac{1}{n} w_{ki}\Big)\,
    2 (f_{ki} - z_i).

``G`` goes into the hand-written backward passes of the two per-pair branches (the same
functions autograd calls) and through the per-gene table ``K = \phi(X W_2 + c_2) W_3`` with
the formulas of autograd's ``bmm`` / ``relu`` / ``baddbmm`` nodes, in the same order and with
the same kernels, so the gradients (and every fit) are identical to
``torch.autograd.grad`` through :meth:`NaiadNet.forward` (a test checks bit equality). What
it saves is the autograd graph: recording, the engine's scheduling, ``Function.apply``.

Covered: the per-member CPU kernels, a full gene table (``2 n >= M``), no linear skip (the
defaults); :func:`loss_and_grads` returns ``None`` otherwise and the caller uses autograd.
"""

from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import Tensor
from torch.nn import functional as F

from naiad_bo.models.naiad_net import (
    NaiadNet,
    _GeneSumBranch,
    _SingleEffectBranch,
    gene_sum_branch,
    single_effect_branch,
    uses_member_loops,
)

__all__ = ["loss_and_grads", "supports"]


def supports(net: NaiadNet, n: int) -> bool:
    """Whether :func:`loss_and_grads` covers ``net`` on mini-batches of ``n`` pairs."""
    loops = uses_member_loops(net.x.device) if net.member_loops is None else net.member_loops
    return bool(
        type(net) is NaiadNet and loops and not net.has_skip
        and (net.embed_dim == 0 or 2 * n >= net.n_genes) and (net.single_dim or net.embed_dim)
    )


@torch.no_grad()
def loss_and_grads(
    net: NaiadNet, a: Tensor, b: Tensor, z: Tensor, weights: Tensor | None = None
) -> tuple[Tensor, dict[str, Tensor]] | None:
    r"""Per-member loss ``(s,)`` and the gradient of ``sum_k L_k`` for each parameter.

    Args:
        net: The member networks.
        a, b: ``(n,)`` long gene ids; z: ``(n,)`` targets (network dtype).
        weights: Optional ``(s, n)`` weights of each member's squared errors.

    Returns:
        ``(loss, grads)`` with ``grads[name]`` shaped like parameter ``name``; ``None`` where
        :func:`supports` is false.
    """
    n = a.numel()
    if not supports(net, n):
        return None
    act = net.activation
    ya, yb = net.x[a], net.x[b]
    pred = net.z0.expand(net.ensemble_size, n).clone()
    if net.single_dim:
        lo, hi = torch.minimum(ya, yb), torch.maximum(ya, yb)
        out1, saved1 = single_effect_branch(lo, hi, net.w1, net.b1, net.a1, act, keep=True)
        pred = pred + out1
    if net.embed_dim:
        h = torch.baddbmm(net.c2, net.emb, net.w2)
        r = torch.relu(h) if act == "relu" else F.gelu(h)
        table = torch.bmm(r, net.w3)
        out2, saved2 = gene_sum_branch(table, a, b, net.b3, net.a2, act, keep=True)
        pred = pred + out2
    diff = pred - z
    sq = diff.pow(2)
    per_member = (sq if weights is None else sq * weights).mean(dim=-1)
    # autograd: sum -> mean (expand / n) -> [mul by weights] -> pow (grad * 2 diff) -> sub
    grad = torch.ones_like(pred).div_(n) if weights is None else (
        torch.ones_like(pred).div_(n) * weights
    )
    gout = grad * (2 * diff.pow(1))
    grads: dict[str, Tensor] = {}
    if net.embed_dim:
        ctx = SimpleNamespace(saved_tensors=(a, b, net.a2, saved2), activation=act,
                              n_genes=net.n_genes)
        gt, _, _, grads["b3"], grads["a2"], _ = _GeneSumBranch.backward(ctx, gout)
        grads["w3"] = r.transpose(1, 2).bmm(gt)
        gr = gt.bmm(net.w3.transpose(1, 2))
        gh = (torch.ops.aten.threshold_backward(gr, r, 0) if act == "relu"
              else torch.ops.aten.gelu_backward(gr, h))
        grads["c2"] = gh.sum([1], keepdim=True)
        grads["emb"] = gh.bmm(net.w2.transpose(1, 2))
        grads["w2"] = net.emb.transpose(1, 2).bmm(gh)
    if net.single_dim:
        ctx = SimpleNamespace(saved_tensors=(lo, hi, net.w1, net.a1, saved1), activation=act)
        _, _, grads["w1"], grads["b1"], grads["a1"], _ = _SingleEffectBranch.backward(ctx, gout)
    return per_member, grads

r"""Loss and gradients of :class:`~naiad_bo.models.reference_naiad.ReferenceNaiadNet` while
training (dropout on), without autograd and bit for bit the ones autograd computes.

The forward pass is :meth:`ReferenceNaiadNet.forward`'s in training mode, op for op and with
the same dropout draws in the same order (single branch ``m_1, m_2``, then the per-gene masks
of ``a`` and ``b``, then the read-out mask); only the intermediates are kept for the backward
pass, and in-place ops replace fresh tensors where the value is the same. The backward pass
applies autograd's formulas for each node (``bmm``, ``baddbmm``, ``gelu``, ``relu``,
``x * m / keep``, the gather ``emb[:, a]``) in the same order, starting from

.. math:: G_{ki} = \frac{\partial \sum_k L_k}{\partial f_{ki}}, \qquad
    L_k = \frac{1}{n}\sum_i w_{ki}\,(f_k(a_i, b_i) - z_i)^2 .

A test checks bit equality with ``torch.autograd.grad`` through the forward pass (same
generator state). What it saves is the graph and a few full-size temporaries: on a K562-size
step (5 members, 1,024 pairs, ``H = 256``, one thread) the step time falls from ~100 to
~60 ms (``benchmarks/README.md``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from naiad_bo.models.naiad_backprop import squared_error_grad

__all__ = ["loss_and_grads"]


def _dropout(h: Tensor, net) -> tuple[Tensor, Tensor | None]:
    """``h * m / keep`` in place (the forward's ``_drop``), and the mask ``m`` (or None)."""
    if net.dropout == 0.0:
        return h, None
    keep = 1.0 - net.dropout
    u = torch.rand(h.shape, generator=net.mask_generator, dtype=h.dtype)
    m = (u.to(h.device) < keep).to(h.dtype)
    return h.mul_(m).div_(keep), m


def _dropout_grad(g: Tensor, m: Tensor | None, keep: float) -> Tensor:
    """Autograd's backward of ``h * m / keep``: ``(g / keep) * m`` (in place on ``g``)."""
    return g if m is None else g.div_(keep).mul_(m)


def _batch_bias_grad(g: Tensor) -> Tensor:
    """Gradient of a ``(s, 1, d)`` bias broadcast over the pairs of ``g (s, n, d)``."""
    return g.sum([1], keepdim=True).squeeze(1)


@torch.no_grad()
def loss_and_grads(
    net, a: Tensor, b: Tensor, z: Tensor, weights: Tensor | None = None
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""Per-member loss ``(s,)`` and the gradient of ``sum_k L_k`` for each parameter.

    Draws the dropout masks from ``net.mask_generator`` (it must be in training mode).

    Args:
        net: The member networks (:class:`ReferenceNaiadNet`).
        a, b: ``(n,)`` long gene ids; z: ``(n,)`` targets (network dtype).
        weights: Optional ``(s, n)`` weights of each member's squared errors.

    Returns:
        ``(loss, grads)`` with ``grads[name]`` shaped like parameter ``name``.
    """
    s, n = net.ensemble_size, a.numel()
    keep = 1.0 - net.dropout
    pred = torch.zeros(s, n, dtype=net.x.dtype, device=net.x.device)
    if net.single_dim:
        ya, yb = net.x[a], net.x[b]
        design = torch.stack((torch.minimum(ya, yb), torch.maximum(ya, yb)), dim=-1)
        q1, m1 = _dropout(torch.matmul(design, net.w1), net)  # (s, n, H)
        h1 = torch.nn.functional.gelu(q1)
        q2, m2 = _dropout(torch.bmm(h1, net.w2), net)
        h2 = torch.nn.functional.gelu(q2)
        a3 = net.a.unsqueeze(-1)
        pred = pred + torch.bmm(h2, a3).squeeze(-1) + net.c.unsqueeze(-1)
    if net.embed_dim:
        per_gene = []
        for genes in (a, b):
            e = net.emb[:, genes]
            r, m = _dropout(torch.baddbmm(net.f1_b.unsqueeze(1), e, net.f1_w), net)
            rr = torch.relu(r)
            per_gene.append((genes, e, rr, m))
        ga = torch.baddbmm(net.f2_b.unsqueeze(1), per_gene[0][2], net.f2_w)
        gb = torch.baddbmm(net.f2_b.unsqueeze(1), per_gene[1][2], net.f2_w)
        u = ga + gb
        v, mv = _dropout(torch.baddbmm(net.c1_b.unsqueeze(1), u, net.c1_w), net)
        vr = torch.relu(v)
        c3 = net.c2_w.unsqueeze(-1)
        pred = pred + torch.bmm(vr, c3).squeeze(-1) + net.c2_b.unsqueeze(-1)
    per_member, gout = squared_error_grad(pred, z, weights)
    g3 = gout.unsqueeze(-1)  # (s, n, 1)
    grads: dict[str, Tensor] = {}
    if net.embed_dim:
        grads["c2_b"] = gout.sum([1], keepdim=True).squeeze(-1)
        grads["c2_w"] = vr.transpose(1, 2).bmm(g3).squeeze(-1)
        gv = torch.ops.aten.threshold_backward(g3.bmm(c3.transpose(1, 2)), vr, 0)
        gv = _dropout_grad(gv, mv, keep)
        grads["c1_b"] = _batch_bias_grad(gv)
        grads["c1_w"] = u.transpose(1, 2).bmm(gv)
        gu = gv.bmm(net.c1_w.transpose(1, 2))
        f2_w = f2_b = f1_w = f1_b = emb = None
        for genes, e, rr, m in reversed(per_gene):  # autograd reaches b's terms first
            gf2_w, gf2_b = rr.transpose(1, 2).bmm(gu), _batch_bias_grad(gu)
            gr = torch.ops.aten.threshold_backward(gu.bmm(net.f2_w.transpose(1, 2)), rr, 0)
            gr = _dropout_grad(gr, m, keep)
            gf1_w, gf1_b = e.transpose(1, 2).bmm(gr), _batch_bias_grad(gr)
            gemb = torch.ops.aten._index_put_impl_(
                torch.zeros_like(net.emb), [None, genes], gr.bmm(net.f1_w.transpose(1, 2)),
                True, True,
            )
            if f2_w is None:
                f2_w, f2_b, f1_w, f1_b, emb = gf2_w, gf2_b, gf1_w, gf1_b, gemb
            else:
                f2_w, f2_b = f2_w + gf2_w, f2_b + gf2_b
                f1_w, f1_b, emb = f1_w + gf1_w, f1_b + gf1_b, emb + gemb
        grads.update(f2_w=f2_w, f2_b=f2_b, f1_w=f1_w, f1_b=f1_b, emb=emb)
    if net.single_dim:
        grads["c"] = gout.sum([1], keepdim=True).squeeze(-1)
        grads["a"] = h2.transpose(1, 2).bmm(g3).squeeze(-1)
        gq2 = torch.ops.aten.gelu_backward(g3.bmm(a3.transpose(1, 2)), q2)
        gp2 = _dropout_grad(gq2, m2, keep)
        grads["w2"] = h1.transpose(1, 2).bmm(gp2)
        gq1 = torch.ops.aten.gelu_backward(gp2.bmm(net.w2.transpose(1, 2)), q1)
        gp1 = _dropout_grad(gq1, m1, keep)
        grads["w1"] = design.expand(s, n, 2).transpose(1, 2).bmm(gp1)
    return per_member, grads

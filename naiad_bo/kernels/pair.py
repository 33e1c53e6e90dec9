r"""The symmetric pair kernel over unordered gene pairs, computed from a gene Gram matrix.

For pairs ``x = (a, b)``, ``x' = (c, d)`` and a gene kernel ``G``:

.. math::

    k(x, x') = \sigma_{\times}^2 \big[G_{ac} G_{bd} + G_{ad} G_{bc}\big]
             + \sigma_{+}^2 \big[G_{ac} + G_{bd} + G_{ad} + G_{bc}\big].

The first (interaction) term is the symmetrised tensor-product kernel; the second is the
kernel of an additive model ``f(a) + f(b)`` with ``f ~ GP(0, G)``. Both are invariant to
swapping the genes of either pair. The ``M x M`` matrix ``G`` is computed once per call and
entries are gathered, never evaluated per pair. :func:`pair_kernel_matvec` multiplies the
``n x n`` training kernel by a vector in ``O(M^3 + n)`` using its Kronecker structure
(:math:`(G\,(V + V^\top)\,G)_{a_i b_i}` with ``V`` the vector scattered on the ``M x M`` grid).
"""

from __future__ import annotations

import torch
from gpytorch.constraints import Positive
from gpytorch.kernels import Kernel
from torch import Tensor

from naiad_bo.kernels.gene import GeneGram

__all__ = [
    "SymmetricPairKernel",
    "gram_gather",
    "pair_kernel_matvec",
    "pair_prior_variance_table",
    "pair_quadratic_table",
]


def _pairs(x: Tensor) -> tuple[Tensor, Tensor]:
    idx = x.round().long()
    return idx[..., 0], idx[..., 1]


class _GramGather(torch.autograd.Function):
    """``G[r, c]`` (broadcast index tensors) with a ``bincount`` backward.

    Autograd's backward of advanced indexing is a sorted ``index_put_`` that costs seconds for
    the ``n^2`` entries of a training kernel; ``bincount`` on flat indices is ~50x faster.
    """

    @staticmethod
    def forward(ctx, G: Tensor, r: Tensor, c: Tensor) -> Tensor:
        flat = (r * G.shape[-1] + c).reshape(-1)
        ctx.save_for_backward(flat)
        ctx.shape = G.shape
        out_shape = torch.broadcast_shapes(r.shape, c.shape)
        return G.reshape(-1)[flat].reshape(out_shape)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (flat,) = ctx.saved_tensors
        m = ctx.shape[0] * ctx.shape[1]
        g = torch.bincount(flat, weights=grad.reshape(-1).to(torch.float64), minlength=m)
        return g.reshape(ctx.shape).to(grad.dtype), None, None


def gram_gather(G: Tensor, r: Tensor, c: Tensor) -> Tensor:
    """``G[r, c]`` for broadcastable long index tensors, differentiable in ``G``."""
    r, c = torch.broadcast_tensors(r, c)
    if not G.requires_grad:
        return G[r, c]
    return _GramGather.apply(G, r.contiguous(), c.contiguous())


class SymmetricPairKernel(Kernel):
    """GPyTorch kernel on ``... x n x 2`` gene-index inputs (formula in the module docstring).

    Args:
        gene_gram: a :class:`~naiad_bo.kernels.GeneGram` (or any module returning ``M x M``).
        interaction: include the product (interaction) term.
        additive: include the additive term.
    """

    has_lengthscale = False

    def __init__(self, gene_gram: GeneGram, *, interaction: bool = True, additive: bool = True):
        super().__init__()
        if not (interaction or additive):
            raise ValueError("SymmetricPairKernel needs the interaction or the additive term")
        self.gene_gram = gene_gram
        self.interaction = bool(interaction)
        self.additive = bool(additive)
        self.register_parameter(
            "raw_scales", torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
        )
        self.register_constraint("raw_scales", Positive())

    @property
    def scales(self) -> Tensor:
        """``(sigma_x^2, sigma_+^2)``; a disabled term has scale 0."""
        s = self.raw_scales_constraint.transform(self.raw_scales)
        mask = torch.tensor([self.interaction, self.additive], dtype=s.dtype)
        return s * mask

    def gram_terms(self, G: Tensor, x1: Tensor, x2: Tensor, diag: bool = False) -> Tensor:
        """Kernel values from a precomputed gene Gram ``G``."""
        a, b = _pairs(x1)
        c, d = _pairs(x2)
        if not diag:
            a, b, c, d = a.unsqueeze(-1), b.unsqueeze(-1), c.unsqueeze(-2), d.unsqueeze(-2)
        gac, gbd = gram_gather(G, a, c), gram_gather(G, b, d)
        gad, gbc = gram_gather(G, a, d), gram_gather(G, b, c)
        s = self.scales.to(G)
        out = 0.0
        if self.interaction:
            out = s[0] * (gac * gbd + gad * gbc)
        if self.additive:
            out = out + s[1] * (gac + gbd + gad + gbc)
        return out

    def forward(self, x1: Tensor, x2: Tensor, diag: bool = False, **params) -> Tensor:
        """``k(x1, x2)``: ``... x n x m`` (or ``... x n`` with ``diag``)."""
        return self.gram_terms(self.gene_gram(), x1, x2, diag=diag)


def pair_kernel_matvec(
    G: Tensor, scales: Tensor, a: Tensor, b: Tensor, v: Tensor
) -> Tensor:
    """``K v`` for the training kernel of pairs ``(a_i, b_i)`` without forming ``K``.

    Args:
        G: ``M x M`` gene Gram.
        scales: ``(sigma_x^2, sigma_+^2)``.
        a, b: ``(n,)`` long gene ids.
        v: ``(n,)`` or ``n x r``.

    Returns:
        ``K v`` with the shape of ``v``; cost ``O(r (M^3 + n))``.
    """
    squeeze = v.dim() == 1
    V = v.unsqueeze(-1) if squeeze else v
    M, r = G.shape[0], V.shape[1]
    out = torch.zeros_like(V)
    if scales[0] != 0:
        grid = torch.zeros(r, M, M, dtype=V.dtype)
        grid.index_put_((torch.arange(r).repeat_interleave(a.numel()), a.repeat(r), b.repeat(r)),
                        V.T.reshape(-1), accumulate=True)
        S = grid + grid.transpose(-1, -2)
        GSG = G @ S @ G
        out = out + scales[0] * GSG[:, a, b].T
    if scales[1] != 0:
        cnt = torch.zeros(M, r, dtype=V.dtype)
        cnt.index_add_(0, a, V)
        cnt.index_add_(0, b, V)
        u = G @ cnt
        out = out + scales[1] * (u[a] + u[b])
    return out[:, 0] if squeeze else out


def pair_prior_variance_table(G: Tensor, scales: Tensor) -> Tensor:
    """``k(x, x)`` for every gene pair ``x = (c, d)`` as an ``M x M`` table.

    ``sigma_x^2 (G_cc G_dd + G_cd^2) + sigma_+^2 (G_cc + G_dd + 2 G_cd)``.
    """
    g = torch.diagonal(G)
    return scales[0] * (g[:, None] * g[None, :] + G * G) + scales[1] * (
        g[:, None] + g[None, :] + 2.0 * G
    )


def pair_quadratic_table(
    G: Tensor, scales: Tensor, a: Tensor, b: Tensor, W: Tensor
) -> Tensor:
    r"""``Q_{cd} = k_X(c, d)^\top W\, k_X(c, d)`` for every gene pair ``(c, d)``, no per-pair work.

    ``k_X(c, d)`` is the ``(n,)`` cross-covariance of the pair ``(c, d)`` with the training
    pairs ``(a_i, b_i)``; with ``W = K^{-1}`` the posterior variance is ``k(x, x) - Q``
    (:func:`pair_prior_variance_table`). Writing ``k = \sigma_\times^2 k^\times + \sigma_+^2
    k^+`` with ``k^+_i(c, d) = h_{ci} + h_{di}``, ``h = G_{:,a} + G_{:,b}`` (``M x n``):

    .. math::

        Q = \sigma_\times^4 Q^{\times\times} + 2 \sigma_\times^2 \sigma_+^2 (R + R^\top)
            + \sigma_+^4 (p 1^\top + 1 p^\top + 2P),

    with ``P = h W h^\top``, ``p = diag(P)``, ``R = G_{:,a} (G_{:,b} \circ hW)^\top +
    G_{:,b} (G_{:,a} \circ hW)^\top`` and, over the ``2n`` ordered training ends
    ``\nu = (f_\nu, s_\nu)`` (both orientations of each pair),

    .. math::

        Q^{\times\times}_{cd} = \sum_{p, r} G_{cp} G_{cr} U_{prd}, \qquad
        U_{prd} = \sum_{f_\nu = p} \sum_{f_{\nu'} = r} G_{d s_\nu} W_{\nu\nu'} G_{d s_{\nu'}},

    ``U`` symmetric in ``(p, r)``. ``U`` is built one ``p`` at a time (``M x n`` memory) and
    contracted with ``G`` over ``r >= p`` and for the upper block triangle of ``Q`` only:
    ``~0.6 M^4 + 4 M n^2 + O(M^2 n)`` flops for all
    ``M^2`` pairs, against ``n^2`` per pair for a triangular solve (``n^2 M^2 / 2`` for all
    unordered pairs; ~5x more at ``n = 2000``, ``M = 449``).

    Args:
        G: ``M x M`` gene Gram.
        scales: ``(sigma_x^2, sigma_+^2)``.
        a, b: ``(n,)`` long gene ids of the training pairs.
        W: ``n x n`` symmetric matrix (``K^{-1}``).

    Returns:
        ``M x M`` symmetric table ``Q``.
    """
    M = G.shape[0]
    Ga, Gb = G[:, a], G[:, b]  # M x n
    Q = torch.zeros(M, M, dtype=G.dtype)
    s1, s2 = float(scales[0]), float(scales[1])
    if s2 != 0:
        h = Ga + Gb
        hW = h @ W
        P = hW @ h.T
        p = torch.diagonal(P)
        Q += s2 * s2 * (p[:, None] + p[None, :] + 2.0 * P)
        if s1 != 0:
            R = Ga @ (Gb * hW).T + Gb @ (Ga * hW).T
            Q += 2.0 * s1 * s2 * (R + R.T)
    if s1 != 0:
        # the 2n ordered ends nu = (i, 0), (i, 1), sorted by f_nu so each p is one segment
        ends, partners = torch.cat([a, b]), torch.cat([b, a])
        rows = torch.cat([torch.arange(a.numel())] * 2)
        order = torch.argsort(ends, stable=True)
        ends, rows = ends[order], rows[order]
        S = G[partners[order]]  # 2n x M: S[nu, d] = G[s_nu, d]
        starts = [0, *torch.cumsum(torch.bincount(ends, minlength=M), 0).tolist()]
        Qxx = torch.zeros(M, M, dtype=G.dtype)
        edges = [round(M * k / 4) for k in range(5)]
        blocks = [(d0, d1) for d0, d1 in zip(edges[:-1], edges[1:]) if d1 > d0]
        for p_ in range(M):
            lo, hi = starts[p_], starts[p_ + 1]
            if hi == lo:
                continue
            # Z[nu', d] = G[d, s_nu'] sum_{f_nu = p} W[nu', nu] G[d, s_nu], only f_nu' >= p
            Z = W[rows[lo:hi]][:, rows[lo:]].T @ S[lo:hi]
            Z.mul_(S[lo:])
            U = torch.zeros(M - p_, M, dtype=G.dtype)  # U[r - p, d] = U_{p r d}, r >= p
            U.index_add_(0, ends[lo:] - p_, Z)
            U[1:] *= 2.0  # r > p stands for (p, r) and (r, p)
            GG = G[:, p_ : p_ + 1] * G[:, p_:]
            for d0, d1 in blocks:  # upper block triangle of the symmetric Qxx only
                Qxx[:d1, d0:d1].addmm_(GG[:d1], U[:, d0:d1])
        Qxx = torch.triu(Qxx) + torch.triu(Qxx, 1).T
        Q += s1 * s1 * Qxx
    return Q

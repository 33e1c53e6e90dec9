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

__all__ = ["SymmetricPairKernel", "gram_gather", "pair_kernel_matvec"]


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

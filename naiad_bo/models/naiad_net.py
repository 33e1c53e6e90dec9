r"""The NAIAD network (Qin et al., section 3.1), batched over ensemble members.

.. math::

    \hat y_{ab} = \underbrace{c_0 + c_1 (y_a + y_b)}_{\text{linear skip}}
        + \phi\big([\min(y_a, y_b), \max(y_a, y_b)] W_1 + b_1\big) A_1^\top
        + \phi\big(K_a + K_b + b_3\big) A_2^\top,
    \qquad K_g = \phi(X_g W_2 + c_2)\, W_3

with standardised single-gene effects ``y`` and learnable gene embeddings ``X`` (``M x p``).

* Single-gene branch: the paper's over-parameterised ``phi([y_a, y_b] W1) A1``. The
  reference implementation feeds ``[y_a, y_b]`` in a random order per row, so its
  predictions for ``(a, b)`` and ``(b, a)`` differ; feeding the sorted pair
  ``[min, max]`` keeps the branch a universal approximator of *symmetric* functions of
  ``(y_a, y_b)`` at the same cost, and makes the output exactly order-invariant.
* Embedding branch: ``f(phi(W2 x_a), phi(W2 x_b)) A2`` with ``f`` a sum, followed (as in the
  reference) by one non-linear layer before the scalar read-out; without it the branch
  would be additive in the genes and could not model interactions. Since the layer after
  the sum is linear it is folded into a per-gene table ``K_g`` (``W3`` merges the
  reference's two consecutive linear maps), so per-pair work is one gather-add,
  one activation and one dot product; ``K`` is computed once per gene.
* Optional linear skip ``c0 + c1 (y_a + y_b)`` (the symmetric 2-parameter linear model,
  initialised at its least-squares fit). Off by default: with or without it, accuracy
  was the same in ``benchmarks/naiad_stability.py``.

Every parameter carries the ensemble member dimension first (``(s, ...)``), so one
optimiser step updates all ``s`` members. Two kernel paths compute the same function:

* on the CPU, the per-pair kernels (:func:`single_effect_branch`, :func:`gene_sum_branch`,
  with hand-written backward passes) loop over members with BLAS-2 products (rank-1
  updates, matrix-vector products): 5-10x faster than ``bmm`` with these degenerate shapes
  (inner dimension 2, output width 1);
* on any other device (CUDA, MPS, ...), where a Python loop over members launches ``s``
  small kernels each, one batched expression per branch (``baddbmm`` / gather, ``bmm``) with
  ordinary autograd (:func:`batched_single_effect_branch`, :func:`batched_gene_sum_branch`).

:func:`uses_member_loops` picks the path from the device type.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from naiad_bo.models.run_kernels import row_runs, score_row_runs

_ACTIVATIONS = ("gelu", "relu")


def _act_(h: Tensor, activation: str) -> Tensor:
    """In-place activation."""
    return h.relu_() if activation == "relu" else torch.ops.aten.gelu_(h)


def _act_grad(gpre: Tensor, saved: Tensor, activation: str, out: Tensor) -> Tensor:
    """Gradient through the activation into ``out``; ``saved`` = post-ReLU / pre-GELU."""
    if activation == "relu":
        return torch.ops.aten.threshold_backward.grad_input(gpre, saved, 0.0, grad_input=out)
    return torch.ops.aten.gelu_backward.grad_input(gpre, saved, grad_input=out)


def single_effect_branch(
    lo: Tensor, hi: Tensor, w: Tensor, b: Tensor, a: Tensor, activation: str, keep: bool = False
) -> tuple[Tensor, Tensor | None]:
    r"""``out[k] = phi(lo w[k,0] + hi w[k,1] + b[k]) . a[k]`` without autograd.

    Args:
        lo, hi: ``(n,)`` branch inputs; w: ``(s, 2, H)``; b, a: ``(s, H)``.
        keep: also return the ``(s, n, H)`` activations needed by the backward pass
            (post-ReLU, or pre-GELU).

    Returns:
        ``(out (s, n), saved or None)``.
    """
    s, _, H = w.shape
    n = lo.numel()
    out = lo.new_empty(s, n)
    saved = lo.new_empty(s, n, H) if keep else None
    buf = None if keep else lo.new_empty(n, H)
    for k in range(s):
        pre = saved[k] if keep else buf
        torch.addr(b[k], lo, w[k, 0], out=pre)
        pre.addr_(hi, w[k, 1])
        h = F.gelu(pre) if keep and activation == "gelu" else _act_(pre, activation)
        torch.mv(h, a[k], out=out[k])
    return out, saved


def gene_sum_branch(
    table: Tensor, a: Tensor, b: Tensor, c: Tensor, r: Tensor, activation: str, keep: bool = False
) -> tuple[Tensor, Tensor | None]:
    r"""``out[k] = phi(T[k, a] + T[k, b] + c[k]) . r[k]`` without autograd.

    Args:
        table: ``(s, M, p)`` per-gene table; a, b: ``(n,)`` long; c, r: ``(s, p)``.
        keep: also return the ``(s, n, p)`` activations for the backward pass.

    Returns:
        ``(out (s, n), saved or None)``; exactly symmetric in ``a`` and ``b``.
    """
    s, _, p = table.shape
    n = a.numel()
    out = table.new_empty(s, n)
    # gathers and element-wise ops for all members at once (exact: element by element the
    # same arithmetic); the dot products stay per member (BLAS-2, fixed summation order)
    pre = torch.index_select(table, 1, a)
    pre.add_(torch.index_select(table, 1, b)).add_(c.unsqueeze(1))
    saved = pre if keep else None
    h = F.gelu(pre) if keep and activation == "gelu" else _act_(pre, activation)
    for k in range(s):
        torch.mv(h[k], r[k], out=out[k])
    return out, saved


def uses_member_loops(device: torch.device) -> bool:
    """Whether the per-member CPU kernels are used on ``device`` (CPU only)."""
    return torch.device(device).type == "cpu"


def _act(h: Tensor, activation: str) -> Tensor:
    return torch.relu(h) if activation == "relu" else F.gelu(h)


def batched_single_effect_branch(
    lo: Tensor, hi: Tensor, w: Tensor, b: Tensor, a: Tensor, activation: str
) -> Tensor:
    r"""``out[k] = phi([lo, hi] w[k] + b[k]) . a[k]`` for all members in one batched call.

    Args:
        lo, hi: ``(n,)``; w: ``(s, 2, H)``; b, a: ``(s, H)``.

    Returns:
        ``(s, n)``, differentiable by autograd (the device path of the single branch).
    """
    s = w.shape[0]
    design = torch.stack((lo, hi), dim=-1).expand(s, -1, -1)  # (s, n, 2)
    h = _act(torch.baddbmm(b.unsqueeze(1), design, w), activation)  # (s, n, H)
    return torch.bmm(h, a.unsqueeze(-1)).squeeze(-1)


def batched_gene_sum_branch(
    table: Tensor, a: Tensor, b: Tensor, c: Tensor, r: Tensor, activation: str
) -> Tensor:
    r"""``out[k] = phi(T[k, a] + T[k, b] + c[k]) . r[k]`` for all members in one batched call.

    Args:
        table: ``(s, M, p)``; a, b: ``(n,)`` long; c, r: ``(s, p)``.

    Returns:
        ``(s, n)``, differentiable by autograd; exactly symmetric in ``a`` and ``b``.
    """
    h = _act(table[:, a] + table[:, b] + c.unsqueeze(1), activation)  # (s, n, p)
    return torch.bmm(h, r.unsqueeze(-1)).squeeze(-1)


class _SingleEffectBranch(torch.autograd.Function):
    r"""``out[k] = phi(lo w[k,0] + hi w[k,1] + b[k]) a[k]`` for each member ``k``.

    Fused, member-by-member BLAS-2 kernels (rank-1 updates, matrix-vector products): on CPU
    these beat batched ``bmm`` with inner dimension 2 / output width 1 by 5-10x, and only
    one ``n x H`` buffer per member is kept for the backward pass.
    """

    @staticmethod
    def forward(ctx, lo, hi, w, b, a, activation):  # noqa: D102
        out, saved = single_effect_branch(lo, hi, w, b, a, activation, keep=True)
        ctx.save_for_backward(lo, hi, w, a, saved)
        ctx.activation = activation
        return out

    @staticmethod
    def backward(ctx, gout):  # noqa: D102
        lo, hi, w, a, saved = ctx.saved_tensors
        act = ctx.activation
        s, _, H = w.shape
        design = torch.stack((lo, hi, torch.ones_like(lo)))  # (3, n)
        gw, gb, ga = torch.empty_like(w), w.new_empty(s, H), torch.empty_like(a)
        buf, gpre = torch.empty_like(saved[0]), None
        for k in range(s):
            g = gout[k]
            if act == "relu":
                # d pre = (g a^T) * 1[h > 0], so X^T d pre = a * (X g)^T 1[h > 0]:
                # no n x H gradient is ever materialised, only the 0/1 mask.
                h = saved[k]
                torch.mv(h.t(), g, out=ga[k])
                mask = torch.sign(h, out=buf)  # h >= 0
                coef = torch.mm(design * g, mask).mul_(a[k])  # (3, H)
            else:
                h = F.gelu(saved[k])
                torch.mv(h.t(), g, out=ga[k])
                if gpre is None:
                    gpre = torch.empty_like(buf)
                _act_grad(torch.outer(g, a[k], out=buf), saved[k], act, out=gpre)
                coef = torch.mm(design, gpre)  # (3, H)
            gw[k, 0], gw[k, 1], gb[k] = coef[0], coef[1], coef[2]
        return None, None, gw, gb, ga, None


class _GeneSumBranch(torch.autograd.Function):
    r"""``out[k] = phi(T[k, a] + T[k, b] + c[k]) r[k]`` for each member ``k``.

    ``T`` is a per-gene table ``(s, M, p)``; the sum makes the branch symmetric in
    ``(a, b)`` bit for bit. The backward scatters into ``T`` with ``index_add_``.
    """

    @staticmethod
    def forward(ctx, table, a, b, c, r, activation):  # noqa: D102
        out, saved = gene_sum_branch(table, a, b, c, r, activation, keep=True)
        ctx.save_for_backward(a, b, r, saved)
        ctx.activation = activation
        ctx.n_genes = table.shape[1]
        return out

    @staticmethod
    def backward(ctx, gout):  # noqa: D102
        a, b, r, saved = ctx.saved_tensors
        act = ctx.activation
        s, n, p = saved.shape
        gt = r.new_zeros(s, ctx.n_genes, p)
        gr = torch.empty_like(r)
        h = saved if act == "relu" else F.gelu(saved)
        for k in range(s):
            torch.mv(h[k].t(), gout[k], out=gr[k])
        gpre = _act_grad(gout.unsqueeze(-1) * r.unsqueeze(1), saved, act,
                         out=torch.empty_like(saved))
        gt.index_add_(1, a, gpre).index_add_(1, b, gpre)
        gc = gpre.sum(dim=1)
        return gt, None, None, gc, gr, None


class NaiadNet(nn.Module):
    r"""Batched NAIAD member networks: ``(a, b) -> (s, n)`` in standardised units.

    Args:
        single_effects: ``(M,)`` standardised single-gene effects (a buffer).
        ensemble_size: members ``s``.
        embed_dim: gene-embedding size ``p`` (0 disables the embedding branch).
        single_dim: width ``H`` of the single-gene branch (0 disables it).
        activation: ``"gelu"`` or ``"relu"`` (the paper allows either).
        output_init_scale: std multiplier of the read-out weights ``A1, A2`` at
            initialisation (relative to ``1/sqrt(width)``).
        skip_init: ``(c0, c1)`` initial linear skip coefficients (e.g. the least-squares
            fit); ``None`` disables the skip term (paper architecture).
        single_bias: learn ``b1``; False keeps it a zero buffer (kinks through the origin).
        output_offset: constant ``z_0`` added to every output (a buffer, not trained).
        generator: the only source of randomness for initialisation.
    """

    def __init__(
        self,
        single_effects: Tensor,
        *,
        ensemble_size: int,
        embed_dim: int,
        single_dim: int,
        activation: str = "relu",
        output_init_scale: float = 1.0,
        skip_init: tuple[float, float] | None = None,
        single_bias: bool = True,
        output_offset: float = 0.0,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {activation!r}")
        if single_effects.ndim != 1:
            raise ValueError("single_effects must be 1-D (M,)")
        s, p, H = int(ensemble_size), int(embed_dim), int(single_dim)
        M = single_effects.numel()
        if s < 1 or p < 0 or H < 0 or (p == 0 and H == 0 and skip_init is None):
            raise ValueError("need s >= 1 and at least one branch")
        self.ensemble_size, self.embed_dim, self.single_dim = s, p, H
        self.n_genes = M
        self.activation = activation
        self.register_buffer("x", single_effects.detach().clone())
        g = generator

        def randn(*shape: int, std: float) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=g, dtype=torch.float64) * std)

        if H:
            # inputs are standardised: unit-scale W1/b1 spread the kinks over the data range
            self.w1 = randn(s, 2, H, std=1.0)
            if single_bias:
                self.b1 = randn(s, H, std=1.0)
            else:
                self.register_buffer("b1", torch.zeros(s, H, dtype=torch.float64))
            self.a1 = randn(s, H, std=output_init_scale / math.sqrt(H))
        if p:
            self.emb = randn(s, M, p, std=1.0)
            self.w2 = randn(s, p, p, std=math.sqrt(2.0 / p))
            self.c2 = nn.Parameter(torch.zeros(s, 1, p, dtype=torch.float64))
            self.w3 = randn(s, p, p, std=math.sqrt(2.0 / p))
            self.b3 = nn.Parameter(torch.zeros(s, p, dtype=torch.float64))
            self.a2 = randn(s, p, std=output_init_scale / math.sqrt(p))
        if skip_init is not None:
            c0, c1 = (float(v) for v in skip_init)
            self.c0 = nn.Parameter(torch.full((s, 1), c0, dtype=torch.float64))
            self.c1 = nn.Parameter(torch.full((s, 1), c1, dtype=torch.float64))
        self.has_skip = skip_init is not None
        self.register_buffer("z0", torch.tensor(float(output_offset), dtype=torch.float64))
        #: Whether outputs carry an offset (a Python flag: no host sync on the hot path).
        self.has_offset = float(output_offset) != 0.0
        self._table: Tensor | None = None
        #: None = choose the kernel path by device (:func:`uses_member_loops`); True / False
        #: force the per-member CPU kernels / the batched device path (tests, benchmarks).
        self.member_loops: bool | None = None
        #: None = use the exact row-run kernels (:mod:`~naiad_bo.models.run_kernels`) for
        #: no-grad scoring on the CPU; True / False force them on / off on any device.
        self.run_kernels: bool | None = None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: D105
        # weights saved before the output offset existed had none (it was 0)
        state_dict.setdefault(prefix + "z0", torch.zeros_like(self.z0))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # ------------------------------------------------------------------ helpers
    def _gene_table(self, genes: Tensor | None = None) -> Tensor:
        r"""``K_g = phi(X_g W2 + c2) W3`` for ``genes`` (all ``M`` if None): ``(s, k, p)``."""
        e = self.emb if genes is None else self.emb[:, genes]
        h = torch.baddbmm(self.c2, e, self.w2)
        h = torch.relu(h) if self.activation == "relu" else F.gelu(h)
        return torch.bmm(h, self.w3)

    @contextlib.contextmanager
    def gene_cache(self) -> Iterator[None]:
        """Compute the per-gene table once for all ``M`` genes and reuse it (no grad)."""
        if self.embed_dim == 0 or self._table is not None:
            yield
            return
        with torch.no_grad():
            self._table = self._gene_table()
        try:
            yield
        finally:
            self._table = None

    @contextlib.contextmanager
    def per_pair_kernels(self) -> Iterator[None]:
        """Use the per-pair kernels inside the block (:attr:`run_kernels` restored after)."""
        saved = self.run_kernels
        self.run_kernels = False
        try:
            yield
        finally:
            self.run_kernels = saved

    def uses_run_kernels(self) -> bool:
        """Whether no-grad scoring uses the row-run kernels (ReLU networks; by default on
        the CPU, see :attr:`run_kernels`)."""
        if self.activation != "relu":
            return False
        if self.run_kernels is None:
            return uses_member_loops(self.x.device)
        return bool(self.run_kernels)

    # ------------------------------------------------------------------ forward
    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        r"""Predict pairs ``(a_i, b_i)``.

        .. math::
            z_{ab} = c_0 + c_1 (y_a + y_b) + \phi([\min, \max](y_a, y_b) W_1 + b_1) A_1
                   + \phi(K_a + K_b + b_3) A_2

        Args:
            a, b: ``(n,)`` long gene indices.

        Returns:
            ``(s, n)`` standardised predictions; ``forward(a, b) == forward(b, a)`` exactly.
            Without gradients, on the CPU, chunks in long row runs (pair-space chunks) go
            through the exact row-run kernels (:mod:`~naiad_bo.models.run_kernels`; equal
            to the per-pair kernels up to rounding, and exactly symmetric too).
        """
        grad = torch.is_grad_enabled()
        if not grad and self.uses_run_kernels():
            lo, hi = torch.minimum(a, b), torch.maximum(a, b)  # (a, b) and (b, a) alike
            runs = row_runs(lo)
            if runs is not None:
                out = score_row_runs(self, lo, hi, runs)
                return out + self.z0 if self.has_offset else out
        ya, yb = self.x[a], self.x[b]
        n = a.numel()
        act = self.activation
        loops = uses_member_loops(self.x.device) if self.member_loops is None else self.member_loops
        out = self.z0.expand(self.ensemble_size, n).clone()  # zeros unless anchored
        if self.single_dim:
            lo, hi = torch.minimum(ya, yb), torch.maximum(ya, yb)
            if not loops:
                out = out + batched_single_effect_branch(lo, hi, self.w1, self.b1, self.a1, act)
            elif grad:
                out = out + _SingleEffectBranch.apply(lo, hi, self.w1, self.b1, self.a1, act)
            else:
                out += single_effect_branch(lo, hi, self.w1, self.b1, self.a1, act)[0]
        if self.embed_dim:
            if self._table is not None and not grad:
                table, ia, ib = self._table, a, b
            elif 2 * n >= self.n_genes:  # per-gene work once per gene, then gather
                table, ia, ib = self._gene_table(), a, b
            else:  # few pairs: only the genes involved (sorted, so (a,b)/(b,a) agree)
                genes, inv = torch.unique(torch.cat((a, b)), return_inverse=True)
                table, ia, ib = self._gene_table(genes), inv[:n], inv[n:]
            if not loops:
                out = out + batched_gene_sum_branch(table, ia, ib, self.b3, self.a2, act)
            elif grad:
                out = out + _GeneSumBranch.apply(table, ia, ib, self.b3, self.a2, act)
            else:
                out += gene_sum_branch(table, ia, ib, self.b3, self.a2, act)[0]
        if self.has_skip:
            out = out + (self.c0 + self.c1 * (ya + yb))
        return out

    def loss_and_grads(
        self, a: Tensor, b: Tensor, z: Tensor, weights: Tensor | None = None
    ) -> tuple[Tensor, dict[str, Tensor]] | None:
        """Per-member weighted MSE and its parameter gradients without autograd, bit-equal to
        autograd's; ``None`` where not covered (:mod:`naiad_bo.models.naiad_backprop`)."""
        from naiad_bo.models.naiad_backprop import loss_and_grads

        return loss_and_grads(self, a, b, z, weights)

    def extra_repr(self) -> str:
        return (
            f"ensemble_size={self.ensemble_size}, n_genes={self.n_genes}, "
            f"embed_dim={self.embed_dim}, single_dim={self.single_dim}, "
            f"activation={self.activation!r}, skip={self.has_skip}"
        )

r"""Exact no-grad NAIAD scoring of row runs: per-gene work once per row, not once per pair.

Candidate chunks of a :class:`~naiad_bo.space.PairSpace` come in *row runs*: consecutive
pairs ``(g, b_1), (g, b_2), ...`` sharing their first gene ``g``. Within a run both branches
of :class:`~naiad_bo.models.naiad_net.NaiadNet` simplify exactly:

* **Embedding branch.** :math:`\phi(K_g + K_b + b_3) A_2`: the row term ``K_g + b_3`` is
  formed once per run, so each pair costs one gather, one add, one activation, one dot.
* **Single-gene branch (ReLU).** With ``t = y_b`` and the row's ``y_g`` fixed, the branch is a
  piecewise-linear function of the scalar ``t``:

  .. math::

      f_k(t) = \sum_h a_{kh}\, \mathrm{relu}(\alpha_{kh} + \beta_{kh} t), \qquad
      (\alpha, \beta) = \begin{cases}
          (y_g w_{k,0} + b_k,\; w_{k,1}) & t \ge y_g \;(\text{lo} = y_g,\ \text{hi} = t)\\
          (y_g w_{k,1} + b_k,\; w_{k,0}) & t < y_g \;(\text{lo} = t,\ \text{hi} = y_g)
      \end{cases}

  with kinks at :math:`\tau_{kh} = -\alpha_{kh} / \beta_{kh}`. Sorting the ``H`` kinks of each
  case and accumulating the slopes and intercepts of the units active on each interval gives,
  per member, a table of at most ``2H + 2`` linear pieces (the two cases joined at
  ``t = y_g``, where they agree); a pair then costs one binary search over the kinks and one
  multiply-add instead of ``H`` multiply-adds, an activation and an ``H``-dot. Tables are
  built in float64 (their cumulative sums cancel), once per distinct row gene of a chunk,
  vectorised over genes and members.

The result equals :meth:`NaiadNet.forward` up to floating-point rounding (the sums run in
another order). Used when gradients are off, the activation is ReLU (GELU is not
piecewise linear: its single branch stays per pair) and a chunk has long runs
(:data:`MIN_MEAN_RUN`); otherwise the per-pair kernels run.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["MIN_MEAN_RUN", "row_runs", "score_row_runs", "single_branch_tables"]

#: Mean run length from which the run kernels are used (shorter runs: per-pair kernels).
MIN_MEAN_RUN = 256
#: Row genes whose single-branch tables are built at once (bounds their memory).
TABLE_BLOCK = 128


def row_runs(a: Tensor) -> tuple[Tensor, list[int]] | None:
    """``(run genes, run lengths)`` of consecutive equal entries of ``a``, or None if the
    mean run is shorter than :data:`MIN_MEAN_RUN`."""
    n = a.numel()
    if n < MIN_MEAN_RUN:
        return None
    genes, counts = torch.unique_consecutive(a, return_counts=True)
    if genes.numel() * MIN_MEAN_RUN > n:
        return None
    return genes, counts.tolist()


def _case_tables(alpha: Tensor, beta: Tensor, amp: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    r"""Sorted kinks ``(..., H)`` and the ``(..., H + 1)`` slope / intercept of
    :math:`t \mapsto \sum_h amp_h\, \mathrm{relu}(\alpha_h + \beta_h t)` on each interval.

    Interval ``j`` is ``tau_(j) < t <= tau_(j+1)`` (``j`` = number of kinks below ``t``, what
    ``searchsorted(..., side="left")`` returns). Units with ``beta = 0`` are constants
    (kink at ``-inf``, always counted as active, contribution ``amp relu(alpha)``).
    """
    pos, neg = beta > 0, beta < 0
    flat = ~(pos | neg)
    tau = torch.where(flat, torch.full_like(alpha, -torch.inf), -alpha / torch.where(flat, 1.0,
                                                                                      beta))
    c_slope = amp * beta
    c_icpt = torch.where(flat, amp * alpha.clamp_min(0.0), amp * alpha)
    after = pos | flat  # active above the kink; neg units are active below it
    tau, order = torch.sort(tau, dim=-1)
    c_slope, c_icpt = c_slope.gather(-1, order), c_icpt.gather(-1, order)
    after = after.gather(-1, order)
    zero = torch.zeros_like(tau[..., :1])

    def table(c: Tensor) -> Tensor:
        up = torch.cat((zero, torch.cumsum(torch.where(after, c, 0.0), -1)), -1)
        down_prefix = torch.cat((zero, torch.cumsum(torch.where(after, 0.0, c), -1)), -1)
        return up + (down_prefix[..., -1:] - down_prefix)

    return tau, table(c_slope), table(c_icpt)


def single_branch_tables(
    y_rows: Tensor, w: Tensor, bias: Tensor, amp: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Piecewise-linear tables of the single-gene branch for row genes with effects ``y_rows``.

    Args:
        y_rows: ``(U,)`` standardised single effects of the row genes.
        w: ``(s, 2, H)``; bias, amp: ``(s, H)`` (``W_1``, ``b_1``, ``A_1``).

    Returns:
        ``(kinks (U, s, 2H + 1), slope (U, s, 2H + 2), icpt (U, s, 2H + 2))`` float64: for a
        partner effect ``t``, ``j = searchsorted(kinks[u, k], t)`` and
        ``f_k = slope[u, k, j] t + icpt[u, k, j]`` (kinks padded with ``+inf``).
    """
    y = y_rows.to(torch.float64)[:, None, None]  # (U, 1, 1)
    w64, b64, a64 = w.to(torch.float64), bias.to(torch.float64), amp.to(torch.float64)
    w0, w1 = w64[:, 0], w64[:, 1]  # (s, H)
    U, (s, H) = y.shape[0], w0.shape
    tau_r, sl_r, ic_r = _case_tables(y * w0 + b64, w1.expand(U, s, H), a64.expand(U, s, H))
    tau_c, sl_c, ic_c = _case_tables(y * w1 + b64, w0.expand(U, s, H), a64.expand(U, s, H))
    yk = y.expand(U, s, 1).contiguous()
    n_c = torch.searchsorted(tau_c, yk)  # C kinks below y_g (used for t < y_g)
    m_r = torch.searchsorted(tau_r, yk)  # R kinks below y_g (skipped for t >= y_g)
    # merged kinks: tau_C[:n_c], y_g, tau_R[m_r:], +inf padding (2H + 1 in all)
    p = torch.arange(2 * H + 1, device=y.device).expand(U, s, -1)
    r_idx = p - n_c - 1 + m_r
    from_r = torch.gather(tau_r, -1, r_idx.clamp(0, H - 1))
    kinks = torch.where(p < n_c, torch.gather(tau_c, -1, p.clamp(max=H - 1)),
                        torch.where(p == n_c, yk, torch.where(r_idx < H, from_r, torch.inf)))
    # merged pieces: C pieces 0..n_c, then R pieces m_r..H (then the last R piece repeated)
    q = torch.arange(2 * H + 2, device=y.device).expand(U, s, -1)
    rq = (q - n_c - 1 + m_r).clamp(0, H)
    cq = q.clamp(max=H)
    use_c = q <= n_c
    slope = torch.where(use_c, torch.gather(sl_c, -1, cq), torch.gather(sl_r, -1, rq))
    icpt = torch.where(use_c, torch.gather(ic_c, -1, cq), torch.gather(ic_r, -1, rq))
    return kinks.contiguous(), slope.contiguous(), icpt.contiguous()


def _sorted_effects(net) -> tuple[Tensor, Tensor]:
    """``(sorted effects float64 (M,), rank of each gene (M,))`` of ``net.x``, cached."""
    x = net.x
    key = (x.data_ptr(), x._version, x.dtype, x.device)
    cached = getattr(net, "_run_sort_cache", None)
    if cached is None or cached[0] != key:
        y_sorted, order = torch.sort(x.to(torch.float64))
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.numel(), device=x.device)
        cached = (key, y_sorted, rank)
        net._run_sort_cache = cached
    return cached[1], cached[2]


def _piece_index(kinks: Tensor, t64: Tensor, ranks: Tensor | None, y_sorted: Tensor) -> Tensor:
    """``(s, L)`` piece of each partner: ``#kinks < t`` per member.

    Long runs count by rank (``O(M)`` per run: histogram of the kinks over the sorted
    effects, then a prefix sum read at each partner's rank); short runs binary-search.
    """
    if ranks is None:
        return torch.searchsorted(kinks, t64)
    s, m = kinks.shape[0], y_sorted.numel()
    pos = torch.searchsorted(y_sorted, kinks)  # (s, K): effects below each kink
    hist = torch.zeros(s, m + 1, dtype=torch.int64, device=kinks.device)
    below = hist.scatter_add_(1, pos, torch.ones_like(pos)).cumsum_(1)  # kinks <= rank r
    return below[:, ranks]


def score_row_runs(net, a: Tensor, b: Tensor, runs: tuple[Tensor, list[int]]) -> Tensor:
    r"""Member predictions ``(s, n)`` of a :class:`NaiadNet` for pairs grouped in row runs.

    Args:
        net: The network (ReLU if it has a single-gene branch; eval mode, no grad).
        a, b: ``(n,)`` long gene ids; ``a`` constant within each run.
        runs: :func:`row_runs` of ``a``.

    Returns:
        ``(s, n)`` in the network's dtype; equal to ``net(a, b)`` up to rounding.
    """
    genes, lengths = runs
    s, n = net.ensemble_size, a.numel()
    x = net.x
    out = torch.empty(s, n, dtype=x.dtype, device=x.device)
    emb = None
    if net.embed_dim:
        emb = net._table if net._table is not None else net._gene_table()
        buf = torch.empty(max(lengths), net.embed_dim, dtype=emb.dtype, device=emb.device)
    if net.single_dim:
        y_sorted, rank = _sorted_effects(net)
    m = x.numel()
    start = 0
    for first in range(0, len(lengths), TABLE_BLOCK):  # tables for a block of runs at a time
        block = genes[first : first + TABLE_BLOCK]
        tables = None
        if net.single_dim:
            tables = single_branch_tables(x[block], net.w1, net.b1, net.a1)
        if emb is not None:
            row_terms = emb[:, block] + net.b3.unsqueeze(1)  # (s, U, p)
        for u, length in enumerate(lengths[first : first + TABLE_BLOCK]):
            stop = start + length
            bb = b[start:stop]
            o = out[:, start:stop]
            if emb is not None:
                h = buf[:length]
                for k in range(s):
                    torch.index_select(emb[k], 0, bb, out=h)
                    h.add_(row_terms[k, u]).relu_()
                    o[k] = torch.mv(h, net.a2[k])
            else:
                o.zero_()
            if tables is not None:
                kinks, slope, icpt = (tb[u] for tb in tables)
                t64 = x[bb].to(torch.float64)
                long_run = 8 * length >= m
                j = _piece_index(kinks, None if long_run else t64.expand(s, -1).contiguous(),
                                 rank[bb] if long_run else None, y_sorted)
                single = torch.gather(slope, 1, j).mul_(t64).add_(torch.gather(icpt, 1, j))
                o += single.to(o.dtype)
            if net.has_skip:
                o += net.c0 + net.c1 * (x[block[u]] + x[bb])
            start = stop
    return out

"""Chunked evaluation of a batched member network with bounded memory.

Scoring every unordered pair of a 448-gene screen is ~100k pairs; of a genome-scale one,
millions. :func:`score_members` evaluates the network chunk by chunk into one preallocated
``(s, N)`` output on the network's device, inside the network's optional ``gene_cache()``
(per-gene work done once for all chunks). A network whose ``uses_run_kernels()`` is true
(:class:`~naiad_bo.models.naiad_net.NaiadNet` on the CPU, :mod:`~naiad_bo.models.run_kernels`)
gets all ``N`` pairs in one call when they come in row runs (pair-space chunks): its kernels
work run by run in bounded memory. Other pairs are chunked as usual, with the per-pair
kernels in every chunk (results independent of the chunk size).
"""

from __future__ import annotations

import contextlib

import torch
from torch import Tensor, nn

__all__ = ["score_members"]


def score_members(
    net: nn.Module, a: Tensor, b: Tensor, *, ensemble_size: int, chunk_size: int, dtype: torch.dtype
) -> Tensor:
    """Member predictions ``(s, N)`` for pairs ``(a_i, b_i)``, ``chunk_size`` pairs at a time.

    Args:
        net: Batched member network ``(a, b) -> (s, n)``.
        a, b: ``(N,)`` long gene ids on the network's device.
        ensemble_size: Members ``s``.
        chunk_size: Pairs per network call.
        dtype: Compute dtype of the network (dtype of the output).

    Returns:
        ``(s, N)`` predictions in the network's units, on ``a``'s device. No autograd.
    """
    N = a.numel()
    cache = getattr(net, "gene_cache", None)
    with torch.no_grad(), (cache() if cache is not None else contextlib.nullcontext()):
        runs = _in_row_runs(net, a, b)
        if N <= chunk_size or runs:
            # the row-run kernels bound their own memory (per run and per block of runs)
            return net(a, b)
        # chunks of pairs that are not in runs as a whole take the per-pair kernels, so the
        # numbers do not depend on the chunk size
        per_pair = getattr(net, "per_pair_kernels", None)
        out = torch.empty(ensemble_size, N, dtype=dtype, device=a.device)
        with per_pair() if per_pair is not None else contextlib.nullcontext():
            for start in range(0, N, chunk_size):
                stop = min(start + chunk_size, N)
                out[:, start:stop] = net(a[start:stop], b[start:stop])
        return out


def _in_row_runs(net: nn.Module, a: Tensor, b: Tensor) -> bool:
    """Whether ``net`` scores these pairs with its row-run kernels (see module docstring)."""
    uses_runs = getattr(net, "uses_run_kernels", None)
    if uses_runs is None or not uses_runs():
        return False
    from naiad_bo.models.run_kernels import row_runs

    return row_runs(torch.minimum(a, b)) is not None

"""Chunked evaluation of a batched member network with bounded memory.

Scoring every unordered pair of a 448-gene screen is ~100k pairs; of a genome-scale one,
millions. :func:`score_members` evaluates the network chunk by chunk into one preallocated
``(s, N)`` output on the network's device, inside the network's optional ``gene_cache()``
(per-gene work done once for all chunks). A network whose ``uses_run_kernels()`` is true
(:class:`~naiad_bo.models.naiad_net.NaiadNet` on the CPU, :mod:`~naiad_bo.models.run_kernels`)
gets all ``N`` pairs in one call: its kernels work run by run in bounded memory.
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
        uses_runs = getattr(net, "uses_run_kernels", None)
        if N <= chunk_size or (uses_runs is not None and uses_runs()):
            # the row-run kernels bound their own memory (per run and per block of runs)
            return net(a, b)
        out = torch.empty(ensemble_size, N, dtype=dtype, device=a.device)
        for start in range(0, N, chunk_size):
            stop = min(start + chunk_size, N)
            out[:, start:stop] = net(a[start:stop], b[start:stop])
        return out

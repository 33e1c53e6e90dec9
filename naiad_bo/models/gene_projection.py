"""Shared pieces of member networks built on per-gene projections of learned embeddings.

Many pair networks first project every gene's embedding (``E W``, shape ``(s, M, h)``) and then
combine the two rows of a pair. Projecting the ``M`` genes once is exact and costs
``O(M d h)`` instead of ``O(n d h)`` per call; while scoring many chunks the projections are
cached inside :meth:`GeneProjectionNet.gene_cache` (the hook that
:class:`~naiad_bo.models.pair_ensemble.PairEnsembleModel` wraps scoring in).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import Tensor, nn


def uniform_parameter(
    shape: tuple[int, ...], bound: float, generator: torch.Generator
) -> nn.Parameter:
    """float64 parameter drawn from ``U(-bound, bound)`` with an explicit generator."""
    u = torch.rand(shape, generator=generator, dtype=torch.float64)
    return nn.Parameter((u * 2 - 1) * bound)


class GeneProjectionNet(nn.Module):
    """Base of member networks whose first step is a per-gene projection ``(s, M, h)``.

    Subclasses implement :meth:`project_genes` and use :meth:`gene_projections` in
    ``forward``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._cached: Tensor | None = None

    def project_genes(self) -> Tensor:
        """Per-gene projections ``(s, M, h)`` from the current parameters."""
        raise NotImplementedError

    def gene_projections(self) -> Tensor:
        """The cached projections inside :meth:`gene_cache`, else freshly computed ones."""
        return self._cached if self._cached is not None else self.project_genes()

    @contextlib.contextmanager
    def gene_cache(self) -> Iterator[None]:
        """Compute the per-gene projections once for all chunks scored inside the block."""
        with torch.no_grad():
            self._cached = self.project_genes()
        try:
            yield
        finally:
            self._cached = None

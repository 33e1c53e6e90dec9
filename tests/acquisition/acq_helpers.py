"""Helpers for acquisition tests: a tiny fixed-member ensemble with known member values."""

from __future__ import annotations

import torch
from botorch.models.ensemble import EnsembleModel
from torch import Tensor


class LookupEnsemble(EnsembleModel):
    """Ensemble whose member ``j`` predicts ``table[j, a, b]`` (symmetric in ``a, b``).

    ``forward(X: batch x n x 2) -> batch x s x n x 1``.
    """

    _num_outputs = 1

    def __init__(self, table: Tensor) -> None:
        super().__init__()
        table = 0.5 * (table + table.transpose(-1, -2))
        self.register_buffer("table", table)

    @property
    def n_members(self) -> int:
        return int(self.table.shape[0])

    @property
    def n_genes(self) -> int:
        return int(self.table.shape[-1])

    def forward(self, X: Tensor) -> Tensor:
        X = X.long()
        vals = self.table[:, X[..., 0], X[..., 1]]  # s x batch x n
        return vals.movedim(0, -2).unsqueeze(-1)  # batch x s x n x 1


def make_lookup(n_members: int = 5, n_genes: int = 30, seed: int = 0) -> LookupEnsemble:
    gen = torch.Generator().manual_seed(seed)
    base = torch.randn(n_genes, n_genes, generator=gen, dtype=torch.float64)
    noise = 0.3 * torch.randn(n_members, n_genes, n_genes, generator=gen, dtype=torch.float64)
    return LookupEnsemble(base + noise)

"""Chunked scoring: same numbers as one call, output on the network's device."""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from naiad_bo.models.scoring import score_members


class _Cached(nn.Module):
    def __init__(self, device="cpu"):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.t = nn.Parameter(torch.randn(4, 30, generator=g).to(device))
        self.cache_entries = 0

    @contextlib.contextmanager
    def gene_cache(self):
        self.cache_entries += 1
        yield

    def forward(self, a, b):
        return self.t[:, a] * self.t[:, b]


def test_chunked_equals_one_call_and_uses_gene_cache():
    net = _Cached()
    g = torch.Generator().manual_seed(1)
    a, b = torch.randint(0, 30, (1000,), generator=g), torch.randint(0, 30, (1000,), generator=g)
    whole = score_members(net, a, b, ensemble_size=4, chunk_size=10**6, dtype=torch.float32)
    parts = score_members(net, a, b, ensemble_size=4, chunk_size=97, dtype=torch.float32)
    assert torch.equal(whole, parts) and whole.shape == (4, 1000)
    assert net.cache_entries == 2 and not parts.requires_grad


def test_chunked_output_is_allocated_on_the_network_device():
    net = _Cached("meta")
    a = torch.zeros(500, dtype=torch.long, device="meta")
    out = score_members(net, a, a, ensemble_size=4, chunk_size=64, dtype=torch.float32)
    assert out.device.type == "meta" and out.shape == (4, 500)

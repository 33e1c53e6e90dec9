"""Tests for naiad_bo.kernels.gene."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.kernels import GeneGram


def test_weighted_mixture_with_unit_diagonal(norman):
    m = norman.n_genes
    F = torch.from_numpy(np.random.default_rng(0).normal(size=(m, 4)))
    F = F / F.norm(dim=1, keepdim=True)
    K1 = F @ F.T
    se = torch.from_numpy(norman.single_effects)
    gram = GeneGram([K1], se)
    gram.raw_weights.data = torch.tensor([0.5, -1.0, 0.2], dtype=torch.float64)
    gram.raw_lengthscale.data = torch.tensor(0.3, dtype=torch.float64)
    G = gram().detach()
    w = torch.softmax(gram.raw_weights.detach(), 0)
    y = (se - se.mean()) / se.std()
    ell = gram.lengthscale.detach()
    rbf = torch.exp(-0.5 * ((y[:, None] - y[None]) / ell) ** 2)
    ref = w[0] * K1 + w[1] * rbf + w[2] * torch.eye(m, dtype=torch.float64)
    np.testing.assert_allclose(G, ref, rtol=1e-12)
    np.testing.assert_allclose(G.diagonal(), 1.0)
    assert torch.linalg.eigvalsh(G).min() > 0


def test_bad_shapes():
    with pytest.raises(ValueError, match="square"):
        GeneGram([torch.ones(3, 4, dtype=torch.float64)])
    with pytest.raises(ValueError, match="differ in size"):
        GeneGram([torch.eye(3, dtype=torch.float64), torch.eye(4, dtype=torch.float64)])
    with pytest.raises(ValueError, match="4 single effects for 3 genes"):
        GeneGram([torch.eye(3, dtype=torch.float64)], torch.zeros(4))

"""Tests for naiad_bo.kernels.pair against a per-pair brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.kernels import (
    GeneGram,
    SymmetricPairKernel,
    gram_gather,
    pair_kernel_matvec,
    pair_prior_variance_table,
    pair_quadratic_table,
)


def _random_gram(m: int, seed: int = 0) -> torch.Tensor:
    F = torch.from_numpy(np.random.default_rng(seed).normal(size=(m, 3)))
    F = F / F.norm(dim=1, keepdim=True)
    return F @ F.T


@pytest.fixture()
def kernel(norman):
    gram = GeneGram([_random_gram(norman.n_genes)], torch.from_numpy(norman.single_effects))
    k = SymmetricPairKernel(gram).double()
    k.raw_scales.data = torch.tensor([0.3, -0.7], dtype=torch.float64)
    return k


def test_matches_per_pair_formula_and_is_symmetric(kernel, norman):
    X = torch.from_numpy(norman.pair_index()[:40].copy()).double()
    Z = torch.from_numpy(norman.pair_index()[100:125].copy()).double()
    K = kernel(X, Z).to_dense()
    G = kernel.gene_gram().detach()
    s = kernel.scales.detach()
    for i in range(0, 40, 7):
        for j in range(0, 25, 5):
            a, b = X[i].long()
            c, d = Z[j].long()
            ref = s[0] * (G[a, c] * G[b, d] + G[a, d] * G[b, c]) + s[1] * (
                G[a, c] + G[b, d] + G[a, d] + G[b, c]
            )
            assert K[i, j].item() == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(kernel(X.flip(-1), Z).to_dense().detach(), K.detach())
    np.testing.assert_allclose(kernel(X, Z.flip(-1)).to_dense().detach(), K.detach())
    Kxx = kernel(X, X).to_dense().detach()
    assert torch.linalg.eigvalsh(Kxx).min() > -1e-10
    np.testing.assert_allclose(kernel(X, X, diag=True).detach(), Kxx.diagonal())


def test_kronecker_matvec_equals_dense_product(kernel, norman):
    X = torch.from_numpy(norman.pair_index()[:300].copy())
    G = kernel.gene_gram().detach()
    K = kernel.gram_terms(G, X.double(), X.double()).detach()
    v = torch.from_numpy(np.random.default_rng(2).normal(size=(300, 2)))
    out = pair_kernel_matvec(G, kernel.scales.detach(), X[:, 0], X[:, 1], v)
    np.testing.assert_allclose(out, K @ v, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        pair_kernel_matvec(G, kernel.scales.detach(), X[:, 0], X[:, 1], v[:, 0]), K @ v[:, 0]
    )


@pytest.mark.parametrize("terms", [(True, True), (True, False), (False, True)])
def test_quadratic_table_equals_dense_quadratic_form_for_every_pair(norman, terms):
    gram = GeneGram([_random_gram(norman.n_genes)], torch.from_numpy(norman.single_effects))
    k = SymmetricPairKernel(gram, interaction=terms[0], additive=terms[1]).double()
    k.raw_scales.data = torch.tensor([0.3, -0.7], dtype=torch.float64)
    pairs = norman.pair_index()
    X = torch.from_numpy(pairs[np.random.default_rng(1).permutation(len(pairs))[:120]].copy())
    X[0, 1] = X[0, 0]  # a same-gene pair hits both ends of one segment
    with torch.no_grad():
        G, s = gram(), k.scales
        K = k.gram_terms(G, X.double(), X.double()) + 0.1 * torch.eye(120, dtype=torch.float64)
        W = torch.linalg.inv(K)
        W = (W + W.T) / 2
        m = norman.n_genes
        c, d = torch.meshgrid(torch.arange(m), torch.arange(m), indexing="ij")
        every = torch.stack([c.reshape(-1), d.reshape(-1)], -1).double()
        Kx = k.gram_terms(G, every, X.double())
        ref = ((Kx @ W) * Kx).sum(-1).reshape(m, m)
        Q = pair_quadratic_table(G, s, X[:, 0], X[:, 1], W)
        prior = k.gram_terms(G, every, every, diag=True).reshape(m, m)
    np.testing.assert_allclose(Q, ref, rtol=1e-10, atol=1e-12 * float(ref.abs().max()))
    np.testing.assert_allclose(pair_prior_variance_table(G, s), prior, rtol=1e-12)


def test_gram_gather_gradient_matches_autograd_indexing():
    G = torch.randn(7, 7, dtype=torch.float64, requires_grad=True)
    r = torch.randint(0, 7, (20, 1))
    c = torch.randint(0, 7, (1, 15))
    W = torch.randn(20, 15, dtype=torch.float64)
    (gram_gather(G, r, c) * W).sum().backward()
    ours = G.grad.clone()
    G.grad = None
    (G[r, c] * W).sum().backward()
    np.testing.assert_allclose(ours, G.grad, rtol=1e-12)


def test_needs_a_term():
    with pytest.raises(ValueError, match="interaction or the additive"):
        SymmetricPairKernel(GeneGram([torch.eye(3, dtype=torch.float64)]), interaction=False,
                            additive=False)

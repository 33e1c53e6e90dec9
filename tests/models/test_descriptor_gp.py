"""Tests for naiad_bo.models.descriptor_gp on a real screen, against dense GP references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import UpperConfidenceBound, qUpperConfidenceBound
from botorch.models.model import ModelList
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.settings import max_cholesky_size

from naiad_bo.acquisition import MaxPredictedEffect, select_batch
from naiad_bo.descriptors import DescriptorFormatError, GeneDescriptor, align
from naiad_bo.metrics import rmse
from naiad_bo.models import AdditiveLinearModel, DescriptorGP, NotFittedError
from naiad_bo.models.descriptor_gp import negative_log_likelihood


@pytest.fixture(scope="module")
def data(norman):
    X = torch.from_numpy(norman.pair_index().copy())
    Y = torch.from_numpy(norman.y_values().copy()).unsqueeze(-1)
    rng = np.random.default_rng(0)
    perm = torch.from_numpy(rng.permutation(X.shape[0]))
    return X[perm[:250]], Y[perm[:250]], X[perm[250:1250]], Y[perm[250:1250]]


@pytest.fixture(scope="module")
def table_descriptor(norman):
    # a real-data descriptor: each gene's mean phenotype with three fixed partners
    partners = [norman.genes.index(g) for g in ("CEBPA", "KLF1", "CBL")]
    pairs = norman.pair_index()
    y = norman.y_values()
    feats = np.zeros((norman.n_genes, 3))
    for j, p in enumerate(partners):
        for (a, b), v in zip(pairs, y):
            if a == p or b == p:
                feats[b if a == p else a, j] = v
    desc = GeneDescriptor("partners", list(norman.genes), feats + 1e-3)
    return align(desc, norman.genes)


@pytest.fixture(scope="module")
def gp(norman, data, table_descriptor):
    X, Y, _, _ = data
    return DescriptorGP(norman.single_effects, seed=0, descriptors=[table_descriptor]).fit(X, Y)


def _dense_posterior(gp, Xtr, Ytr, Xte):
    """Textbook GP posterior with the fitted hyper-parameters (original units)."""
    m = gp.gp_
    k = m.covar_module
    G = k.gene_gram().detach()
    mu, sd = gp.y_mean_, gp.y_std_
    ys = (Ytr[:, 0] - mu) / sd
    K = k.gram_terms(G, Xtr.double(), Xtr.double()).detach()
    K = K + gp.noise_ * torch.eye(K.shape[0], dtype=K.dtype)
    Ks = k.gram_terms(G, Xte.double(), Xtr.double()).detach()
    Kss = k.gram_terms(G, Xte.double(), Xte.double()).detach()
    with torch.no_grad():
        r = ys - m.mean_module(Xtr.double())
        mean = m.mean_module(Xte.double()) + Ks @ torch.linalg.solve(K, r)
        cov = Kss - Ks @ torch.linalg.solve(K, Ks.T)
    return mean * sd + mu, cov * sd**2


def test_posterior_matches_dense_reference(gp, data):
    X, Y, Xt, _ = data
    Xq = Xt[:5].double()
    post = gp.posterior(Xq)
    mean, cov = _dense_posterior(gp, X, Y, Xq)
    np.testing.assert_allclose(post.mean[:, 0].detach(), mean, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(post.mvn.covariance_matrix.detach(), cov, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gp.predict_mean(Xt[:50]), _dense_posterior(gp, X, Y, Xt[:50])[0],
                               rtol=1e-8)
    # batch of marginals (how scoring calls it) agrees with the joint diagonal
    marg = gp.posterior(Xq.unsqueeze(-2))
    np.testing.assert_allclose(marg.variance.reshape(-1), cov.diagonal(), rtol=1e-6)
    # swapping the genes of a pair changes nothing
    np.testing.assert_allclose(gp.predict_mean(Xt[:50].flip(-1)), gp.predict_mean(Xt[:50]))


def test_variance_table_and_marginal_fast_path_match_dense_reference(norman, data,
                                                                     table_descriptor):
    X, Y, Xt, _ = data
    gp = DescriptorGP(norman.single_effects, seed=0, descriptors=[table_descriptor]).fit(X, Y)
    Xq = Xt[:200].double()
    _, cov = _dense_posterior(gp, X, Y, Xq)
    direct = gp.posterior(Xq[:5].unsqueeze(-2)).variance.reshape(-1)
    assert gp.variance_table_ is None  # a few marginals are cheaper scored directly
    every = torch.cartesian_prod(torch.arange(norman.n_genes), torch.arange(norman.n_genes))
    post = gp.posterior(every.double().unsqueeze(-2))  # many marginals: the table pays off
    assert gp.variance_table_ is not None
    table = gp.posterior_variance_table()
    p = Xq.long()
    np.testing.assert_allclose(table[p[:, 0], p[:, 1]], cov.diagonal(), rtol=1e-8)
    np.testing.assert_allclose(table, table.T, rtol=1e-12)
    fast = gp.posterior(Xq.unsqueeze(-2))
    np.testing.assert_allclose(fast.variance.reshape(-1), cov.diagonal(), rtol=1e-8)
    np.testing.assert_allclose(fast.variance.reshape(-1)[:5], direct, rtol=1e-8)
    np.testing.assert_allclose(post.mean.reshape(-1), gp.predict_mean(every), rtol=1e-12)
    # joint posteriors (q > 1) still take the exact blocked solve
    joint = gp.posterior(Xq[:4])
    np.testing.assert_allclose(joint.mvn.covariance_matrix, cov[:4, :4], rtol=1e-6, atol=1e-9)
    # refitting drops the cached table
    gp.fit(X[:200], Y[:200])
    assert gp.variance_table_ is None


def test_nll_equals_gpytorch_exact_mll(gp):
    m = gp.gp_
    m.train()
    try:
        ours = negative_log_likelihood(m, with_grad=False)
        with max_cholesky_size(10**9), torch.no_grad():
            ref = -ExactMarginalLogLikelihood(m.likelihood, m)(m(*m.train_inputs), m.train_targets)
    finally:
        m.eval()
    assert ours.item() == pytest.approx(ref.item(), rel=1e-8)


def test_accuracy_vs_linear_on_held_out_pairs(gp, norman, data):
    X, Y, Xt, Yt = data
    lin = AdditiveLinearModel(norman.single_effects).fit(X, Y)
    r_gp = rmse(Yt[:, 0].numpy(), gp.predict_mean(Xt).numpy())
    r_lin = rmse(Yt[:, 0].numpy(), lin.predict_mean(Xt).numpy())
    assert r_gp < 1.02 * r_lin
    assert gp.fit_info_["gene_weights"][0] >= 0 and len(gp.fit_info_["gene_weights"]) == 3


def test_scalable_path_mean_equals_exact_conditioning(norman, data):
    X, Y, Xt, _ = data
    big = DescriptorGP(norman.single_effects, seed=0, exact_limit=100, cg_tol=1e-10).fit(X, Y)
    assert big.fit_info_["n_exact"] == 100 and big.fit_info_["cg_iterations"] > 0
    # exact conditioning on all 250 pairs with the same hyper-parameters
    k = big.gp_.covar_module
    G = k.gene_gram().detach()
    K = k.gram_terms(G, X.double(), X.double()).detach() + big.noise_ * torch.eye(250,
                                                                                   dtype=torch.float64)
    ys = (Y[:, 0] - big.y_mean_) / big.y_std_
    with torch.no_grad():
        alpha = torch.linalg.solve(K, ys - big.gp_.mean_module(X.double()))
        ref = big.gp_.mean_module(Xt.double()) + k.gram_terms(G, Xt.double(), X.double()) @ alpha
    np.testing.assert_allclose(big.predict_mean(Xt), ref * big.y_std_ + big.y_mean_, rtol=1e-6)


def test_works_with_botorch_and_our_acquisitions(gp, norman, data):
    X, Y, Xt, _ = data
    cand = Xt[:200].double()
    ucb = UpperConfidenceBound(gp, beta=4.0)
    vals = ucb(cand.unsqueeze(-2))
    post = gp.posterior(cand.unsqueeze(-2))
    np.testing.assert_allclose(vals.detach(), (post.mean + 2.0 * post.variance.sqrt()).reshape(-1))
    qucb = qUpperConfidenceBound(gp, beta=1.0)
    assert qucb(cand[:6].reshape(3, 2, 2)).shape == (3,)
    mpe = MaxPredictedEffect.from_training_data(gp, X, Y, norman.single_effects)
    chosen, _ = select_batch(mpe, cand, q=5)
    scores = mpe(cand.unsqueeze(-2)).detach()
    best = set(torch.topk(scores, 5).indices.tolist())
    rows = {tuple(r) for r in cand[list(best)].long().tolist()}
    assert {tuple(r) for r in torch.as_tensor(chosen).long().reshape(-1, 2).tolist()} == rows
    lin = AdditiveLinearModel(norman.single_effects).fit(X, Y)
    both = ModelList(gp, lin).posterior(cand[:4].unsqueeze(-2))
    assert both.mean.shape == (4, 1, 2)


def test_spec_string_needs_genes_and_bad_input(norman, data):
    X, Y, _, _ = data
    with pytest.raises(ValueError, match="needs genes"):
        DescriptorGP(norman.single_effects, descriptors="go")
    with pytest.raises(DescriptorFormatError, match="unknown descriptor"):
        DescriptorGP(norman.single_effects, genes=norman.genes, descriptors="golden")
    with pytest.raises(NotFittedError):
        DescriptorGP(norman.single_effects).posterior(X[:2].double())
    with pytest.raises(ValueError, match="gene id 500"):
        DescriptorGP(norman.single_effects).fit(torch.tensor([[0, 500]] * 5), Y[:5])
    go = DescriptorGP(norman.single_effects, genes=norman.genes, descriptors="go")
    assert go.coverage[0].n_covered >= 109

"""Tests for naiad_bo.models.descriptor_naiad on the real Norman screen and its descriptors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.descriptors import GeneDescriptor, align, load_descriptors
from naiad_bo.models import DescriptorNaiadConfig, DescriptorNaiadEnsemble, NaiadEnsemble
from naiad_bo.models.descriptor_naiad import descriptor_embedding
from naiad_bo.specs import SpecError, SurrogateSpec

FAST = {"epochs": 3, "ensemble_size": 2, "embed_dim": 6, "single_dim": 8}


@pytest.fixture(scope="module")
def small(norman):
    """40 Norman genes (some without a STRING row) and their measured pairs."""
    desc = load_descriptors("string", norman.genes)[0]
    uncovered = [g for g, c in zip(norman.genes, desc.covered) if not c][:5]
    covered = [g for g, c in zip(norman.genes, desc.covered) if c][:35]
    screen = norman.subset_genes(uncovered + covered)
    X = torch.from_numpy(screen.pair_index().copy())
    Y = torch.from_numpy(screen.y_values().copy()).unsqueeze(-1)
    return screen, X, Y


def _pca_scores(z: np.ndarray, k: int) -> np.ndarray:
    """Brute-force PCA: eigenvectors of the covariance, scores = centred data @ vectors."""
    zc = z - z.mean(0)
    w, v = np.linalg.eigh(zc.T @ zc)
    return zc @ v[:, np.argsort(w)[::-1][:k]]


def test_embedding_matches_brute_force_pca(small):
    screen, _, _ = small
    d = load_descriptors("string", screen.genes)[0]
    scores, covered = descriptor_embedding([d], 6)
    assert covered.tolist() == d.covered.tolist() and (~covered).sum() == 5
    ref = _pca_scores(d.features[d.covered], 6)
    ref = ref / np.sqrt(np.mean(ref**2))
    # principal components are defined up to sign
    signs = np.sign((scores[covered] * ref).sum(0))
    np.testing.assert_allclose(scores[covered], ref * signs, atol=1e-6)  # eigh squares cond.
    assert np.all(scores[~covered] == 0)
    assert np.mean(scores[covered] ** 2) == pytest.approx(1.0)


def test_combination_weighs_each_block_equally(small):
    """Scaling a source's features does not change the combined embedding."""
    screen, _, _ = small
    a, b = load_descriptors("string+go", screen.genes)
    scaled = type(b)(b.name, 1e3 * b.features, b.covered, b.report)
    np.testing.assert_allclose(descriptor_embedding([a, b], 5)[0],
                               descriptor_embedding([a, scaled], 5)[0], atol=1e-8)


def test_fit_starts_from_descriptor_and_keeps_random_rows(small):
    screen, X, Y = small
    plain = NaiadEnsemble(screen.single_effects, seed=3, **FAST)
    hyb = DescriptorNaiadEnsemble(screen.single_effects, seed=3, genes=screen.genes,
                                  embedding_init="string", **FAST)
    gen_p, gen_h = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    data = plain._prepare(X, Y, None)
    net_p = plain._build_network(data, gen_p)
    net_h = hyb._build_network(hyb._prepare(X, Y, None), gen_h)
    scores, covered = descriptor_embedding(hyb.descriptors, 6)
    cov = torch.from_numpy(covered)
    for k in range(2):  # every member starts from the descriptor PCA
        torch.testing.assert_close(net_h.emb[k, cov].detach(),
                                   torch.from_numpy(scores[covered]), rtol=0, atol=1e-12)
    # genes without a STRING row keep NAIAD's random rows, and every other weight is NAIAD's
    torch.testing.assert_close(net_h.emb[:, ~cov], net_p.emb[:, ~cov], rtol=0, atol=0)
    for name, p in net_p.named_parameters():
        if name != "emb":
            torch.testing.assert_close(dict(net_h.named_parameters())[name], p, rtol=0, atol=0)
    assert hyb.embedding_init_ == {"genes_initialised": 35, "columns": 6, "embed_dim": 6}
    assert hyb.fit(X, Y) is hyb and np.isfinite(hyb.train_loss_).all()
    assert hyb.coverage[0].n_covered == 35


def test_rank_deficient_descriptor_pads_with_random_columns(norman, small):
    screen, X, Y = small
    rng = np.random.default_rng(0)
    table = GeneDescriptor("two", list(screen.genes), rng.normal(size=(screen.n_genes, 2)))
    d = align(table, screen.genes)
    assert descriptor_embedding([d], 6)[0].shape == (screen.n_genes, 2)
    hyb = DescriptorNaiadEnsemble(screen.single_effects, seed=0, genes=screen.genes, **FAST)
    hyb.descriptors = [d]
    plain = NaiadEnsemble(screen.single_effects, seed=0, **FAST)
    net_h = hyb._build_network(hyb._prepare(X, Y, None), torch.Generator().manual_seed(0))
    net_p = plain._build_network(plain._prepare(X, Y, None), torch.Generator().manual_seed(0))
    torch.testing.assert_close(net_h.emb[:, :, 2:], net_p.emb[:, :, 2:], rtol=0, atol=0)
    assert not torch.equal(net_h.emb[:, :, :2], net_p.emb[:, :, :2])


def test_without_embedding_init_it_is_plain_naiad(small):
    screen, X, Y = small
    plain = NaiadEnsemble(screen.single_effects, seed=1, **FAST).fit(X, Y)
    same = DescriptorNaiadEnsemble(screen.single_effects, seed=1, **FAST).fit(X, Y)
    torch.testing.assert_close(same.posterior(X[:20].double().unsqueeze(-2)).mean,
                               plain.posterior(X[:20].double().unsqueeze(-2)).mean,
                               rtol=0, atol=0)


def test_spec_string_builds_through_surrogate_spec(small):
    screen, X, Y = small
    spec = SurrogateSpec.parse("naiad-desc:string+go", options=FAST)
    assert spec.options["embedding_init"] == "string+go"
    model = spec.build(screen.single_effects, seed=0, genes=screen.genes)
    assert isinstance(model, DescriptorNaiadEnsemble)
    assert model.config.embedding_init == "string+go"
    assert [d.name for d in model.descriptors] == ["string", "go"]
    with pytest.raises(SpecError, match="needs gene names"):
        spec.build(screen.single_effects, seed=0)


def test_bad_input(small):
    screen, _, _ = small
    with pytest.raises(ValueError, match="needs genes="):
        DescriptorNaiadEnsemble(screen.single_effects, embedding_init="string")
    with pytest.raises(ValueError, match="embedding_init must be a descriptor spec"):
        DescriptorNaiadConfig(embedding_init=" ")
    with pytest.raises(ValueError, match="genes has 3 names"):
        DescriptorNaiadEnsemble(screen.single_effects, genes=["A", "B", "C"])
    model = DescriptorNaiadEnsemble(screen.single_effects, genes=screen.genes,
                                    embedding_init="string", **FAST)
    with pytest.raises(NotImplementedError, match="cannot be saved"):
        model.state()

"""Gene-subsampled screens against a brute-force filter of the real bundled screen."""

from __future__ import annotations

import numpy as np
import pytest

import naiad_bo
from naiad_bo.data import subsample_genes, subsampled_screens


@pytest.fixture(scope="module")
def norman():
    return naiad_bo.load_screen("norman2019")


def test_keeps_every_pair_among_the_subset_and_single_effects(norman):
    sub = subsample_genes(norman, 0.6, seed=3)
    assert sub.n_genes == round(0.6 * norman.n_genes) == 67
    kept = set(sub.genes)
    # brute force over the parent's pairs, by gene names
    p = norman.pairs
    mask = p["id1"].isin(kept) & p["id2"].isin(kept)
    expect = {(a, b): y for a, b, y in zip(p["id1"][mask], p["id2"][mask], p["y"][mask])}
    got = {(a, b): y for a, b, y in zip(sub.pairs["id1"], sub.pairs["id2"], sub.pairs["y"])}
    assert got == expect
    # complete parent (self pairs included) -> complete subset
    assert sub.n_pairs == sub.n_genes * (sub.n_genes + 1) // 2
    # ids are consistent with names, canonical order kept
    genes = np.array(sub.genes)
    assert (genes[sub.pairs["gene_a"]] == sub.pairs["id1"]).all()
    assert (sub.pairs["gene_a"] <= sub.pairs["gene_b"]).all()
    # single effects, their counts and the direction follow the genes
    parent = {g: i for i, g in enumerate(norman.genes)}
    idx = [parent[g] for g in sub.genes]
    np.testing.assert_array_equal(sub.single_effects, norman.single_effects[idx])
    np.testing.assert_array_equal(sub.single_n_obs, norman.single_n_obs[idx])
    assert sub.direction == norman.direction and sub.control == norman.control
    assert idx == sorted(idx)  # original gene order
    assert sub.name == "norman2019/sub60-3"
    assert sub.metadata["subsample"] == {"parent": "norman2019", "fraction": 0.6, "seed": 3,
                                         "n_genes": 67}


def test_seeded_and_different_subsets(norman):
    a = subsample_genes(norman, 0.6, seed=0)
    assert a.genes == subsample_genes(norman, 0.6, seed=0).genes
    b = subsample_genes(norman, 0.6, seed=1)
    assert a.genes != b.genes
    # the subset is a uniform draw: each gene kept with probability ~0.6 over many seeds
    counts = np.zeros(norman.n_genes)
    for s in range(200):
        counts[[norman.genes.index(g) for g in subsample_genes(norman, 0.6, seed=s).genes]] += 1
    assert abs(counts.mean() / 200 - 67 / 112) < 1e-12
    assert 0.45 < counts.min() / 200 and counts.max() / 200 < 0.75
    # a different top pair set: the strongest pair of the parent is often gone
    assert [s.genes for s in subsampled_screens(norman, [0, 1])] == [a.genes, b.genes]


def test_whole_screen_and_campaign_runs(norman):
    full = subsample_genes(norman, 1.0, seed=0)
    assert full.genes == norman.genes and full.n_pairs == norman.n_pairs
    from naiad_bo.campaign import CampaignSimulator

    sub = subsample_genes(norman, 0.3, seed=0)
    sim = CampaignSimulator(sub, "linear", initial=20, batch=10, rounds=1, top_k=20)
    rec = sim.run_many(["mpe"], [0]).to_frame()
    assert rec["n_measured"].tolist() == [20, 30]


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, float("nan")])
def test_bad_fraction(norman, fraction):
    with pytest.raises(ValueError, match="fraction"):
        subsample_genes(norman, fraction, seed=0)


def test_too_few_genes_and_bad_seed(norman):
    with pytest.raises(ValueError, match="at least 3"):
        subsample_genes(norman, 0.01, seed=0)
    with pytest.raises(TypeError, match="seed"):
        subsample_genes(norman, 0.5, seed=1.5)

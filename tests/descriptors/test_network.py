"""Tests for naiad_bo.descriptors.network: edge lists and the Mashup embedding."""

from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.descriptors import (
    DescriptorFormatError,
    GeneNetwork,
    mashup_embedding,
    read_edge_list,
)
from naiad_bo.descriptors.network import _rwr


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NAIAD_BO_CACHE", str(tmp_path / "cache"))


def _write(path, text):
    path.write_text(text)
    return path


def test_self_loops_dropped_duplicates_merged_header_detected(tmp_path):
    text = "source,target,w\nMYC,MAX,2\nMAX,MYC,5\nTP53,TP53,1\nTP53,MDM2,1\n"
    p = _write(tmp_path / "e.csv", text)
    net = read_edge_list(p)
    assert net.notes["dropped_self_loops"] == 1 and net.notes["merged_duplicate_edges"] == 1
    assert net.nodes == ["MAX", "MDM2", "MYC", "TP53"] and net.n_edges == 2
    i, j = net.nodes.index("MYC"), net.nodes.index("MAX")
    assert net.adjacency[i, j] == 5 and net.adjacency[j, i] == 5


def test_headerless_two_column_list(tmp_path):
    net = read_edge_list(_write(tmp_path / "e.csv", "MYC,MAX\nTP53,MDM2\n"))
    assert net.n_edges == 2 and "MYC" in net.nodes


def test_non_numeric_weight_names_the_line(tmp_path):
    p = _write(tmp_path / "e.csv", "a,b,w\nMYC,MAX,0.9\nTP53,MDM2,high\n")
    with pytest.raises(DescriptorFormatError, match=r"lines \[3\].*'high'"):
        read_edge_list(p)
    q = _write(tmp_path / "n.csv", "MYC,MAX,0.9\nTP53,MDM2,-1\n")
    with pytest.raises(DescriptorFormatError, match="positive"):
        read_edge_list(q)


def test_only_self_loops_is_an_error(tmp_path):
    with pytest.raises(DescriptorFormatError, match="no edges between two different genes"):
        read_edge_list(_write(tmp_path / "e.csv", "MYC,MYC\nMAX,MAX\n"))


def test_rwr_matches_closed_form_inverse():
    rng = np.random.default_rng(0)
    A = np.roll(np.eye(8), 1, axis=1)  # a ring (no isolated node) plus random chords
    A = np.maximum(A, A.T) + np.triu(rng.random((8, 8)) < 0.3, 2) * rng.uniform(1, 3, (8, 8))
    A = np.maximum(A, A.T)
    import scipy.sparse as sp

    P = A / A.sum(0, keepdims=True)
    c = 0.5
    R_exact = c * np.linalg.inv(np.eye(8) - (1 - c) * P)
    seeds = np.array([0, 3, 5])
    R = _rwr(sp.csr_matrix(A), seeds, c, 1e-12)
    np.testing.assert_allclose(R, R_exact[:, seeds], atol=1e-9)


def test_mashup_embedding_matches_dense_recipe_and_is_cached(tmp_path):
    text = "MYC,MAX\nMAX,MXD1\nMXD1,MYC\nTP53,MDM2\nMDM2,CDKN1A\nMYC,TP53\n"
    p = _write(tmp_path / "e.csv", text)
    net = read_edge_list(p)
    genes = ["MYC", "TP53", "MDM2", "NOT_IN_NET_GENE", "MAX"]
    out = mashup_embedding(net, genes, dim=2)
    assert out.report.uncovered == ["NOT_IN_NET_GENE"] and out.features.shape == (5, 2)
    # brute force: dense RWR inverse, log, SVD over the covered genes (sorted order)
    A = net.adjacency.toarray()
    n = A.shape[0]
    R = 0.5 * np.linalg.inv(np.eye(n) - 0.5 * A / A.sum(0, keepdims=True))
    cov = sorted(["MYC", "TP53", "MDM2", "MAX"])
    Q = np.log(R[:, [net.nodes.index(g) for g in cov]] + 1.0 / n)
    _, S, Vt = np.linalg.svd(Q, full_matrices=False)
    emb = Vt[:2].T * np.sqrt(S[:2])
    emb = (emb - emb.mean(0)) / emb.std(0)
    for g in cov:
        row = out.features[genes.index(g)]
        ref = emb[cov.index(g)]
        assert np.allclose(np.abs(row), np.abs(ref), atol=1e-6)  # SVD signs are arbitrary
    cached = list((tmp_path / "cache").glob("mashup-*.npz"))
    assert len(cached) == 1
    again = mashup_embedding(net, genes, dim=2)
    np.testing.assert_array_equal(again.features, out.features)


def test_network_without_screen_genes_is_an_error(tmp_path):
    net = read_edge_list(_write(tmp_path / "e.csv", "9606.ENSP1,9606.ENSP2\n"))
    with pytest.raises(DescriptorFormatError, match="contains none of the 2 genes"):
        mashup_embedding(net, ["MYC", "TP53"])


def test_bundled_string_covers_norman_as_documented(norman):
    net = GeneNetwork.bundled_string()
    assert net.n_edges > 150_000 and net.notes["dropped_self_loops"] == 74
    out = mashup_embedding(net, norman.genes, dim=16)
    # data README: STRING covers ~82% of Norman genes; HOXA13 (a TF) is missing
    assert out.report.n_covered == 92
    assert "HOXA13" in out.report.uncovered

"""Tests for naiad_bo.descriptors.go: DAG propagation, TF-IDF and Jaccard kernels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from naiad_bo.descriptors import GOAnnotations, go_descriptor, jaccard_gram


@pytest.fixture()
def tiny_go():
    # root R; A, B children of R; C child of A and B (DAG, two paths)
    parents = pd.DataFrame({"go_id": ["A", "B", "C", "C"], "parent_go_id": ["R", "R", "A", "B"]})
    ann = pd.DataFrame({"symbol": ["MYC", "TP53", "KRAS", "EGFR"], "go_id": ["C", "A", "B", "R"]})
    return GOAnnotations(ann, parents)


def test_propagation_follows_every_path(tiny_go):
    assert tiny_go.ancestors("C") == {"C", "A", "B", "R"}
    prop = tiny_go.propagated()
    assert prop["TP53"] == {"A", "R"} and prop["EGFR"] == {"R"}


def test_jaccard_matches_brute_force(tiny_go):
    genes = ["MYC", "TP53", "KRAS", "EGFR"]
    K = jaccard_gram(genes, annotations=tiny_go, max_term_frac=1.0)
    prop = tiny_go.propagated()
    for i, g in enumerate(genes):
        for j, h in enumerate(genes):
            kept = {t for t in prop[g] | prop[h] if sum(t in prop[x] for x in genes) >= 2}
            inter = len(prop[g] & prop[h] & kept)
            union = len((prop[g] | prop[h]) & kept)
            ref = 1.0 if i == j else inter / union
            assert K[i, j] == pytest.approx(ref)
    assert np.linalg.eigvalsh(K).min() > -1e-12


def test_bundled_go_on_norman(norman):
    out = go_descriptor(norman.genes)
    assert out.report.coverage > 0.97  # data README: ~99-100% of every screen
    K = out.gram()
    np.testing.assert_allclose(np.diag(K), 1.0)
    i, j, k = (norman.genes.index(g) for g in ("CEBPA", "CEBPB", "KLF1"))
    assert K[i, j] > K[i, k]  # two C/EBP transcription factors share more terms

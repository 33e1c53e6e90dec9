"""Tests for naiad_bo.descriptors.alignment: symbol normalisation and the uncovered policy."""

from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.descriptors import DescriptorFormatError, GeneDescriptor, align, cosine_gram


def test_outdated_screen_symbols_match_current_descriptor_rows():
    # Horlbeck-style outdated names against a table keyed by current symbols
    desc = GeneDescriptor("t", ["SGO1", "CARS1", "MYC"], np.eye(3) + 0.1)
    out = align(desc, ["SGOL1", "CARS", "NOT_A_GENE_XYZ"], standardize=False)
    np.testing.assert_array_equal(out.covered, [True, True, False])
    np.testing.assert_array_equal(out.features[0], desc.values[0])
    np.testing.assert_array_equal(out.features[2], 0.0)
    assert out.report.renamed["SGOL1"] == "SGO1"
    assert out.report.uncovered == ["NOT_A_GENE_XYZ"] and out.report.n_covered == 2


def test_covering_none_of_the_genes_is_an_error():
    desc = GeneDescriptor("ids", ["ENSG0001", "ENSG0002"], np.eye(2))
    with pytest.raises(DescriptorFormatError, match="covers none of the screen's 2 genes"):
        align(desc, ["MYC", "TP53"])


def test_cosine_gram_identity_fallback_and_psd():
    rng = np.random.default_rng(1)
    F = rng.normal(size=(6, 4))
    covered = np.array([1, 1, 0, 1, 1, 0], bool)
    K = cosine_gram(F, covered)
    np.testing.assert_allclose(np.diag(K), 1.0)
    assert np.all(K[2, [0, 1, 3, 4, 5]] == 0) and np.all(K[:, 5][[0, 1, 2, 3, 4]] == 0)
    u = F[0] / np.linalg.norm(F[0])
    v = F[3] / np.linalg.norm(F[3])
    assert K[0, 3] == pytest.approx(u @ v)
    assert np.linalg.eigvalsh(K).min() > -1e-12


def test_standardize_drops_columns_constant_on_the_screen():
    desc = GeneDescriptor("t", ["MYC", "TP53", "KRAS"], np.array([[1.0, 2], [1, 3], [1, 4]]))
    out = align(desc, ["MYC", "TP53"])
    assert out.features.shape == (2, 1)
    assert out.report.notes["dropped_constant_on_screen_columns"] == 1
    np.testing.assert_allclose(out.features[:, 0], [-1, 1])

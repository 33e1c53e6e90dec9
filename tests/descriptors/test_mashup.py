"""Tests for naiad_bo.descriptors.mashup (GeneDisco vector-file format)."""

from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.descriptors import DescriptorFormatError, read_mashup_vectors


def test_dimension_major_and_gene_major_files(tmp_path):
    rng = np.random.default_rng(0)
    V = rng.normal(size=(5, 3))  # 5 dims x 3 genes, GeneDisco orientation
    (tmp_path / "genes.txt").write_text("MYC\nTP53\nKRAS\n")
    np.savetxt(tmp_path / "v.txt", V, delimiter="\t")
    d = read_mashup_vectors(tmp_path / "v.txt", tmp_path / "genes.txt")
    assert d.genes == ["MYC", "TP53", "KRAS"]
    np.testing.assert_allclose(d.values, V.T)
    np.savetxt(tmp_path / "w.txt", V.T, delimiter="\t")
    d2 = read_mashup_vectors(tmp_path / "w.txt", tmp_path / "genes.txt")
    np.testing.assert_allclose(d2.values, V.T)


def test_shape_mismatch_and_non_numeric(tmp_path):
    (tmp_path / "genes.txt").write_text("MYC\nTP53\n")
    np.savetxt(tmp_path / "v.txt", np.ones((4, 3)), delimiter="\t")
    with pytest.raises(DescriptorFormatError, match="matches neither axis"):
        read_mashup_vectors(tmp_path / "v.txt", tmp_path / "genes.txt")
    (tmp_path / "bad.txt").write_text("a\tb\nc\td\n")
    with pytest.raises(DescriptorFormatError, match="not a numeric Mashup matrix"):
        read_mashup_vectors(tmp_path / "bad.txt", tmp_path / "genes.txt")

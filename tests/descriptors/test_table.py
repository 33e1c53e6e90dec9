"""Tests for naiad_bo.descriptors.table: user tables and the bad-input policies."""

from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.descriptors import DescriptorFormatError, clean_table, read_table


def test_read_table_round_trip(tmp_path, norman):
    rng = np.random.default_rng(0)
    genes = norman.genes[:6]
    X = rng.normal(size=(6, 3))
    p = tmp_path / "feats.csv"
    p.write_text("gene,f1,f2,f3\n" + "".join(
        f"{g},{','.join(repr(float(v)) for v in row)}\n" for g, row in zip(genes, X)
    ))
    d = read_table(p)
    assert d.genes == genes and d.name == "feats"
    np.testing.assert_array_equal(d.values, X)


def test_nan_is_an_error_naming_gene_and_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("gene,f1,f2\nA,1,2\nB,,3\nC,1,1\n")
    with pytest.raises(DescriptorFormatError, match=r"'B' column 1"):
        read_table(p)


def test_duplicate_rows_are_an_error(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("gene,f1\nA,1\nB,2\nA,3\n")
    with pytest.raises(DescriptorFormatError, match=r"more than one row.*'A'"):
        read_table(p)


def test_constant_columns_and_zero_rows_are_dropped_and_counted():
    X = np.array([[0.0, 1.0, 5.0], [0.0, 2.0, 5.0], [0.0, 0.0, 5.0]])
    d = clean_table("t", ["A", "B", "C"], X)
    assert d.notes["dropped_constant_columns"] == 2  # the all-zero and the constant column
    assert d.n_features == 1
    assert d.genes == ["A", "B"] and d.notes["dropped_all_zero_genes"] == 1


def test_only_constant_features_is_an_error():
    with pytest.raises(DescriptorFormatError, match="every feature column is constant"):
        clean_table("t", ["A", "B"], np.zeros((2, 3)))


def test_unknown_format_edge_list_given_as_table(tmp_path):
    p = tmp_path / "edges.csv"
    p.write_text("A,B\nB,C\n")
    with pytest.raises(DescriptorFormatError, match="not numeric.*network:PATH"):
        read_table(p)
    q = tmp_path / "one_col.csv"
    q.write_text("just\none\ncolumn\n")
    with pytest.raises(DescriptorFormatError, match="at least two columns"):
        read_table(q)
    r = tmp_path / "binary.csv"
    r.write_bytes(b"\x00\xff\xfe\x00garbage")
    with pytest.raises(DescriptorFormatError):
        read_table(r)

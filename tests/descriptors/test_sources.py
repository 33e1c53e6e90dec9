"""Tests for naiad_bo.descriptors.sources: the spec grammar."""

from __future__ import annotations

from pathlib import Path

import pytest

from naiad_bo.descriptors import (
    DepMapSource,
    DescriptorFormatError,
    GOSource,
    NetworkSource,
    TableSource,
    load_descriptors,
    parse_descriptors,
)


def test_spec_grammar():
    assert parse_descriptors("string+go") == [NetworkSource(), GOSource()]
    assert parse_descriptors("network:/x/edges.csv+depmap") == [
        NetworkSource(Path("/x/edges.csv")), DepMapSource(None)
    ]
    assert parse_descriptors("table:/t.csv") == [TableSource(Path("/t.csv"))]
    assert parse_descriptors(None) == [] and parse_descriptors("") == []


@pytest.mark.parametrize("bad", ["strng", "network", "table:", "go:x", "mashup:onlyone"])
def test_unknown_spec_is_an_error(bad):
    with pytest.raises(DescriptorFormatError, match="unknown descriptor"):
        parse_descriptors(bad)


def test_table_source_detects_depmap_layout(tmp_path):
    p = tmp_path / "CRISPRGeneEffect.csv"
    p.write_text("ModelID,MYC (4609),TP53 (7157)\nACH-1,-1.0,0.5\nACH-2,-2.0,0.1\nACH-3,0,0\n")
    (out,) = load_descriptors(f"table:{p}", ["MYC", "TP53", "KRAS"])
    assert out.report.n_covered == 2 and out.report.uncovered == ["KRAS"]

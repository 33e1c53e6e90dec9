"""Tests for naiad_bo.descriptors.depmap on the real Chronos slice and the shipped loadings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from naiad_bo.descriptors import (
    DescriptorFormatError,
    align,
    bundled_depmap_loadings,
    read_depmap_gene_effect,
)

_CANDIDATES = [Path(__file__).resolve().parents[n] / "shared" / "data" for n in (3, 4)]
SLICE = "descriptors/depmap_chronos_sample_CRISPRGeneEffect.csv"


@pytest.fixture(scope="module")
def depmap_slice() -> Path:
    for base in _CANDIDATES:
        if (base / SLICE).exists():
            return base / SLICE
    pytest.skip("../shared/data DepMap slice not present")


def test_real_crispr_gene_effect_slice(depmap_slice):
    raw = pd.read_csv(depmap_slice)
    d = read_depmap_gene_effect(depmap_slice)
    assert d.notes["cell_lines"] == raw.shape[0] == 58
    assert d.n_features == 58 and len(d.genes) == 887 - d.notes["dropped_genes_mostly_missing"]
    col = next(c for c in raw.columns if c.startswith("AAAS ("))
    i = d.genes.index("AAAS")
    if not raw[col].isna().any():
        np.testing.assert_allclose(d.values[i], raw[col].to_numpy())


def test_missing_values_imputed_with_cell_line_mean_and_counted(tmp_path):
    p = tmp_path / "CRISPRGeneEffect.csv"
    p.write_text(
        "ModelID,MYC (4609),TP53 (7157),KRAS (3845),EGFR (1956)\n"
        "ACH-1,-1.0,0.5,,0.0\nACH-2,-2.0,,,-1.0\nACH-3,-1.5,0.1,-0.2,0.3\n"
    )
    d = read_depmap_gene_effect(p)
    assert d.genes == ["MYC", "TP53", "EGFR"]  # KRAS missing in 2/3 lines > 50%: dropped
    assert d.notes["dropped_genes_mostly_missing"] == 1 and d.notes["imputed_values"] == 1
    assert d.values[1, 1] == pytest.approx(-1.5)  # ACH-2 mean over the genes it has


def test_wrong_layout_is_an_error(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("gene,f1\nMYC,1\n")
    with pytest.raises(DescriptorFormatError, match="ModelID"):
        read_depmap_gene_effect(p)
    q = tmp_path / "y.csv"
    q.write_text("ModelID,MYC,TP53\nACH-1,1,2\n")
    with pytest.raises(DescriptorFormatError, match=r"SYMBOL \(ENTREZ\)"):
        read_depmap_gene_effect(q)


def test_shipped_loadings_cover_horlbeck_as_documented(horlbeck):
    d = bundled_depmap_loadings()
    assert len(d.genes) == 2732 and d.n_features == 50
    out = align(d, horlbeck.genes)
    assert 0.60 < out.report.coverage < 0.66  # data README: ~63% of Horlbeck genes

r"""DepMap (Achilles / Chronos) gene-effect descriptors.

Two sources:

* the official ``CRISPRGeneEffect.csv`` layout: rows are cell lines (first column
  ``ModelID``), columns are genes named ``SYMBOL (ENTREZ)``; each gene's descriptor is its
  effect profile across cell lines (GeneDisco's "Achilles" descriptor). Missing values are
  part of the format (a gene not screened in a line): a gene missing in more than
  ``max_missing`` of the lines is dropped, the remaining gaps are filled with that cell line's
  mean effect; both are counted in ``notes``.
* the shipped 50 principal-component loadings per gene of the DepMap 23Q2 gene-effect matrix
  (:func:`bundled_depmap_loadings`, 2,732 genes), a compressed form of the same information.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from naiad_bo.descriptors.table import DescriptorFormatError, GeneDescriptor, clean_table

__all__ = ["BUNDLED_DEPMAP", "bundled_depmap_loadings", "read_depmap_gene_effect"]

#: Shipped DepMap 23Q2 PCA gene loadings (columns ``symbol,PCA_0..PCA_49``).
BUNDLED_DEPMAP = "depmap_23q2_pca_gene_loadings.csv.gz"
_GENE_COL = re.compile(r"^\s*(\S+)\s*\((\d+)\)\s*$")


def read_depmap_gene_effect(
    path: str | Path, *, name: str = "depmap", max_missing: float = 0.5
) -> GeneDescriptor:
    """Read ``CRISPRGeneEffect.csv`` into a gene x cell-line table (policy in module docstring).

    Raises:
        FileNotFoundError: no file.
        DescriptorFormatError: first column is not ``ModelID`` or gene columns are not
            ``SYMBOL (ENTREZ)``, non-numeric effects.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"DepMap file not found: {path}")
    df = pd.read_csv(path, encoding="utf-8-sig")
    if df.shape[1] < 2 or str(df.columns[0]).strip() not in ("ModelID", "DepMap_ID", ""):
        raise DescriptorFormatError(
            f"{path}: not the DepMap CRISPRGeneEffect layout (first column should be ModelID, "
            f"got {str(df.columns[0])!r})"
        )
    cols = [str(c) for c in df.columns[1:]]
    bad = [c for c in cols if not _GENE_COL.match(c)]
    if bad:
        raise DescriptorFormatError(
            f"{path}: gene columns must be 'SYMBOL (ENTREZ)'; {len(bad)} are not, e.g. {bad[:3]}"
        )
    symbols = [_GENE_COL.match(c).group(1) for c in cols]
    vals = df.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    non_numeric = (vals.isna() & df.iloc[:, 1:].notna()).to_numpy()
    if non_numeric.any():
        r, c = np.argwhere(non_numeric)[0]
        raise DescriptorFormatError(
            f"{path}: non-numeric gene effect at row {r + 2}, column {cols[c]!r}"
        )
    X = vals.to_numpy(dtype=float).T  # genes x lines
    missing = np.isnan(X)
    frac = missing.mean(axis=1)
    drop = frac > max_missing
    X, missing = X[~drop], missing[~drop]
    symbols = [s for s, d in zip(symbols, drop) if not d]
    line_mean = np.nanmean(np.where(missing, np.nan, X), axis=0)
    line_mean = np.where(np.isfinite(line_mean), line_mean, 0.0)
    X = np.where(missing, line_mean[None, :], X)
    notes = {
        "cell_lines": int(df.shape[0]),
        "dropped_genes_mostly_missing": int(drop.sum()),
        "imputed_values": int(missing.sum()),
    }
    return clean_table(name, symbols, X, notes)


def bundled_depmap_loadings() -> GeneDescriptor:
    """DepMap 23Q2 CRISPR gene-effect PCA loadings (50 per gene), shipped in the package."""
    ref = resources.files("naiad_bo.descriptors") / "_files" / BUNDLED_DEPMAP
    with resources.as_file(ref) as p:
        df = pd.read_csv(p)
    return clean_table("depmap", df["symbol"].astype(str).tolist(), df.iloc[:, 1:].to_numpy())

"""Gene x feature descriptor tables: the common currency of every descriptor source.

A :class:`GeneDescriptor` is a dense table ``values`` (``G x d`` float64) with one row per gene
symbol. :func:`clean_table` is the one place where bad tables are rejected or repaired, with
every repair counted in ``GeneDescriptor.notes``:

* duplicate gene rows: an error naming the genes (two rows for one gene are ambiguous);
* NaN / infinite values: an error naming the first rows and columns (user tables); readers of
  sources where missing values are part of the format (DepMap) impute before calling it;
* constant (e.g. all-zero) feature columns: dropped (they carry no similarity), counted;
* all-zero gene rows: dropped (the gene is then *uncovered*, see
  :mod:`naiad_bo.descriptors.alignment`), counted;
* no feature left: an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DescriptorFormatError", "GeneDescriptor", "clean_table", "read_table"]


class DescriptorFormatError(ValueError):
    """A descriptor file or table is malformed (unknown layout, NaNs, duplicates, ...)."""


@dataclass
class GeneDescriptor:
    """Per-gene feature table.

    Attributes:
        name: short name of the source (``"string"``, ``"go"``, a file stem, ...).
        genes: ``G`` gene symbols (unique), row order of ``values``.
        values: ``G x d`` float64 feature matrix.
        notes: counts of every repair made while reading (dropped columns, imputed values, ...).
    """

    name: str
    genes: list[str]
    values: np.ndarray
    notes: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        """Number of feature columns d."""
        return int(self.values.shape[1])


def clean_table(
    name: str, genes: list[str], values: np.ndarray, notes: dict | None = None
) -> GeneDescriptor:
    """Validate and repair a ``G x d`` table (policy in the module docstring).

    Raises:
        DescriptorFormatError: duplicate genes, non-finite values, empty table or no
            non-constant feature.
    """
    notes = dict(notes or {})
    genes = [str(g).strip() for g in genes]
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != len(genes):
        raise DescriptorFormatError(
            f"{name}: {len(genes)} genes but a values table of shape {values.shape}"
        )
    if not genes or values.shape[1] == 0:
        raise DescriptorFormatError(f"{name}: the descriptor table is empty")
    dup = pd.Index(genes)[pd.Index(genes).duplicated()].unique().tolist()
    if dup:
        raise DescriptorFormatError(
            f"{name}: {len(dup)} genes have more than one row (e.g. {dup[:5]}); "
            "keep one row per gene"
        )
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        where = [f"{genes[r]!r} column {c + 1}" for r, c in zip(rows[:5], cols[:5])]
        raise DescriptorFormatError(
            f"{name}: {int(bad.sum())} missing or non-finite values (e.g. {', '.join(where)}); "
            "impute or drop them before use"
        )
    constant = np.ptp(values, axis=0) == 0
    if constant.all():
        raise DescriptorFormatError(
            f"{name}: every feature column is constant (e.g. all zero); nothing to compare genes by"
        )
    notes["dropped_constant_columns"] = int(constant.sum())
    values = values[:, ~constant]
    zero = ~values.any(axis=1)
    notes["dropped_all_zero_genes"] = int(zero.sum())
    keep = np.flatnonzero(~zero)
    return GeneDescriptor(name, [genes[i] for i in keep], values[keep], notes)


def read_table(path: str | Path, name: str | None = None) -> GeneDescriptor:
    """Read a user table ``gene,f1,f2,...`` (CSV, or TSV for ``.tsv``/``.txt``; gzip ok).

    The first column holds gene symbols, every other column must be numeric. A header row is
    required (its first cell is ignored).

    Raises:
        FileNotFoundError: no such file.
        DescriptorFormatError: fewer than two columns, non-numeric feature columns, NaNs,
            duplicate genes, only constant columns.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"descriptor table not found: {path}")
    stem = path.name[:-3] if path.name.endswith(".gz") else path.name
    sep = "\t" if stem.endswith((".tsv", ".txt", ".tab")) else ","
    try:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DescriptorFormatError(
            f"{path}: not a readable gene x feature table ({err})"
        ) from None
    if df.shape[1] < 2:
        raise DescriptorFormatError(
            f"{path}: expected a table 'gene,f1,f2,...' with at least two columns, got "
            f"{df.shape[1]} (wrong separator or unknown format?)"
        )
    feats = df.iloc[:, 1:].replace("", np.nan)
    numeric = feats.apply(pd.to_numeric, errors="coerce")
    non_numeric = (numeric.isna() & feats.notna()).any(axis=0)
    if non_numeric.any():
        cols = list(feats.columns[non_numeric.to_numpy()])
        raise DescriptorFormatError(
            f"{path}: feature columns {cols[:5]} are not numeric; a descriptor table is "
            "'gene,f1,f2,...' with numeric features (is this an edge list? use network:PATH)"
        )
    return clean_table(name or stem.split(".")[0], df.iloc[:, 0].tolist(), numeric.to_numpy())

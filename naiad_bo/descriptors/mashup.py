"""Mashup vector files in GeneDisco's format.

GeneDisco ships STRING Mashup embeddings as two tab-separated files: a matrix
(``string_human_mashup_vectors_d800.txt``: one row per *dimension*, one column per gene, no
header) and the gene list (``string_human_genes.txt``: one symbol per line, same order as the
matrix columns). A matrix stored gene-major (one row per gene) is accepted as well: the
orientation is decided by which axis matches the gene list's length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from naiad_bo.descriptors.table import DescriptorFormatError, GeneDescriptor, clean_table

__all__ = ["read_mashup_vectors"]


def read_mashup_vectors(
    vectors: str | Path, genes: str | Path, *, name: str = "mashup"
) -> GeneDescriptor:
    """Read a Mashup vector file and its gene list.

    Raises:
        FileNotFoundError: a file is missing.
        DescriptorFormatError: non-numeric matrix, neither axis matches the gene list, NaNs,
            duplicate genes.
    """
    vectors, genes = Path(vectors), Path(genes)
    for p in (vectors, genes):
        if not p.exists():
            raise FileNotFoundError(f"Mashup file not found: {p}")
    names = [
        line.strip().split("\t")[0]
        for line in genes.read_text(encoding="utf-8-sig").splitlines()
        if line.strip()
    ]
    try:
        mat = pd.read_csv(vectors, sep=r"\s+", header=None, engine="python").to_numpy()
        mat = mat.astype(np.float64)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DescriptorFormatError(f"{vectors}: not a numeric Mashup matrix ({err})") from None
    if mat.shape[1] == len(names):
        mat = mat.T
    elif mat.shape[0] != len(names):
        raise DescriptorFormatError(
            f"{vectors}: matrix of shape {mat.shape} matches neither axis of the "
            f"{len(names)} genes in {genes}"
        )
    return clean_table(name, names, mat)

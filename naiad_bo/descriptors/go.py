r"""Gene Ontology descriptors: annotations propagated up the term DAG.

Direct annotations (``symbol,go_id``; evidence ``ND`` "no biological data" excluded) are
propagated to every ancestor along ``is_a`` and ``part_of`` edges (the true-path rule). A gene
is then a binary vector over terms; :func:`go_descriptor` restricts it to terms that annotate
at least two and at most ``max_term_frac`` of the target genes (the others cannot make two
target genes similar, or make all of them similar), and weights terms by TF-IDF,

.. math::

    x_{g t} = \mathbb 1[g \in t] \, \log(N / n_t),

with ``N`` annotated genes in the genome and ``n_t`` genes annotated to ``t``. The cosine of
these vectors is the gene kernel; :func:`jaccard_gram` gives the Jaccard (Tanimoto) kernel of
the binary vectors instead, also PSD.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from naiad_bo.data.symbols import SymbolNormalizer
from naiad_bo.descriptors.alignment import AlignedDescriptor, align
from naiad_bo.descriptors.table import GeneDescriptor

__all__ = ["GOAnnotations", "go_descriptor", "jaccard_gram"]


class GOAnnotations:
    """Direct gene -> term annotations plus the term DAG.

    Args:
        annotations: DataFrame with columns ``symbol``, ``go_id``.
        parents: DataFrame with columns ``go_id``, ``parent_go_id`` (is_a / part_of edges).
    """

    def __init__(self, annotations: pd.DataFrame, parents: pd.DataFrame) -> None:
        for df, cols, what in ((annotations, ("symbol", "go_id"), "annotations"),
                               (parents, ("go_id", "parent_go_id"), "parents")):
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise ValueError(f"GO {what} table lacks columns {missing}")
        self.direct = annotations[["symbol", "go_id"]].astype(str).drop_duplicates()
        par: dict[str, list[str]] = {}
        for t, p in zip(parents["go_id"].astype(str), parents["parent_go_id"].astype(str)):
            par.setdefault(t, []).append(p)
        self._parents = par
        self._ancestors: dict[str, frozenset[str]] = {}

    @classmethod
    def bundled(cls) -> GOAnnotations:
        """NCBI Gene / GO 2022 annotations and DAG shipped in the package."""
        return _bundled()

    def ancestors(self, term: str) -> frozenset[str]:
        """``term`` and all its ancestors (memoised depth-first walk)."""
        got = self._ancestors.get(term)
        if got is not None:
            return got
        out = {term}
        stack = [term]
        while stack:
            for p in self._parents.get(stack.pop(), ()):
                if p not in out:
                    known = self._ancestors.get(p)
                    if known is not None:
                        out |= known
                    else:
                        out.add(p)
                        stack.append(p)
        res = frozenset(out)
        self._ancestors[term] = res
        return res

    def propagated(self, genes: Sequence[str] | None = None) -> dict[str, set[str]]:
        """Gene -> set of terms after propagation (all annotated genes if ``genes`` is None)."""
        df = self.direct if genes is None else self.direct[self.direct["symbol"].isin(set(genes))]
        out: dict[str, set[str]] = {}
        for g, t in zip(df["symbol"], df["go_id"]):
            out.setdefault(g, set()).update(self.ancestors(t))
        return out

    @property
    def n_genes(self) -> int:
        """Number of annotated genes in the genome."""
        return int(self.direct["symbol"].nunique())


@lru_cache(maxsize=1)
def _bundled() -> GOAnnotations:
    base = resources.files("naiad_bo.descriptors") / "_files"
    with resources.as_file(base / "go_annotations_2022-09.csv.gz") as a, resources.as_file(
        base / "go_parents_2022-07.csv.gz"
    ) as p:
        return GOAnnotations(pd.read_csv(a), pd.read_csv(p))


@lru_cache(maxsize=8)
def _term_counts(go: GOAnnotations) -> pd.Series:
    counts: dict[str, int] = {}
    for terms in go.propagated().values():
        for t in terms:
            counts[t] = counts.get(t, 0) + 1
    return pd.Series(counts)


def _binary(go: GOAnnotations, genes: list[str], max_term_frac: float):
    prop = go.propagated(genes)
    terms = sorted({t for g in genes for t in prop.get(g, ())})
    col = {t: j for j, t in enumerate(terms)}
    B = np.zeros((len(genes), len(terms)))
    for i, g in enumerate(genes):
        for t in prop.get(g, ()):
            B[i, col[t]] = 1.0
    n_t = B.sum(axis=0)
    keep = (n_t >= 2) & (n_t <= max_term_frac * len(genes))
    return B[:, keep], [t for t, k in zip(terms, keep) if k]


def go_descriptor(
    genes: Sequence[str],
    *,
    annotations: GOAnnotations | None = None,
    max_term_frac: float = 0.5,
    normalizer: SymbolNormalizer | None = None,
) -> AlignedDescriptor:
    """TF-IDF GO table of ``genes`` (index = gene id), aligned, with coverage report.

    Genes without annotations (or only with terms dropped by the frequency filter) are
    uncovered (identity fallback).
    """
    go = annotations or GOAnnotations.bundled()
    normalizer = normalizer or SymbolNormalizer.bundled()
    genes = [str(g) for g in genes]
    names = normalizer.normalize(genes).names
    B, terms = _binary(go, names, max_term_frac)
    idf = np.log(go.n_genes / _term_counts(go).reindex(terms).to_numpy(float))
    X = B * idf[None, :]
    has = X.any(axis=1)
    desc = GeneDescriptor(
        "go", [n for n, h in zip(names, has) if h], X[has],
        {"terms_used": len(terms), "annotated_genes_genome": go.n_genes},
    )
    return align(desc, names, normalizer=normalizer, standardize=False)


def jaccard_gram(
    genes: Sequence[str],
    *,
    annotations: GOAnnotations | None = None,
    max_term_frac: float = 0.5,
) -> np.ndarray:
    r"""Jaccard kernel ``|T_a \cap T_c| / |T_a \cup T_c|`` of propagated GO terms, ``M x M``.

    Genes without terms are similar only to themselves (diagonal 1).
    """
    go = annotations or GOAnnotations.bundled()
    names = SymbolNormalizer.bundled().normalize([str(g) for g in genes]).names
    B, _ = _binary(go, names, max_term_frac)
    inter = B @ B.T
    size = B.sum(axis=1)
    union = size[:, None] + size[None, :] - inter
    K = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    K[np.diag_indices_from(K)] = 1.0
    return K

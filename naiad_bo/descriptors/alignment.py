r"""Aligning a descriptor to a screen's genes, and the policy for genes it does not cover.

Both the screen's gene names and the descriptor's are mapped to current NCBI symbols with
:class:`naiad_bo.data.SymbolNormalizer` (SGOL1 -> SGO1, CARS -> CARS1, ...) and matched on the
result; a name the normaliser cannot resolve is matched as written.

**Uncovered-gene policy** (counted in :class:`CoverageReport`): a screen gene without a
descriptor row gets a zero feature row and ``covered = False``. In the gene Gram matrix
(:meth:`AlignedDescriptor.gram`) it is similar only to itself (``K[a, a] = 1``,
``K[a, c] = 0``), i.e. the kernel falls back to gene identity for it and its pairs are
predicted from the single-effect mean and the other kernel terms. A descriptor that covers
*none* of the screen's genes is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from naiad_bo.data.symbols import SymbolNormalizer
from naiad_bo.descriptors.table import DescriptorFormatError, GeneDescriptor

__all__ = ["AlignedDescriptor", "CoverageReport", "align", "cosine_gram"]


@dataclass
class CoverageReport:
    """How a descriptor covers a screen's genes.

    Attributes:
        name: descriptor name.
        n_genes: screen genes M.
        n_covered: genes with a descriptor row.
        uncovered: names of the genes without one (policy: identity row in the Gram matrix).
        renamed: screen or descriptor names matched after symbol normalisation.
        notes: the source's own repair counts (dropped columns, self-loops, imputed values).
    """

    name: str
    n_genes: int
    n_covered: int
    uncovered: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Fraction of screen genes covered."""
        return self.n_covered / self.n_genes if self.n_genes else 0.0

    def as_dict(self) -> dict:
        """JSON-friendly view."""
        return {**self.__dict__, "coverage": self.coverage}

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.n_covered}/{self.n_genes} genes covered ({self.coverage:.0%}); "
            f"{len(self.uncovered)} uncovered genes use the identity fallback"
        )


@dataclass
class AlignedDescriptor:
    """A descriptor table aligned to a screen's gene order.

    Attributes:
        name: descriptor name.
        features: ``M x d`` float64; zero rows for uncovered genes.
        covered: ``(M,)`` bool.
        report: :class:`CoverageReport`.
    """

    name: str
    features: np.ndarray
    covered: np.ndarray
    report: CoverageReport

    def gram(self) -> np.ndarray:
        """Cosine Gram ``M x M`` (unit diagonal, PSD) with the identity fallback for uncovered."""
        return cosine_gram(self.features, self.covered)


def cosine_gram(features: np.ndarray, covered: np.ndarray) -> np.ndarray:
    r"""``K[a, c] = <f_a, f_c> / (|f_a| |f_c|)`` on covered genes, identity elsewhere.

    Rows with zero norm are treated as uncovered. The result is PSD with unit diagonal.
    """
    f = np.asarray(features, dtype=np.float64)
    norm = np.linalg.norm(f, axis=1)
    ok = np.asarray(covered, bool) & (norm > 0)
    u = np.zeros_like(f)
    u[ok] = f[ok] / norm[ok, None]
    K = u @ u.T
    K[~ok, :] = 0.0
    K[:, ~ok] = 0.0
    K[np.diag_indices_from(K)] = 1.0
    return K


def _normalized(names: Sequence[str], normalizer: SymbolNormalizer) -> tuple[list[str], dict]:
    res = normalizer.normalize(names)
    return res.names, res.renamed


def align(
    descriptor: GeneDescriptor,
    genes: Sequence[str],
    *,
    normalizer: SymbolNormalizer | None = None,
    standardize: bool = True,
) -> AlignedDescriptor:
    """Rows of ``descriptor`` in the order of ``genes``, with the uncovered-gene policy.

    Args:
        descriptor: the source table.
        genes: the screen's M gene names (index = gene id).
        normalizer: symbol normaliser (default: the bundled NCBI table).
        standardize: z-score each feature over the covered screen genes (recommended for
            embeddings and loadings; GO TF-IDF tables pass False).

    Raises:
        DescriptorFormatError: no screen gene is covered.
    """
    normalizer = normalizer or SymbolNormalizer.bundled()
    genes = [str(g) for g in genes]
    screen_norm, screen_renamed = _normalized(genes, normalizer)
    desc_norm, desc_renamed = _normalized(descriptor.genes, normalizer)
    row_of: dict[str, int] = {}
    for i, (raw, norm) in enumerate(zip(descriptor.genes, desc_norm)):
        row_of.setdefault(norm, i)
        row_of.setdefault(raw, i)
    rows = np.array([row_of.get(n, row_of.get(g, -1)) for g, n in zip(genes, screen_norm)])
    covered = rows >= 0
    if not covered.any():
        raise DescriptorFormatError(
            f"descriptor {descriptor.name!r} covers none of the screen's {len(genes)} genes "
            f"(screen genes e.g. {genes[:5]}, descriptor genes e.g. {descriptor.genes[:5]}); "
            "wrong species, identifier type (Entrez / Ensembl instead of symbols) or file?"
        )
    feats = np.zeros((len(genes), descriptor.n_features))
    feats[covered] = descriptor.values[rows[covered]]
    notes = dict(descriptor.notes)
    if standardize and covered.sum() > 1:
        sub = feats[covered]
        sd = sub.std(axis=0)
        keep = sd > 0
        notes["dropped_constant_on_screen_columns"] = int((~keep).sum())
        if not keep.any():
            raise DescriptorFormatError(
                f"descriptor {descriptor.name!r}: every feature is constant on the screen's "
                f"{int(covered.sum())} covered genes"
            )
        feats = feats[:, keep]
        feats[covered] = (sub[:, keep] - sub[:, keep].mean(0)) / sd[keep]
    used = {descriptor.genes[r] for r in rows[covered]}
    renamed = {g: n for g, n in screen_renamed.items() if n in row_of}
    renamed.update({g: n for g, n in desc_renamed.items() if g in used})
    report = CoverageReport(
        name=descriptor.name,
        n_genes=len(genes),
        n_covered=int(covered.sum()),
        uncovered=[g for g, c in zip(genes, covered) if not c],
        renamed=renamed,
        notes=notes,
    )
    return AlignedDescriptor(descriptor.name, feats, covered, report)

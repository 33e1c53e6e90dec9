"""Descriptor sources and the descriptor spec grammar.

A source turns a screen's gene list into an :class:`~naiad_bo.descriptors.AlignedDescriptor`.
Spec strings name sources, joined with ``+`` (the part after ``gp:`` in a surrogate spec):

==================  ====================================================================
``string``          shipped STRING v11.5 score >= 800 network, Mashup embedding
``network:PATH``    a user's edge list (``gene1,gene2[,weight]``), Mashup embedding
``go``              shipped GO annotations propagated up the DAG, TF-IDF
``depmap``          shipped DepMap 23Q2 PCA gene loadings
``depmap:PATH``     a ``CRISPRGeneEffect.csv`` file (rows ModelID, columns ``SYMBOL (ENTREZ)``)
``table:PATH``      a user table ``gene,f1,f2,...``
``mashup:V,G``      GeneDisco Mashup vectors file ``V`` and gene list ``G``
==================  ====================================================================

e.g. ``string+go``, ``network:/data/biogrid.csv+depmap``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from naiad_bo.descriptors.alignment import AlignedDescriptor, align
from naiad_bo.descriptors.depmap import bundled_depmap_loadings, read_depmap_gene_effect
from naiad_bo.descriptors.go import go_descriptor
from naiad_bo.descriptors.mashup import read_mashup_vectors
from naiad_bo.descriptors.network import GeneNetwork, mashup_embedding, read_edge_list
from naiad_bo.descriptors.table import DescriptorFormatError, read_table

__all__ = [
    "DepMapSource",
    "DescriptorSource",
    "GOSource",
    "MashupSource",
    "NetworkSource",
    "TableSource",
    "load_descriptors",
    "parse_descriptors",
]


class DescriptorSource:
    """Base class: ``align(genes) -> AlignedDescriptor``."""

    name: str = "descriptor"

    def align(self, genes: Sequence[str]) -> AlignedDescriptor:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class NetworkSource(DescriptorSource):
    """Mashup embedding of a network (``path=None``: the shipped STRING network)."""

    path: Path | None = None
    dim: int = 64

    @property
    def name(self) -> str:
        return "string" if self.path is None else f"network:{self.path}"

    def align(self, genes: Sequence[str]) -> AlignedDescriptor:
        net = GeneNetwork.bundled_string() if self.path is None else read_edge_list(self.path)
        out = mashup_embedding(net, genes, dim=self.dim)
        out.name = out.report.name = self.name
        return out


@dataclass(frozen=True)
class GOSource(DescriptorSource):
    """Shipped GO annotations, TF-IDF after propagation."""

    name: str = "go"

    def align(self, genes: Sequence[str]) -> AlignedDescriptor:
        return go_descriptor(genes)


@dataclass(frozen=True)
class DepMapSource(DescriptorSource):
    """DepMap gene effects (``path=None``: the shipped PCA loadings)."""

    path: Path | None = None

    @property
    def name(self) -> str:
        return "depmap" if self.path is None else f"depmap:{self.path}"

    def align(self, genes: Sequence[str]) -> AlignedDescriptor:
        desc = bundled_depmap_loadings() if self.path is None else read_depmap_gene_effect(
            self.path
        )
        desc.name = self.name
        return align(desc, genes)


@dataclass(frozen=True)
class TableSource(DescriptorSource):
    """A user's ``gene,f1,f2,...`` table (a DepMap ``CRISPRGeneEffect.csv`` is detected)."""

    path: Path

    @property
    def name(self) -> str:
        return f"table:{self.path}"

    def align(self, genes: Sequence[str]) -> AlignedDescriptor:
        path = Path(self.path)
        try:
            first = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
        except Exception:  # noqa: BLE001 - reported by read_table below
            first = []
        if len(first) and str(first[0]).strip() == "ModelID":
            desc = read_depmap_gene_effect(path)
        else:
            desc = read_table(path)
        desc.name = self.name
        return align(desc, genes)


@dataclass(frozen=True)
class MashupSource(DescriptorSource):
    """GeneDisco-format Mashup vectors + gene list."""

    vectors: Path
    genes: Path

    @property
    def name(self) -> str:
        return f"mashup:{self.vectors}"

    def align(self, genes: Sequence[str]) -> AlignedDescriptor:
        desc = read_mashup_vectors(self.vectors, self.genes, name=self.name)
        return align(desc, genes)


_KINDS = "string, go, depmap, depmap:PATH, network:PATH, table:PATH, mashup:VECTORS,GENES"


def parse_descriptors(spec: str | Sequence[DescriptorSource] | None) -> list[DescriptorSource]:
    """Parse ``"string+go"``-style specs (grammar in the module docstring).

    ``None`` or ``""`` gives no descriptors; a list of sources is returned as is.

    Raises:
        DescriptorFormatError: an unknown kind, a kind that needs a path without one.
    """
    if spec is None:
        return []
    if not isinstance(spec, str):
        return list(spec)
    out: list[DescriptorSource] = []
    for part in (p.strip() for p in spec.split("+")):
        if not part:
            continue
        kind, sep, arg = part.partition(":")
        kind = kind.strip().lower()
        if kind == "string" and not sep:
            out.append(NetworkSource())
        elif kind == "go" and not sep:
            out.append(GOSource())
        elif kind == "depmap":
            out.append(DepMapSource(Path(arg) if arg else None))
        elif kind in ("network", "table") and arg:
            out.append(NetworkSource(Path(arg)) if kind == "network" else TableSource(Path(arg)))
        elif kind == "mashup" and arg.count(",") == 1:
            v, g = arg.split(",")
            out.append(MashupSource(Path(v), Path(g)))
        else:
            raise DescriptorFormatError(
                f"unknown descriptor {part!r} in {spec!r}; use one or more of {_KINDS}, "
                "joined with '+'"
            )
    return out


_ALIGNED: dict[tuple, AlignedDescriptor] = {}


def load_descriptors(
    spec: str | Sequence[DescriptorSource] | None,
    genes: Sequence[str],
    *,
    reuse: bool = True,
) -> list[AlignedDescriptor]:
    """Parse ``spec`` and align every source to ``genes``.

    With ``reuse`` an alignment already computed in this process for the same source and
    gene list is returned again (treat the result as read-only); file sources are keyed by
    path and modification time.
    """
    out = []
    genes = tuple(str(g) for g in genes)
    for src in parse_descriptors(spec):
        paths = [p for p in vars(src).values() if isinstance(p, Path)]
        stamp = tuple((str(p), p.stat().st_mtime_ns if p.exists() else None) for p in paths)
        key = (src, stamp, genes)
        if reuse and key in _ALIGNED:
            out.append(_ALIGNED[key])
            continue
        aligned = src.align(genes)
        if reuse:
            _ALIGNED[key] = aligned
        out.append(aligned)
    return out

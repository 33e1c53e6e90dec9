"""Gene descriptors (STRING / network Mashup embeddings, GO, DepMap, user tables) for GP kernels.

Every source yields an :class:`AlignedDescriptor` (``M x d`` features in a screen's gene order,
a ``covered`` mask and a :class:`CoverageReport`) whose :meth:`~AlignedDescriptor.gram` is the
gene kernel used by :mod:`naiad_bo.kernels`. Shipped data and citations:
``naiad_bo/descriptors/_files/PROVENANCE.md``.
"""

from naiad_bo.descriptors.alignment import AlignedDescriptor, CoverageReport, align, cosine_gram
from naiad_bo.descriptors.cache import CACHE_ENV, cache_dir
from naiad_bo.descriptors.depmap import bundled_depmap_loadings, read_depmap_gene_effect
from naiad_bo.descriptors.go import GOAnnotations, go_descriptor, jaccard_gram
from naiad_bo.descriptors.mashup import read_mashup_vectors
from naiad_bo.descriptors.network import GeneNetwork, mashup_embedding, read_edge_list
from naiad_bo.descriptors.sources import (
    DepMapSource,
    DescriptorSource,
    GOSource,
    MashupSource,
    NetworkSource,
    TableSource,
    load_descriptors,
    parse_descriptors,
)
from naiad_bo.descriptors.table import (
    DescriptorFormatError,
    GeneDescriptor,
    clean_table,
    read_table,
)

__all__ = [
    "CACHE_ENV",
    "AlignedDescriptor",
    "CoverageReport",
    "DepMapSource",
    "DescriptorFormatError",
    "DescriptorSource",
    "GOAnnotations",
    "GOSource",
    "GeneDescriptor",
    "GeneNetwork",
    "MashupSource",
    "NetworkSource",
    "TableSource",
    "align",
    "bundled_depmap_loadings",
    "cache_dir",
    "clean_table",
    "cosine_gram",
    "go_descriptor",
    "jaccard_gram",
    "load_descriptors",
    "mashup_embedding",
    "parse_descriptors",
    "read_depmap_gene_effect",
    "read_edge_list",
    "read_mashup_vectors",
    "read_table",
]

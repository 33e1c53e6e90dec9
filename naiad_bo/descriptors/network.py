r"""Gene networks (STRING, BioGRID, a user's edge list) to Mashup-style gene embeddings.

Edge-list format: a CSV (TSV / whitespace for ``.tsv`` / ``.txt``; gzip ok) whose first two
columns are gene symbols and an optional third column a positive numeric weight; the header
row is optional (detected). Self-loops are dropped and counted; an edge listed twice (either
orientation) keeps its largest weight, counted; a non-numeric or non-positive weight is an
error naming the line.

Embedding (Mashup, Cho et al. 2016, single network): the column-normalised adjacency
``P = A D^{-1}``, the random walk with restart from each gene ``s``,

.. math::

    r_s = c\,(I - (1 - c) P)^{-1} e_s, \qquad c = 0.5,

computed by fixed-point iteration ``r <- (1-c) P r + c e_s``; the diffusion states
``Q = \log(R + 1/n)`` (``n`` network nodes), and a truncated SVD ``Q = U S V'`` whose gene
vectors are ``V_k S_k^{1/2}``. We compute diffusion states only for the genes being aligned
(the screen's genes in the network, over all ``n`` nodes of the network), so the SVD runs on
an ``n x m`` matrix rather than ``n x n``: the states are Mashup's, the low-rank basis is fitted
to the genes of interest. Results are cached on disk (:func:`naiad_bo.descriptors.cache_dir`),
keyed by the edge list's content, the genes and the parameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from naiad_bo.data.symbols import SymbolNormalizer
from naiad_bo.descriptors.alignment import AlignedDescriptor, align
from naiad_bo.descriptors.cache import cache_dir
from naiad_bo.descriptors.table import DescriptorFormatError, GeneDescriptor

__all__ = ["BUNDLED_STRING", "GeneNetwork", "mashup_embedding", "read_edge_list"]

#: The shipped STRING v11.5 human network (combined score >= 800), symbols only.
BUNDLED_STRING = "string_v11.5_score800_edges.csv.gz"
_HEADER_WORDS = {
    "name1", "name2", "gene1", "gene2", "symbol1", "symbol2", "protein1", "protein2", "source",
    "target", "from", "to", "id1", "id2", "genea", "geneb", "gene_a", "gene_b", "node1", "node2",
    "interactor_a", "interactor_b",
}


@dataclass
class GeneNetwork:
    """An undirected weighted gene network.

    Attributes:
        name: source name.
        nodes: ``n`` gene symbols.
        adjacency: ``n x n`` symmetric scipy CSR matrix of positive weights, zero diagonal.
        digest: content hash of the edge list (cache key).
        notes: counts of self-loops and duplicate edges dropped.
    """

    name: str
    nodes: list[str]
    adjacency: sp.csr_matrix
    digest: str
    notes: dict = field(default_factory=dict)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(self.adjacency.nnz // 2)

    @classmethod
    def bundled_string(cls) -> GeneNetwork:
        """The shipped STRING v11.5 score >= 800 network (see the descriptors PROVENANCE.md)."""
        ref = resources.files("naiad_bo.descriptors") / "_files" / BUNDLED_STRING
        with resources.as_file(ref) as p:
            return read_edge_list(p, name="string")


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def read_edge_list(
    path: str | Path, *, name: str | None = None, normalizer: SymbolNormalizer | None = None
) -> GeneNetwork:
    """Read an edge list (format in the module docstring) into a :class:`GeneNetwork`.

    Args:
        path: the file.
        name: network name (default: file stem).
        normalizer: map node symbols to current ones (default: the bundled NCBI table), so a
            network with outdated symbols still matches a screen.

    Raises:
        FileNotFoundError: no file.
        DescriptorFormatError: fewer than two columns, a non-numeric / non-positive weight, no
            edge left after dropping self-loops.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"network file not found: {path}")
    stem = path.name[:-3] if path.name.endswith(".gz") else path.name
    sep = r"\s+" if stem.endswith((".txt", ".tsv", ".tab")) else ","
    try:
        df = pd.read_csv(path, sep=sep, header=None, dtype=str, keep_default_na=False,
                         encoding="utf-8-sig", engine="python" if sep != "," else "c")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DescriptorFormatError(f"{path}: not a readable edge list ({err})") from None
    if df.shape[1] < 2 or df.empty:
        raise DescriptorFormatError(
            f"{path}: an edge list needs two gene columns (and optionally a weight), got "
            f"{df.shape[1]} column(s); wrong separator or unknown format?"
        )
    first = [str(v).strip() for v in df.iloc[0]]
    has_header = (df.shape[1] >= 3 and not _is_number(first[2])) or (
        first[0].lower() in _HEADER_WORDS and first[1].lower() in _HEADER_WORDS
    )
    line0 = 2 if has_header else 1
    if has_header:
        df = df.iloc[1:].reset_index(drop=True)
    a = df.iloc[:, 0].astype(str).str.strip().to_numpy()
    b = df.iloc[:, 1].astype(str).str.strip().to_numpy()
    if df.shape[1] >= 3:
        w = pd.to_numeric(df.iloc[:, 2], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(w) | (w <= 0))
        if bad.size:
            lines = [int(i) + line0 for i in bad[:5]]
            vals = [df.iloc[i, 2] for i in bad[:5]]
            raise DescriptorFormatError(
                f"{path}: the weight column (3rd) must be positive numbers; {bad.size} bad "
                f"value(s), e.g. lines {lines}: {vals}"
            )
    else:
        w = np.ones(len(df))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    normalizer = normalizer or SymbolNormalizer.bundled()
    raw_nodes = sorted(set(a) | set(b))
    mapped = dict(zip(raw_nodes, normalizer.normalize(raw_nodes).names))
    a = np.array([mapped[x] for x in a])
    b = np.array([mapped[x] for x in b])
    loops = a == b
    notes = {"n_rows": int(len(df)), "dropped_self_loops": int(loops.sum())}
    a, b, w = a[~loops], b[~loops], w[~loops]
    if a.size == 0:
        raise DescriptorFormatError(f"{path}: no edges between two different genes")
    nodes = sorted(set(a) | set(b))
    idx = {g: i for i, g in enumerate(nodes)}
    ia = np.array([idx[x] for x in a])
    ib = np.array([idx[x] for x in b])
    lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
    edges = pd.DataFrame({"lo": lo, "hi": hi, "w": w}).groupby(["lo", "hi"], sort=True)["w"].max()
    notes["merged_duplicate_edges"] = int(len(lo) - len(edges))
    lo = edges.index.get_level_values(0).to_numpy()
    hi = edges.index.get_level_values(1).to_numpy()
    n = len(nodes)
    adj = sp.coo_matrix(
        (np.r_[edges.to_numpy(), edges.to_numpy()], (np.r_[lo, hi], np.r_[hi, lo])), shape=(n, n)
    ).tocsr()
    return GeneNetwork(name or stem.split(".")[0], nodes, adj, digest, notes)


def _rwr(adjacency: sp.csr_matrix, seeds: np.ndarray, restart: float, tol: float) -> np.ndarray:
    """``n x m`` random-walk-with-restart distributions from each seed node."""
    deg = np.asarray(adjacency.sum(axis=0)).ravel()
    P = (adjacency @ sp.diags(1.0 / deg)).tocsr()  # column-stochastic
    n, m = adjacency.shape[0], seeds.size
    E = np.zeros((n, m))
    E[seeds, np.arange(m)] = 1.0
    R = E.copy()
    for _ in range(1000):
        R_new = (1.0 - restart) * (P @ R) + restart * E
        if np.abs(R_new - R).max() < tol:
            return R_new
        R = R_new
    return R


def mashup_embedding(
    network: GeneNetwork,
    genes: Sequence[str],
    *,
    dim: int = 64,
    restart: float = 0.5,
    tol: float = 1e-8,
    use_cache: bool = True,
    normalizer: SymbolNormalizer | None = None,
) -> AlignedDescriptor:
    """Mashup embedding of ``genes`` in ``network``, aligned to ``genes`` (cached on disk).

    Args:
        network: the gene network.
        genes: the screen's gene names (index = gene id); matched after symbol normalisation.
        dim: embedding dimension (capped at the number of covered genes minus one).
        restart: restart probability ``c`` of the random walk (Mashup: 0.5).
        tol: max-abs convergence tolerance of the fixed-point iteration.
        use_cache: read / write the cache directory.
        normalizer: symbol normaliser (default: bundled).

    Returns:
        :class:`AlignedDescriptor` with ``M x k`` features (z-scored over covered genes) and
        the coverage report (uncovered genes: identity fallback).

    Raises:
        DescriptorFormatError: the network contains none of the genes.
        ValueError: bad ``dim`` / ``restart``.
    """
    if not 0.0 < restart < 1.0:
        raise ValueError(f"restart must be in (0, 1), got {restart!r}")
    if int(dim) < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    normalizer = normalizer or SymbolNormalizer.bundled()
    genes = [str(g) for g in genes]
    names = normalizer.normalize(genes).names
    node_idx = {g: i for i, g in enumerate(network.nodes)}
    in_net = sorted({n for n in names if n in node_idx} | {g for g in genes if g in node_idx})
    if not in_net:
        raise DescriptorFormatError(
            f"network {network.name!r} ({len(network.nodes)} nodes) contains none of the "
            f"{len(genes)} genes (e.g. {genes[:5]}; network nodes e.g. {network.nodes[:5]})"
        )
    k = max(1, min(int(dim), len(in_net) - 1))
    key = hashlib.sha256(
        f"{network.digest}|{restart}|{k}|{tol}|{','.join(in_net)}".encode()
    ).hexdigest()[:20]
    path = cache_dir() / f"mashup-{network.name}-{key}.npz"
    if use_cache and path.exists():
        emb = np.load(path)["embedding"]
    else:
        seeds = np.array([node_idx[g] for g in in_net])
        R = _rwr(network.adjacency, seeds, restart, tol)
        Q = np.log(R + 1.0 / R.shape[0])
        _, S, Vt = np.linalg.svd(Q, full_matrices=False)
        emb = Vt[:k].T * np.sqrt(S[:k])
        if use_cache:
            np.savez_compressed(path, embedding=emb, genes=np.array(in_net))
    desc = GeneDescriptor(
        network.name, in_net, emb,
        {**network.notes, "network_nodes": len(network.nodes), "network_edges": network.n_edges,
         "embedding_dim": k},
    )
    return align(desc, genes, normalizer=normalizer)

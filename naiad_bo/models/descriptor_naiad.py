r"""NAIAD with gene embeddings initialised from gene descriptors (the issue-10 hybrid).

:class:`DescriptorNaiadEnsemble` is :class:`~naiad_bo.models.NaiadEnsemble` whose learnable
gene embeddings ``X`` (``M x p`` per member) start from a principal-component projection of
gene descriptors instead of ``N(0, 1)``:

.. math::

    Z = [\,F_1 / \sqrt{\operatorname{tr} \Sigma_1}, \dots, F_k / \sqrt{\operatorname{tr}
    \Sigma_k}\,], \qquad Z - \bar Z = U S V^\top, \qquad
    X^{(0)}_{g, :} = \frac{(U S)_{g, :p}}{\sqrt{\operatorname{mean}((U S)_{:, :p}^2)}}

over the genes covered by at least one descriptor: each aligned descriptor table ``F_j``
(:func:`naiad_bo.descriptors.load_descriptors`, the same alignment and coverage report as
:class:`~naiad_bo.models.DescriptorGP`) is centred on its covered genes and scaled to unit
total variance so that every source weighs the same, the tables are concatenated, and the top
``p`` principal-component scores are rescaled to the default initialisation's mean square (1).
Every member starts from the same descriptor embedding (members still differ in every other
weight). **Policy for missing information** (all counted in :attr:`coverage`):

* a gene no descriptor covers keeps NAIAD's random ``N(0, 1)`` row (the very same draws as
  plain ``naiad`` with that seed);
* a gene missing from some but not all sources gets the mean (zero) of those blocks;
* embedding columns beyond the descriptor rank keep their random initialisation.

With ``embedding_init=None`` the model is plain NAIAD, bit for bit.
Registered as ``naiad-desc`` (``naiad-desc:string+go`` in every command taking a surrogate).
``benchmarks/hybrid.py`` measures it against NAIAD; see ``benchmarks/README.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from naiad_bo.descriptors.alignment import AlignedDescriptor, CoverageReport
from naiad_bo.descriptors.sources import load_descriptors
from naiad_bo.models.ensemble_config import EnsembleConfig
from naiad_bo.models.naiad import NaiadConfig, NaiadEnsemble
from naiad_bo.models.pair_ensemble import PairTrainingData

__all__ = ["DescriptorNaiadConfig", "DescriptorNaiadEnsemble", "descriptor_embedding"]


def descriptor_embedding(
    descriptors: Sequence[AlignedDescriptor], dim: int
) -> tuple[np.ndarray, np.ndarray]:
    r"""Top-``dim`` principal-component scores of the concatenated descriptors (module formula).

    Args:
        descriptors: aligned descriptors (``M x d_j`` features, ``covered`` masks).
        dim: wanted embedding size ``p``.

    Returns:
        ``(scores (M, k), covered (M,))`` with ``k = min(dim, rank)``; rows of genes no
        descriptor covers are zero and ``covered`` is False there; the covered rows have mean
        square 1 over the ``k`` columns.

    Raises:
        ValueError: no descriptors, or descriptors for different gene counts.
    """
    if not descriptors:
        raise ValueError("descriptor_embedding needs at least one descriptor")
    m = descriptors[0].features.shape[0]
    if any(d.features.shape[0] != m for d in descriptors):
        raise ValueError("descriptors are aligned to different gene lists")
    covered = np.zeros(m, dtype=bool)
    blocks = []
    for d in descriptors:
        f = np.asarray(d.features, dtype=np.float64)
        cov = np.asarray(d.covered, dtype=bool)
        block = np.zeros_like(f)
        if cov.any():
            sub = f[cov] - f[cov].mean(axis=0)
            total = float((sub**2).sum(axis=1).mean())
            if total > 0:
                block[cov] = sub / np.sqrt(total)
                covered |= cov
        blocks.append(block)
    z = np.concatenate(blocks, axis=1)[covered]
    z = z - z.mean(axis=0)
    scores = np.zeros((m, 0))
    if z.shape[0] > 1:
        u, s, _ = np.linalg.svd(z, full_matrices=False)
        rank = int((s > s[0] * 1e-10).sum()) if s.size and s[0] > 0 else 0
        k = min(int(dim), rank)
        top = u[:, :k] * s[:k]
        if k:
            top = top / np.sqrt(np.mean(top**2))
        scores = np.zeros((m, k))
        scores[covered] = top
    return scores, covered


@dataclass(frozen=True)
class DescriptorNaiadConfig(NaiadConfig):
    """:class:`~naiad_bo.models.NaiadConfig` plus the descriptor initialisation.

    Attributes:
        embedding_init: Descriptor spec (``"string"``, ``"go"``, ``"depmap"``,
            ``"string+go"``, ``"network:PATH"``, ``"table:PATH"``; see
            :mod:`naiad_bo.descriptors.sources`) whose principal components initialise the
            gene embeddings; None = NAIAD's random initialisation (plain NAIAD).
    """

    embedding_init: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.embedding_init is not None and (
            not isinstance(self.embedding_init, str) or not self.embedding_init.strip()
        ):
            raise ValueError(
                f"embedding_init must be a descriptor spec string or None, got "
                f"{self.embedding_init!r}"
            )


class DescriptorNaiadEnsemble(NaiadEnsemble):
    r"""NAIAD whose gene embeddings start from a descriptor PCA (module docstring).

    Example:
        >>> model = DescriptorNaiadEnsemble(screen.single_effects, genes=screen.genes,
        ...                                 embedding_init="string+go", seed=0)
        >>> model.fit(train_X, train_Y).posterior(X.unsqueeze(-2)).mean

    Args:
        single_effects: as :class:`~naiad_bo.models.NaiadEnsemble`.
        *args: ``train_X, train_Y, train_Yvar`` as there.
        genes: the screen's ``M`` gene names (needed to align ``embedding_init``).
        **kwargs: :class:`DescriptorNaiadConfig` fields and the base keywords.

    ``save`` / ``state`` are not supported (the descriptors would have to be stored with the
    model); refit from the spec instead.
    """

    config_class: ClassVar[type[EnsembleConfig]] = DescriptorNaiadConfig
    spec_argument: ClassVar[str] = "embedding_init"
    requires_genes: ClassVar[bool] = True

    def __init__(self, single_effects: Any, *args: Any, genes: Sequence[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(single_effects, *args, **kwargs)
        if genes is not None and len(genes) != self.n_genes:
            raise ValueError(
                f"genes has {len(genes)} names but single_effects has {self.n_genes} values"
            )
        self.genes = None if genes is None else tuple(str(g) for g in genes)
        spec = self.config.embedding_init
        if spec is None:
            self.descriptors: list[AlignedDescriptor] = []
        elif self.genes is None:
            raise ValueError(
                f"DescriptorNaiadEnsemble needs genes=... (the screen's gene names) to align "
                f"embedding_init={spec!r}"
            )
        else:
            self.descriptors = load_descriptors(spec, self.genes)

    @property
    def coverage(self) -> list[CoverageReport]:
        """Coverage report of each descriptor of ``embedding_init``."""
        return [d.report for d in self.descriptors]

    def _build_network(self, data: PairTrainingData, generator: torch.Generator) -> nn.Module:
        net = super()._build_network(data, generator)  # same random draws as plain NAIAD
        if not self.descriptors or not net.embed_dim:
            self.embedding_init_ = None
            return net
        scores, covered = descriptor_embedding(self.descriptors, net.embed_dim)
        k = scores.shape[1]
        init = torch.from_numpy(scores[covered]).to(net.emb)
        rows = torch.from_numpy(np.flatnonzero(covered))
        with torch.no_grad():
            net.emb[:, rows[:, None], torch.arange(k)] = init
        self.embedding_init_ = {"genes_initialised": int(covered.sum()), "columns": k,
                                "embed_dim": int(net.embed_dim)}
        return net

    def state(self) -> dict[str, Any]:
        """Not supported for the descriptor-initialised model (see class docstring)."""
        raise NotImplementedError(
            "DescriptorNaiadEnsemble cannot be saved (its descriptors are not part of the "
            "state); refit it from its spec, or save a plain NaiadEnsemble"
        )

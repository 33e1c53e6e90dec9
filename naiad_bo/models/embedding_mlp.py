r"""Embedding-only MLP baseline (NAIAD paper appendix B, the "MLP" row of Table 1).

Each gene ``g`` has a learned ``d``-dimensional embedding ``e_g`` (``d = 128`` in the paper).
A pair is represented by the sum of its two embeddings, which is permutation invariant, and
an MLP maps that joint embedding to the phenotype:

.. math::

    \hat y_{ab} = A\,\phi\big(W (e_a + e_b) + c\big) + d_0,

with ``phi`` = ReLU. Unlike NAIAD there is no single-gene input: everything, including the
additive part of the phenotype, has to be learned from the pairs, which is why the model is
weak with few training pairs and catches up once every gene has been seen ~20 times.

Training follows the paper's recipe for NAIAD and MLP (appendix F): Adam, lr 1e-2, batch
1024, linear warm-up over 10% of the steps then linear decay, no weight decay, 500 epochs on
small screens (Norman) and 200 on large ones (Horlbeck); the members of the deep ensemble are
trained together (:class:`~naiad_bo.models.pair_ensemble.PairEnsembleModel`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn

from naiad_bo.models.ensemble_config import EnsembleConfig
from naiad_bo.models.gene_projection import GeneProjectionNet, uniform_parameter
from naiad_bo.models.pair_ensemble import PairEnsembleModel, PairTrainingData
from naiad_bo.models.validation import check_int


@dataclass(frozen=True)
class EmbeddingMLPConfig(EnsembleConfig):
    """Training settings plus the MLP's sizes.

    Attributes:
        embed_dim: Gene embedding size ``d`` (paper: 128).
        hidden_dim: Width of the MLP's hidden layer.
    """

    embed_dim: int = 128
    hidden_dim: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("embed_dim", self.embed_dim, minimum=1)
        check_int("hidden_dim", self.hidden_dim, minimum=1)


class _SummedEmbeddingMLP(GeneProjectionNet):
    """``s`` members of ``(a, b) -> A relu(W (E[a] + E[b]) + c) + d0``, batched over members.

    Shapes: ``E (s, M, d)``, ``W (s, d, h)``, ``c (s, h)``, ``A (s, h)``, ``d0 (s,)``.
    """

    def __init__(
        self, s: int, n_genes: int, embed_dim: int, hidden_dim: int, generator: torch.Generator
    ) -> None:
        super().__init__()
        g = generator
        f64 = torch.float64
        self.embedding = nn.Parameter(torch.randn(s, n_genes, embed_dim, generator=g, dtype=f64))
        # nn.Linear's default (Kaiming-uniform) ranges; the summed input has variance ~2
        bound_w = 1.0 / math.sqrt(2.0 * embed_dim)
        bound_a = 1.0 / math.sqrt(hidden_dim)
        self.weight = uniform_parameter((s, embed_dim, hidden_dim), bound_w, g)
        self.bias = uniform_parameter((s, hidden_dim), bound_w, g)
        self.out_weight = uniform_parameter((s, hidden_dim), bound_a, g)
        self.out_bias = nn.Parameter(torch.zeros(s, dtype=f64))

    def project_genes(self) -> Tensor:
        """Per-gene first-layer pre-activations ``E W`` of shape ``(s, M, h)``.

        ``W (e_a + e_b) = W e_a + W e_b``, so projecting the ``M`` genes once and adding the
        two rows per pair is exact and costs ``O(M d h)`` instead of ``O(n d h)``.
        """
        return torch.bmm(self.embedding, self.weight)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        r"""Member predictions (standardised units).

        Args:
            a, b: ``(n,)`` long gene indices.

        Returns:
            ``(s, n)``: ``A relu(W (E[a] + E[b]) + c) + d0`` per member, computed as
            ``A relu((EW)[a] + (EW)[b] + c) + d0``.
        """
        proj = self.gene_projections()  # s x M x h
        h = torch.relu(proj[:, a] + proj[:, b] + self.bias.unsqueeze(1))  # s x n x h
        return (h * self.out_weight.unsqueeze(1)).sum(-1) + self.out_bias.unsqueeze(-1)


class EmbeddingMLPEnsemble(PairEnsembleModel):
    r"""Deep ensemble of embedding-only MLPs (the paper's "MLP" baseline).

    ``y_ab = A relu(W (e_a + e_b) + c) + d0`` with learned gene embeddings ``e`` and no
    single-gene input; exactly symmetric in ``(a, b)``. All members are trained at once.

    Options (:class:`EmbeddingMLPConfig`; besides the training ones of
    :class:`~naiad_bo.models.ensemble_config.EnsembleConfig`: ``ensemble_size``, ``epochs``,
    ``lr`` 1e-2, ``batch_size`` 1024, ``warmup_fraction``, ...):

    * ``embed_dim`` (128): gene embedding size ``d`` (paper: 128).
    * ``hidden_dim`` (64): width of the MLP's hidden layer.

    Example:
        >>> model = EmbeddingMLPEnsemble(screen.single_effects, seed=0).fit(X, Y)
        >>> model.posterior(X_test.unsqueeze(-2)).mean
    """

    config_class: ClassVar[type[EnsembleConfig]] = EmbeddingMLPConfig

    def _build_network(self, data: PairTrainingData, generator: torch.Generator) -> nn.Module:
        return _SummedEmbeddingMLP(
            self.ensemble_size,
            self.n_genes,
            int(self.config.embed_dim),
            int(self.config.hidden_dim),
            generator,
        )

r"""RECOVER-style bilinear baseline on the Bliss-like residual (NAIAD paper appendix B).

RECOVER (Bertin et al. 2023) combines two drug representations with a bilinear operator and
predicts the Bliss synergy, i.e. what the combination does beyond an independence
expectation. The NAIAD paper adapts it to gene pairs: learned 128-d gene embeddings,
a bilinear combination, trained on "measured minus the product of the single-gene
viabilities", with the expectation added back for predictions (lr 1e-1, appendix F).

**Learning rate.** Our default is ``lr = 1e-2`` (the paper's rate for NAIAD and the MLP), not
the 1e-1 that appendix F gives for RECOVER: with Adam and the shared warm-up/decay schedule,
1e-1 leaves some ensemble members untrained or diverged (a dead ReLU decoder, training MSE
stuck near the variance). Measured with ``benchmarks/small_sample.py`` (5 seeds, 12 sizes per
screen; ``results/small_sample_recover_lr0.1.csv``): at 1e-1, 8 of 120 runs had a test RMSE
above 1.3x the median over seeds at their N (e.g. Horlbeck K562 N = 4,480: mean 7.30 x1e-2,
median 5.59), and on Norman N = 1,250-1,500 five of ten runs were at 6.8-9.4 while
N = 1,000 gave 4.6-4.8; at 1e-2 no such failures. Pass ``lr=0.1`` for the paper's setting.

**Expectation for growth phenotypes (gamma).** A gamma score is a relative growth-rate
change, so the relative viability of a perturbation is ``1 + gamma``. Bliss independence
multiplies viabilities, ``(1 + y_ab) = (1 + y_a)(1 + y_b)``, which in gamma units gives

.. math::

    E_{ab} = (1 + y_a)(1 + y_b) - 1 = y_a + y_b + y_a y_b,

the multiplicative (fitness-product) model of genetic interactions. The network learns the
residual ``y_ab - E_ab``; predictions are ``E_ab + residual``. The offset is an outcome
transform (:class:`BlissOffset`, chained before ``Standardize``), applied by BoTorch's
posterior; pass another ``outcome_transform`` for phenotypes on another scale.

**Network.** Per gene an embedding ``e_g`` (``d = 128``); two projections ``U, V`` (``d x K``)
give ``p_g = U' e_g`` and ``q_g = V' e_g``; the symmetrised bilinear combination

.. math::

    h_{ab} = (p_a \odot q_b + q_a \odot p_b) / \sqrt{2}

(``h_k = e_a' W_k e_b`` with the symmetric rank-2 matrices ``W_k = (u_k v_k' + v_k u_k')/
sqrt 2``) is exactly permutation invariant, and a one-layer decoder maps it to the residual,
``r_ab = A relu(h_ab + c) + d0``. The factorised form keeps the cost per pair at ``O(K)``
once the per-gene projections are computed (they are cached while scoring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from botorch.models.transforms.outcome import (
    ChainedOutcomeTransform,
    OutcomeTransform,
    Standardize,
)
from torch import Tensor, nn

from naiad_bo.models.ensemble_config import EnsembleConfig
from naiad_bo.models.gene_projection import GeneProjectionNet, uniform_parameter
from naiad_bo.models.pair_ensemble import PairEnsembleModel, PairTrainingData
from naiad_bo.models.validation import as_gene_pairs, check_int


@dataclass(frozen=True)
class RecoverConfig(EnsembleConfig):
    """Training settings plus RECOVER's sizes.

    Attributes:
        embed_dim: Gene embedding size (paper: 128).
        bilinear_dim: Number ``K`` of bilinear forms.
    """

    embed_dim: int = 128
    bilinear_dim: int = 64

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("embed_dim", self.embed_dim, minimum=1)
        check_int("bilinear_dim", self.bilinear_dim, minimum=1)


def bliss_expectation(single_effects: Tensor, a: Tensor, b: Tensor) -> Tensor:
    r"""Bliss-like expectation ``(1 + y_a)(1 + y_b) - 1 = y_a + y_b + y_a y_b`` (raw units)."""
    ya = single_effects[a]
    yb = single_effects[b]
    return ya + yb + ya * yb


class BlissOffset(OutcomeTransform):
    r"""Outcome transform ``y -> y - E_ab`` with the Bliss expectation ``E_ab`` of the pair.

    ``forward`` subtracts and ``untransform`` adds :func:`bliss_expectation` at the gene
    pair ``X`` (``... x q x 2`` ids); noise variances are unchanged (a fixed shift).

    Args:
        single_effects: ``(M,)`` single-gene effects (raw units).
    """

    def __init__(self, single_effects: Tensor) -> None:
        super().__init__()
        self.register_buffer("single_effects", single_effects.detach().to(torch.float64).clone())

    def _expectation(self, X: Tensor | None, like: Tensor) -> Tensor:
        if X is None:
            raise ValueError("BlissOffset needs the gene pairs X to (un)transform outcomes")
        pairs = as_gene_pairs(X, self.single_effects.numel())
        e = bliss_expectation(self.single_effects, pairs[..., 0], pairs[..., 1]).unsqueeze(-1)
        if like.ndim == e.ndim + 1:  # ensemble values: batch x s x q x 1
            e = e.unsqueeze(-3)
        return e

    def forward(self, Y: Tensor, Yvar: Tensor | None = None, X: Tensor | None = None):
        """``(Y - E(X), Yvar)``."""
        return Y - self._expectation(X, Y), Yvar

    def untransform(self, Y: Tensor, Yvar: Tensor | None = None, X: Tensor | None = None):
        """``(Y + E(X), Yvar)`` (member values ``batch x s x q x 1`` broadcast over s)."""
        return Y + self._expectation(X, Y), Yvar

    def subset_output(self, idcs: list[int]) -> BlissOffset:
        """Single output: itself for ``[0]``."""
        if list(idcs) != [0]:
            raise ValueError(f"BlissOffset has one output, got {idcs}")
        return self


class _SymmetricBilinear(GeneProjectionNet):
    """``s`` members of ``(a, b) -> A relu((p_a q_b + q_a p_b)/sqrt2 + c) + d0``.

    Shapes: embeddings ``E (s, M, d)``, projections ``[U | V] (s, d, 2K)``, ``c (s, K)``,
    ``A (s, K)``, ``d0 (s,)``; ``p = E U``, ``q = E V`` are ``(s, M, K)``.
    """

    def __init__(
        self, s: int, n_genes: int, embed_dim: int, bilinear_dim: int, generator: torch.Generator
    ) -> None:
        super().__init__()
        g = generator
        f64 = torch.float64
        self.embedding = nn.Parameter(torch.randn(s, n_genes, embed_dim, generator=g, dtype=f64))
        bound = 1.0 / math.sqrt(embed_dim)
        # [U | V] in one (s, d, 2K) tensor: one batched matmul projects every gene
        self.proj = uniform_parameter((s, embed_dim, 2 * bilinear_dim), bound, g)
        # at init p, q have variance ~1/3, so h ~ 1/9; read-out in nn.Linear's default range
        bound_a = 1.0 / math.sqrt(bilinear_dim)
        self.bias = nn.Parameter(torch.zeros(s, bilinear_dim, dtype=f64))
        self.out_weight = uniform_parameter((s, bilinear_dim), bound_a, g)
        self.out_bias = nn.Parameter(torch.zeros(s, dtype=f64))

    def project_genes(self) -> Tensor:
        """Per-gene ``[p | q] = E [U | V]`` of shape ``(s, M, 2K)`` (cached in gene_cache)."""
        return torch.bmm(self.embedding, self.proj)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        r"""Member residual predictions (standardised units).

        Args:
            a, b: ``(n,)`` long gene indices.

        Returns:
            ``(s, n)``: ``A relu((p_a * q_b + q_a * p_b) / sqrt(2) + c) + d0`` per member.
        """
        p, q = self.gene_projections().chunk(2, dim=-1)  # s x M x K each
        h = (p[:, a] * q[:, b] + q[:, a] * p[:, b]) * (1.0 / math.sqrt(2.0))  # s x n x K
        h = torch.relu(h + self.bias.unsqueeze(1))
        return (h * self.out_weight.unsqueeze(1)).sum(-1) + self.out_bias.unsqueeze(-1)


class RecoverEnsemble(PairEnsembleModel):
    r"""Deep ensemble of RECOVER-style symmetric bilinear models on the Bliss-like residual.

    ``y_ab = E_ab + A relu((p_a * q_b + q_a * p_b)/sqrt 2 + c) + d0`` with the Bliss
    expectation ``E_ab = (1 + y_a)(1 + y_b) - 1`` of the single-gene gammas and
    ``p_g = U' e_g``, ``q_g = V' e_g`` from learned gene embeddings ``e_g``. Exactly
    symmetric in ``(a, b)``; all members are trained at once.

    Options (:class:`RecoverConfig`; besides the training ones of
    :class:`~naiad_bo.models.ensemble_config.EnsembleConfig`, ``lr`` 1e-2 included: the
    paper's 1e-1 for RECOVER is unstable here, see the module docstring):

    * ``embed_dim`` (128): gene embedding size (paper: 128).
    * ``bilinear_dim`` (64): number ``K`` of bilinear forms.
    """

    config_class: ClassVar[type[EnsembleConfig]] = RecoverConfig

    def expectation(self, a: Tensor, b: Tensor) -> Tensor:
        r"""Bliss-like expectation ``(1 + y_a)(1 + y_b) - 1`` (float64 ``(n,)``, raw units)."""
        return bliss_expectation(self.single_effects, a, b)

    def _default_outcome_transform(self) -> OutcomeTransform:
        """``BlissOffset`` then ``Standardize``: the network learns the standardised residual."""
        return ChainedOutcomeTransform(
            bliss=BlissOffset(self.single_effects), standardize=Standardize(m=1)
        )

    def _build_network(self, data: PairTrainingData, generator: torch.Generator) -> nn.Module:
        return _SymmetricBilinear(
            self.ensemble_size,
            self.n_genes,
            int(self.config.embed_dim),
            int(self.config.bilinear_dim),
            generator,
        )

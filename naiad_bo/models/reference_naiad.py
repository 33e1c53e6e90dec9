r"""NAIAD with the reference implementation's member network, for side-by-side comparisons.

The public NAIAD code (Qin et al.) differs from the paper's formula, and from
:class:`~naiad_bo.models.naiad_net.NaiadNet`, in ways that change what a member learns:

.. math::

    \hat y_{ab} = \underbrace{\mathrm{gelu}\big(\mathrm{gelu}([\min, \max](y_a, y_b)\, W_1)\,
        W_2\big)\, a + c}_{\text{single-gene branch, two hidden layers, no hidden biases}}
        + \underbrace{\big(\mathrm{relu}((g_a + g_b) C_1 + c_1)\big) C_2 + c_2}_{\text{embedding
        branch}},
    \qquad g_x = \mathrm{relu}(e_x F_1 + f_1)\, F_2 + f_2

* the single-gene branch has **two** hidden layers of width ``H`` (GELU) and no biases in
  them, on the **raw** single effects (no centring or scaling: 0 is a gene without effect);
* the members learn the **raw** scores (no outcome standardisation);
* **dropout** (rate 0.1) after every hidden linear map while training (before the
  activation, as ``Linear -> Dropout -> act``), none when predicting;
* every linear map has ``nn.Linear``'s default initialisation (``U(+-1/sqrt(fan_in))``,
  weights and biases), embeddings ``N(0, 1)``.

Kept from this package, so comparisons isolate the architecture: the single-gene input is the
sorted pair ``[min, max]`` (the reference feeds a random order per row, which makes its
predictions order-dependent), predictions are exactly symmetric, training is the batched
ensemble loop of :mod:`~naiad_bo.models.training` (per-member MSE, Adam, linear warm-up and
decay; the reference sums squared errors, which Adam's normalisation makes equivalent up to
its ``eps``), the embedding size follows the same schedule and every random draw (including
the dropout masks) comes from explicit generators.

Gradients are autograd's: a fit costs several times :class:`~naiad_bo.models.NaiadEnsemble`'s,
mostly the ``H x H`` layer and the dropout masks, which are arithmetic rather than overhead
(hand-written gradients, bit-equal to autograd's, measured no faster at ``H = 256`` and 7%
faster at ``H = 64``, so they were not kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from naiad_bo.models.ensemble_config import CrossValidatedVarianceScale, EnsembleConfig
from naiad_bo.models.gene_projection import GeneProjectionNet, uniform_parameter
from naiad_bo.models.naiad import NaiadConfig, NaiadEnsemble
from naiad_bo.models.pair_ensemble import PairTrainingData

__all__ = [
    "DEFAULT_VARIANCE_CALIBRATION",
    "ReferenceNaiadConfig",
    "ReferenceNaiadEnsemble",
    "ReferenceNaiadNet",
]

#: The default surrogate's variance calibration: 2-fold CV inside the training data, skipped
#: (``variance_calibrated_ = False``) below 20 training pairs.
DEFAULT_VARIANCE_CALIBRATION = CrossValidatedVarianceScale(2, skip_below=20)


@dataclass(frozen=True)
class ReferenceNaiadConfig(NaiadConfig):
    """:class:`~naiad_bo.models.naiad.NaiadConfig` plus the reference network's dropout.

    ``embed_dim``, ``schedule`` and ``single_dim`` mean what they mean for NAIAD; the
    activations are fixed by the architecture (GELU single branch, ReLU embedding branch),
    so ``activation``, ``output_init_scale``, ``linear_skip`` and ``anchor_no_effect`` must
    keep their defaults.

    Unlike the other ensembles, the default ``variance_calibration`` is on:
    :class:`~naiad_bo.models.CrossValidatedVarianceScale` with 2 folds (two fold ensembles
    on half the pairs each, about one extra fit; skipped below 20 training pairs). The
    posterior mean, hence MPE and Table-1 RMSE, is that of the uncalibrated model; the
    predictive variance is what becomes informative (``benchmarks/README.md``,
    "Calibration": without it ``nll`` is above ``nll_homoscedastic`` in 4 of 4 cells, with it
    below in 4 of 4, ``coverage90`` 0.90-0.93). ``variance_calibration=None`` turns it off
    (half the fit time, e.g. for mean-only sweeps).

    Attributes:
        dropout: Dropout rate of every hidden layer while training (reference: 0.1).
        variance_calibration: As for every ensemble; default 2-fold CV (above).
    """

    dropout: float = 0.1
    variance_calibration: CrossValidatedVarianceScale | None = DEFAULT_VARIANCE_CALIBRATION

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (isinstance(self.dropout, int | float) and 0.0 <= float(self.dropout) < 1.0):
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        fixed = {"activation": "relu", "output_init_scale": 1.0, "linear_skip": False,
                 "anchor_no_effect": False}
        for name, default in fixed.items():
            if getattr(self, name) != default:
                raise ValueError(f"{name} is fixed by the reference architecture; got "
                                 f"{getattr(self, name)!r}")


class ReferenceNaiadNet(GeneProjectionNet):
    r"""``s`` reference member networks ``(a, b) -> (s, n)`` (module docstring), batched.

    Shapes: single branch ``W1 (s, 2, H)``, ``W2 (s, H, H)``, ``a (s, H)``, ``c (s,)``;
    embeddings ``E (s, M, p)``, per-gene ``F1, F2 (s, p, p)``, ``f1, f2 (s, p)``; read-out
    ``C1 (s, p, p)``, ``c1 (s, p)``, ``C2 (s, p)``, ``c2 (s,)``.

    Args:
        single_effects: ``(M,)`` raw single-gene effects (a buffer).
        ensemble_size: ``s``.
        embed_dim: ``p`` (0 disables the embedding branch).
        single_dim: ``H`` (0 disables the single-gene branch).
        dropout: Training dropout rate.
        generator: Source of the initial weights and of the dropout masks' seed.
    """

    def __init__(
        self,
        single_effects: Tensor,
        *,
        ensemble_size: int,
        embed_dim: int,
        single_dim: int,
        dropout: float,
        generator: torch.Generator,
    ) -> None:
        super().__init__()
        s, p, H = int(ensemble_size), int(embed_dim), int(single_dim)
        if s < 1 or p < 0 or H < 0 or (p == 0 and H == 0):
            raise ValueError("need s >= 1 and at least one branch")
        self.ensemble_size, self.embed_dim, self.single_dim = s, p, H
        self.n_genes = single_effects.numel()
        self.dropout = float(dropout)
        self.register_buffer("x", single_effects.detach().clone().to(torch.float64))
        g = generator
        if H:
            self.w1 = uniform_parameter((s, 2, H), 1 / math.sqrt(2), g)
            self.w2 = uniform_parameter((s, H, H), 1 / math.sqrt(H), g)
            self.a = uniform_parameter((s, H), 1 / math.sqrt(H), g)
            self.c = uniform_parameter((s,), 1 / math.sqrt(H), g)
        if p:
            bound = 1 / math.sqrt(p)
            self.emb = nn.Parameter(torch.randn(s, self.n_genes, p, generator=g,
                                                dtype=torch.float64))
            self.f1_w, self.f1_b = uniform_parameter((s, p, p), bound, g), uniform_parameter(
                (s, p), bound, g)
            self.f2_w, self.f2_b = uniform_parameter((s, p, p), bound, g), uniform_parameter(
                (s, p), bound, g)
            self.c1_w, self.c1_b = uniform_parameter((s, p, p), bound, g), uniform_parameter(
                (s, p), bound, g)
            self.c2_w, self.c2_b = uniform_parameter((s, p), bound, g), uniform_parameter(
                (s,), bound, g)
        seed = int(torch.randint(0, 2**62, (1,), generator=g))
        #: CPU generator of the dropout masks (masks are drawn on the CPU, then moved).
        self.mask_generator = torch.Generator().manual_seed(seed)

    def _drop(self, h: Tensor) -> Tensor:
        """Inverted dropout while training (masks from :attr:`mask_generator`)."""
        if not self.training or self.dropout == 0.0:
            return h
        keep = 1.0 - self.dropout
        u = torch.rand(h.shape, generator=self.mask_generator, dtype=h.dtype)
        return h * (u.to(h.device) < keep).to(h.dtype) / keep

    def _gene_terms(self, e: Tensor) -> Tensor:
        """``g = relu(drop(e F1 + f1)) F2 + f2`` for embeddings ``e (s, k, p)``."""
        h = F.relu(self._drop(torch.baddbmm(self.f1_b.unsqueeze(1), e, self.f1_w)))
        return torch.baddbmm(self.f2_b.unsqueeze(1), h, self.f2_w)

    def project_genes(self) -> Tensor:
        """Per-gene terms ``g`` of all ``M`` genes, ``(s, M, p)`` (no dropout: eval only)."""
        return self._gene_terms(self.emb)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        r"""Member predictions in the model's units (raw scores), ``(s, n)``.

        Args:
            a, b: ``(n,)`` long gene indices.

        Returns:
            ``(s, n)``; exactly symmetric in ``a`` and ``b`` when not training.
        """
        n = a.numel()
        out = torch.zeros(self.ensemble_size, n, dtype=self.x.dtype, device=self.x.device)
        if self.single_dim:
            ya, yb = self.x[a], self.x[b]
            design = torch.stack((torch.minimum(ya, yb), torch.maximum(ya, yb)), dim=-1)
            h = F.gelu(self._drop(torch.matmul(design, self.w1)))  # (s, n, H)
            h = F.gelu(self._drop(torch.bmm(h, self.w2)))
            out = out + torch.bmm(h, self.a.unsqueeze(-1)).squeeze(-1) + self.c.unsqueeze(-1)
        if self.embed_dim:
            if self.training:  # dropout per pair and gene, as the reference applies it
                u = self._gene_terms(self.emb[:, a]) + self._gene_terms(self.emb[:, b])
            else:
                terms = self.gene_projections()
                u = terms[:, a] + terms[:, b]
            h = F.relu(self._drop(torch.baddbmm(self.c1_b.unsqueeze(1), u, self.c1_w)))
            out = out + torch.bmm(h, self.c2_w.unsqueeze(-1)).squeeze(-1) + (
                self.c2_b.unsqueeze(-1))
        return out


class ReferenceNaiadEnsemble(NaiadEnsemble):
    r"""A deep ensemble of :class:`ReferenceNaiadNet` s (registered as ``"naiad-reference"``).

    Same contract, training loop, embedding schedule and single-branch widths as
    :class:`~naiad_bo.models.NaiadEnsemble`; what differs is the member network and its
    units (module docstring): raw single effects and raw scores (``outcome_transform``
    defaults to None), two GELU hidden layers in the single-gene branch, dropout 0.1. With
    the reference recipe (``batch_size=None``, ``epochs`` 200 / 100, the reference's embed
    dims per round) it stands in for the reference implementation in campaigns that cannot
    run it (``benchmarks/robust_defaults.py``, variant ``refnet_recipe``).

    Measured (``benchmarks/README.md``, "The reference member network"): with our recipe it
    found more of the top-72 than :class:`~naiad_bo.models.NaiadEnsemble` on 60% gene
    subsets of both screens (tuning: Norman +2.2 +- 0.8, K562 +2.4 +- 0.7), has equal or
    lower Table-1 RMSE (x1e-2, K562 2N/M = 20: 5.07 vs 5.30), and on a more additive K562
    (``scale_interactions(k562, 0.6)``) reproduces the order seen on the held-out K562-like
    screen where the reference beat :class:`~naiad_bo.models.NaiadEnsemble`; on the
    acquisition benchmark's seeds 0-4 (full screens, MPE) it found 147.8 / 115.2 of the
    top-200 (Norman / K562) against 143.6 / 108.2. It is therefore the campaigns' default
    surrogate (:data:`naiad_bo.specs.DEFAULT_SURROGATE`), at ~10x
    :class:`~naiad_bo.models.NaiadEnsemble`'s K562 round (fits ~15x; the ``H x H`` layer,
    ``H = 256``: a 64-wide branch lost most of the gain on K562), ~18x with the default
    variance calibration (:class:`ReferenceNaiadConfig`; K562 round 4 42.8 s, Norman 4.3 s).
    """

    config_class: ClassVar[type[EnsembleConfig]] = ReferenceNaiadConfig

    def _default_outcome_transform(self):
        """None: the reference's members learn the raw scores."""
        return None

    def _build_network(self, data: PairTrainingData, generator: torch.Generator) -> nn.Module:
        self.embed_dim_ = self.resolve_embed_dim(data.n)
        self.single_dim_ = self.resolve_single_dim()
        return ReferenceNaiadNet(
            self.single_effects,
            ensemble_size=self.ensemble_size,
            embed_dim=self.embed_dim_,
            single_dim=self.single_dim_,
            dropout=float(self.config.dropout),
            generator=generator,
        )

"""Acquisition functions over gene pairs and exact batch selection.

Pointwise acquisitions (batch value = sum of per-pair scores; best batch = exact top-q):
:class:`MaxPredictedEffect` ("mpe"), :class:`RecoverUCB` ("ucb", the NAIAD paper's UCB row),
:class:`EnsembleVariance` ("variance"), :class:`Uniform` ("uniform"), :class:`BALD` ("bald"),
:class:`SoftBALD` ("softbald"), :class:`Margin` ("margin"), :class:`OptimisticEffect`
("optimistic"), :class:`ProbabilityOfHit` ("hit"), :class:`BatchProbabilityOfOptimality`
("qpo"). Memberwise: :class:`ThompsonSampling` ("thompson").

Batch selection: :func:`select_batch` (one chunked pass, never a measured, pending or
duplicate pair; optional per-gene cap), :func:`select_on_shortlist` (BoTorch's
``optimize_acqf_discrete`` on an exact shortlist, for non-pointwise acquisitions),
:func:`as_pointwise` (q = 1 BoTorch acquisitions as pointwise scores).

Every class builds from ``Cls.from_training_data(model, train_X, train_Y, single_effects,
direction=..., seed=..., **options)``; :func:`build_acquisition` does it by CLI name.
"""

from naiad_bo.acquisition.base import (
    AcquisitionModelError,
    MemberwiseAcquisition,
    PairAcquisitionFunction,
    PointwiseAcquisition,
    as_index_pairs,
)
from naiad_bo.acquisition.botorch_adapters import (
    BoTorchPointwise,
    as_pointwise,
    select_on_shortlist,
)
from naiad_bo.acquisition.effect import MaxPredictedEffect, OptimisticEffect
from naiad_bo.acquisition.hit import ProbabilityOfHit, kth_strongest
from naiad_bo.acquisition.optimality import BatchProbabilityOfOptimality
from naiad_bo.acquisition.recover_ucb import RecoverUCB
from naiad_bo.acquisition.registry import (
    ACQUISITIONS,
    UnknownAcquisitionError,
    build_acquisition,
    get_acquisition_class,
)
from naiad_bo.acquisition.selection import (
    BatchSelection,
    InsufficientCandidatesError,
    select_batch,
)
from naiad_bo.acquisition.stochastic import SoftBALD, Uniform, pair_uniform
from naiad_bo.acquisition.thompson import ThompsonSampling
from naiad_bo.acquisition.uncertainty import BALD, EnsembleVariance, Margin

__all__ = [
    "ACQUISITIONS",
    "BALD",
    "AcquisitionModelError",
    "BatchProbabilityOfOptimality",
    "BatchSelection",
    "BoTorchPointwise",
    "EnsembleVariance",
    "InsufficientCandidatesError",
    "Margin",
    "MaxPredictedEffect",
    "MemberwiseAcquisition",
    "OptimisticEffect",
    "PairAcquisitionFunction",
    "PointwiseAcquisition",
    "ProbabilityOfHit",
    "RecoverUCB",
    "SoftBALD",
    "ThompsonSampling",
    "Uniform",
    "UnknownAcquisitionError",
    "as_index_pairs",
    "as_pointwise",
    "build_acquisition",
    "get_acquisition_class",
    "kth_strongest",
    "pair_uniform",
    "select_batch",
    "select_on_shortlist",
]

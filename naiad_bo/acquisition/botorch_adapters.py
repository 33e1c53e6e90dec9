"""BoTorch acquisitions that are not pointwise: shortlist + ``optimize_acqf_discrete``, and
q = 1 analytic acquisitions used as pointwise scores.

:func:`select_on_shortlist`: a pointwise acquisition shortlists ``L`` pairs exactly, then
BoTorch's ``optimize_acqf_discrete`` runs its sequential greedy (``q`` passes over the ``L``
shortlisted pairs, each pass a joint evaluation with the pending points: cost ``O(q * L)``
acquisition evaluations instead of ``O(q * N)``). :func:`as_pointwise` wraps a q = 1 analytic
BoTorch acquisition (``PosteriorMean``, ``UpperConfidenceBound``, ``LogEI``) so that
:func:`~naiad_bo.acquisition.select_batch` takes its exact top-q.
"""

from __future__ import annotations

from typing import Any

import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.analytic import AnalyticAcquisitionFunction
from botorch.optim.optimize import optimize_acqf_discrete
from torch import Tensor

from naiad_bo.acquisition.base import PointwiseAcquisition, as_index_pairs
from naiad_bo.acquisition.selection import BatchSelection, _select, _validate_q
from naiad_bo.acquisition.topq import DEFAULT_CHUNK_SIZE, canonical_pairs

__all__ = ["BoTorchPointwise", "as_pointwise", "select_on_shortlist"]


def select_on_shortlist(
    acqf: AcquisitionFunction,
    candidates: Any,
    q: int,
    *,
    shortlist: PointwiseAcquisition,
    shortlist_size: int | None = None,
    exclude: Any = None,
    max_batch_size: int = 2048,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool | None = None,
) -> BatchSelection:
    """Select a batch for a non-pointwise acquisition with BoTorch's ``optimize_acqf_discrete``.

    ``shortlist`` (a pointwise acquisition, e.g. :class:`MaxPredictedEffect`) picks the
    ``shortlist_size`` best available pairs exactly (:func:`select_batch`); then
    ``optimize_acqf_discrete(acqf, q, choices=shortlist)`` runs its sequential greedy on them
    (``q`` passes over ``L`` choices with the growing pending set). Use this for MC q-batch
    acquisitions (``qLogNoisyExpectedImprovement``, ``qUpperConfidenceBound``); cost grows as
    ``q * L`` acquisition evaluations, so keep ``L`` a small multiple of ``q`` (default
    ``max(4 q, 100)``).

    Args:
        acqf: Any BoTorch acquisition on ``batch x q x 2`` pairs. For ``q > 1`` it must
            support ``set_X_pending`` (analytic acquisitions do not).
        candidates, exclude, chunk_size, progress: As in :func:`select_batch`.
        q: Batch size.
        shortlist: Pointwise acquisition ranking the candidates.
        shortlist_size: ``L >= q``.
        max_batch_size: Passed to ``optimize_acqf_discrete``.

    Returns:
        A :class:`BatchSelection` whose scores are the acquisition values returned by
        ``optimize_acqf_discrete`` (one per greedy step).
    """
    q = _validate_q(q)
    if not isinstance(shortlist, PointwiseAcquisition):
        raise TypeError(
            "shortlist must be a PointwiseAcquisition (e.g. MaxPredictedEffect(model)), got "
            f"{type(shortlist).__name__}"
        )
    if not isinstance(acqf, AcquisitionFunction):
        raise TypeError(f"acqf must be a BoTorch AcquisitionFunction, got {type(acqf).__name__}")
    if q > 1 and isinstance(acqf, AnalyticAcquisitionFunction):
        raise TypeError(
            f"{type(acqf).__name__} is analytic (no pending points), so optimize_acqf_discrete "
            "cannot build a batch of q > 1 with it; use its MC version (e.g. qUpperConfidence"
            "Bound) or as_pointwise(acqf) with select_batch"
        )
    size = max(4 * q, 100) if shortlist_size is None else int(shortlist_size)
    if size < q:
        raise ValueError(f"shortlist_size={size} must be >= q={q}")
    pending = [
        p.reshape(-1, 2)
        for p in (getattr(acqf, "X_pending", None), shortlist.X_pending)
        if p is not None and p.numel()
    ]
    short = _select(
        shortlist,
        candidates,
        size,
        exclude=exclude,
        extra=torch.cat([as_index_pairs(p) for p in pending]) if pending else None,
        max_per_gene=None,
        chunk_size=chunk_size,
        progress=progress,
        min_q=q,
    )
    choices = short.pairs.to(torch.float64)
    with torch.no_grad():
        cand, values = optimize_acqf_discrete(
            acqf, q=q, choices=choices, max_batch_size=max_batch_size, unique=True
        )
    pairs = canonical_pairs(as_index_pairs(cand.reshape(-1, 2)))
    return BatchSelection(
        pairs=pairs, scores=values.detach().reshape(-1).cpu(), n_scored=short.n_scored
    )


class BoTorchPointwise(PointwiseAcquisition):
    """A q = 1 BoTorch acquisition used as a pointwise score (see :func:`as_pointwise`)."""

    def __init__(self, acqf: AcquisitionFunction, dtype: torch.dtype = torch.float64) -> None:
        super().__init__(acqf.model)
        self.acqf = acqf
        self.dtype = dtype

    def score(self, X: Tensor) -> Tensor:
        """``acqf(X[:, None, :])``; ``X``: ``n x 2`` -> ``(n,)``."""
        X = as_index_pairs(X)
        return self.acqf(X.to(self.dtype).unsqueeze(-2)).reshape(-1)


def as_pointwise(acqf: AcquisitionFunction, dtype: torch.dtype = torch.float64) -> BoTorchPointwise:
    """Treat a BoTorch acquisition evaluated at single points as a pointwise score.

    The batch is then its exact top-``q`` by :func:`select_batch`: the right thing for
    analytic acquisitions (``PosteriorMean``, ``UpperConfidenceBound``, ``LogEI``), which
    BoTorch's ``optimize_acqf_discrete`` cannot batch. It ignores interactions between the
    batch's points (as pointwise acquisitions do by definition).
    """
    if not isinstance(acqf, AcquisitionFunction):
        raise TypeError(f"expected a BoTorch AcquisitionFunction, got {type(acqf).__name__}")
    return BoTorchPointwise(acqf, dtype=dtype)

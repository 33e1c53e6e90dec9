"""Exact batch selection over the discrete pair space.

:func:`select_batch` picks the best ``q`` pairs for a :class:`PointwiseAcquisition` as the
exact top-``q`` of its per-pair scores in one chunked pass over all available candidates:
``O(N log q)`` time, memory bounded by the chunk size plus ``q`` (never ``N``). Measured,
pending (``exclude`` and ``acqf.X_pending``) and duplicate pairs are never returned. Ties
are broken by candidate order (deterministic).

Options beyond the papers:

* ``max_per_gene=c``: greedy over the score-sorted list, at most ``c`` pairs per gene in the
  batch. Off by default: measured, it does not pay. With MPE on NaiadEnsemble in the paper's
  protocol (``benchmarks/batch_diversity.py``, 5 seeds, round 4) caps of 5-20% of the batch
  lowered top-200 discovered by 4-26 pairs (Norman) and 4-13 (Horlbeck K562) and loose caps
  (30%) were neutral (+0.2, -1.4): the true top pairs concentrate on hub genes themselves,
  so a cap fights the signal. Kept for users whose libraries have per-gene limits.
* :class:`~naiad_bo.acquisition.ThompsonSampling` (a :class:`MemberwiseAcquisition`): one
  exact top list per ensemble member, then each slot filled from a drawn member (same
  benchmark: 6.6 / 9.2 fewer top-200 pairs than MPE on Norman / K562).

Measured on one thread (``benchmarks/batch_diversity.py --speed``): q = 500 of 98,076 Horlbeck
K562 candidates with a 5-member NaiadEnsemble in 0.22 s (0.18 s of it the posterior itself),
where ``optimize_acqf_discrete`` needs 0.26 s per greedy step (~130 s for q = 500); both give
the same batch. A 20,000-gene space (2 x 10^8 pairs) is scanned in ~20 s with a 16 MB traced
peak.

The chunked scan itself is :mod:`naiad_bo.acquisition.topq`. Acquisitions that are not
pointwise (BoTorch's MC q-batch acquisitions such as ``qLogNoisyExpectedImprovement``) go
through :func:`~naiad_bo.acquisition.botorch_adapters.select_on_shortlist`; q = 1 analytic
BoTorch acquisitions can be made pointwise with
:func:`~naiad_bo.acquisition.botorch_adapters.as_pointwise`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from torch import Tensor

from naiad_bo.acquisition.base import MemberwiseAcquisition, PointwiseAcquisition
from naiad_bo.acquisition.topq import (
    DEFAULT_CHUNK_SIZE,
    PROGRESS_MIN_CANDIDATES,
    CandidateStream,
    StreamingTopK,
    scan_top_q,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "PROGRESS_MIN_CANDIDATES",
    "BatchSelection",
    "InsufficientCandidatesError",
    "select_batch",
]


class InsufficientCandidatesError(ValueError):
    """Fewer available candidates than the requested batch size (or the per-gene cap)."""


@dataclass(frozen=True)
class BatchSelection:
    """A selected batch.

    Attributes:
        pairs: ``q x 2`` LongTensor of canonical gene-index pairs (``a <= b``), best first.
        scores: ``(q,)`` acquisition scores of the pairs.
        n_scored: Number of available candidates scored (after exclusion), per pass.

    Unpacks as ``pairs, scores = select_batch(...)``.
    """

    pairs: Tensor
    scores: Tensor
    n_scored: int

    def __iter__(self) -> Iterator[Tensor]:
        yield self.pairs
        yield self.scores

    def __len__(self) -> int:
        return int(self.pairs.shape[0])


# ---------------------------------------------------------------------------- selection
def _validate_q(q: Any) -> int:
    if isinstance(q, bool) or not isinstance(q, (int, np.integer)):
        raise TypeError(f"q must be a positive integer, got {q!r}")
    if q < 1:
        raise ValueError(f"q must be a positive integer (batch size), got {q}")
    return int(q)


def _validate_cap(max_per_gene: Any) -> int | None:
    if max_per_gene is None:
        return None
    if isinstance(max_per_gene, bool) or not isinstance(max_per_gene, (int, np.integer)):
        raise TypeError(f"max_per_gene must be a positive integer or None, got {max_per_gene!r}")
    if max_per_gene < 1:
        raise ValueError(f"max_per_gene must be >= 1, got {max_per_gene}")
    return int(max_per_gene)


def _not_enough(q: int, n: int) -> InsufficientCandidatesError:
    return InsufficientCandidatesError(
        f"batch size q={q} exceeds the {n} available candidate pairs "
        "(after removing measured, pending and duplicate pairs)"
    )


def _greedy_cap(scores: Tensor, pairs: Tensor, q: int, cap: int | None) -> tuple[list[int], bool]:
    """Walk a sorted list, keeping pairs while every gene stays within ``cap``."""
    if cap is None:
        return list(range(min(q, pairs.shape[0]))), pairs.shape[0] >= q
    counts: dict[int, int] = {}
    chosen: list[int] = []
    for i, (a, b) in enumerate(pairs.tolist()):
        if counts.get(a, 0) >= cap or counts.get(b, 0) >= cap:
            continue
        counts[a] = counts.get(a, 0) + 1
        if b != a:
            counts[b] = counts.get(b, 0) + 1
        chosen.append(i)
        if len(chosen) == q:
            return chosen, True
    return chosen, False


def _initial_list_size(q: int, cap: int | None, upper: int | None) -> int:
    size = q if cap is None else max(4 * q, q + 256)
    return size if upper is None else max(1, min(size, upper))


def select_batch(
    acqf: AcquisitionFunction,
    candidates: Any,
    q: int,
    *,
    exclude: Any = None,
    max_per_gene: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: bool | None = None,
) -> BatchSelection:
    """Select the best ``q`` new pairs for a pointwise or memberwise acquisition.

    Args:
        acqf: A :class:`PointwiseAcquisition` (exact top-``q`` of its scores) or a
            :class:`MemberwiseAcquisition` (Thompson sampling). Other acquisitions: see
            :func:`select_on_shortlist` and :func:`as_pointwise`.
        candidates: A :class:`naiad_bo.space.PairSpace` / ``CandidateSet`` (anything with
            ``iter_chunks(chunk_size, exclude=...)`` yielding ``(flat, pairs)``), or an
            ``(n, 2)`` tensor / array of gene-index pairs (canonicalised, de-duplicated).
        q: Batch size (``>= 1``).
        exclude: Measured + pending pairs never to return: a ``PairSet`` or ``(n, 2)`` pairs
            (flat indices too, for a ``PairSpace``). ``acqf.X_pending`` is excluded as well.
        max_per_gene: If set, at most this many pairs per gene in the batch (greedy over the
            score-sorted list; a same-gene pair uses its gene once). Default off; it did not
            improve discovery on the bundled screens (module docstring).
        chunk_size: Candidates scored per chunk (memory bound).
        progress: Show a tqdm bar; ``None`` = only for >= 2 million candidates.

    Returns:
        A :class:`BatchSelection` (unpacks as ``pairs, scores``).

    Raises:
        TypeError / ValueError: ``q`` not a positive integer, bad ``max_per_gene``, malformed
            candidates or exclude, NaN scores.
        InsufficientCandidatesError: ``q`` larger than the available candidates, or the
            per-gene cap leaves fewer than ``q`` admissible pairs.
        TypeError: an acquisition that is neither pointwise nor memberwise.
    """
    return _select(
        acqf,
        candidates,
        q,
        exclude=exclude,
        extra=getattr(acqf, "X_pending", None),
        max_per_gene=max_per_gene,
        chunk_size=chunk_size,
        progress=progress,
        min_q=None,
    )


def _select(
    acqf: AcquisitionFunction,
    candidates: Any,
    q: int,
    *,
    exclude: Any,
    extra: Tensor | None,
    max_per_gene: int | None,
    chunk_size: int,
    progress: bool | None,
    min_q: int | None,
) -> BatchSelection:
    """:func:`select_batch` with explicit extra exclusions; ``min_q`` allows a shorter batch."""
    q = _validate_q(q)
    cap = _validate_cap(max_per_gene)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
        raise TypeError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    if isinstance(acqf, MemberwiseAcquisition):
        memberwise = True
    elif isinstance(acqf, PointwiseAcquisition):
        memberwise = False
    elif isinstance(acqf, AcquisitionFunction):
        raise TypeError(
            f"{type(acqf).__name__} is not a pointwise acquisition, so its best batch is not "
            "a top-q; use select_on_shortlist(acqf, candidates, q, shortlist=...) (BoTorch's "
            "optimize_acqf_discrete on a shortlist), or as_pointwise(acqf) for a q=1 analytic "
            "acquisition"
        )
    else:
        raise TypeError(f"acqf must be a BoTorch AcquisitionFunction, got {type(acqf).__name__}")

    need = q if min_q is None else min(q, min_q)
    source = CandidateStream(candidates, exclude, extra)
    if source.upper is not None:
        if source.upper < need:
            raise _not_enough(need, source.upper)
        q = min(q, source.upper)
    name = type(acqf).__name__
    size = _initial_list_size(q, cap, source.upper)
    while True:
        score_fn = acqf.member_scores if memberwise else acqf.score
        tops, seen = scan_top_q(
            source, size, score_fn, -1 if memberwise else None, int(chunk_size), progress, name
        )
        if seen < need:
            raise _not_enough(need, seen)
        q = min(q, seen)
        exhausted = size >= seen  # the lists hold every candidate
        if memberwise:
            result = _allocate_members(acqf, tops, q, cap)
        else:
            scores, pairs = tops[0].result()
            chosen, ok = _greedy_cap(scores, pairs, q, cap)
            result = (pairs[chosen], scores[chosen]) if ok else None
        if result is not None:
            pairs, scores = result
            return BatchSelection(pairs=pairs, scores=scores, n_scored=seen)
        if exhausted:
            raise InsufficientCandidatesError(
                f"max_per_gene={cap} admits fewer than q={q} of the {seen} available pairs; "
                "raise max_per_gene or lower q"
            )
        size = min(size * 4, seen)


def _allocate_members(
    acqf: MemberwiseAcquisition, tops: list[StreamingTopK], q: int, cap: int | None
) -> tuple[Tensor, Tensor] | None:
    """Fill ``q`` slots, each from its drawn member's sorted list; None if a list ran dry."""
    lists = [top.result() for top in tops]
    members = acqf.draw_members(q, len(lists)).tolist()
    pos = [0] * len(lists)
    taken: set[tuple[int, int]] = set()
    counts: dict[int, int] = {}
    out_pairs: list[list[int]] = []
    out_scores: list[float] = []
    pair_lists = [pairs.tolist() for _, pairs in lists]
    for m in members:
        scores_m, plist = lists[m][0], pair_lists[m]
        while True:
            if pos[m] >= len(plist):
                return None
            a, b = plist[pos[m]]
            i = pos[m]
            pos[m] += 1
            if (a, b) in taken:
                continue
            if cap is not None and (counts.get(a, 0) >= cap or counts.get(b, 0) >= cap):
                continue
            taken.add((a, b))
            counts[a] = counts.get(a, 0) + 1
            if b != a:
                counts[b] = counts.get(b, 0) + 1
            out_pairs.append([a, b])
            out_scores.append(float(scores_m[i]))
            break
    dtype = lists[0][0].dtype if lists[0][0].is_floating_point() else torch.float64
    return (
        torch.tensor(out_pairs, dtype=torch.long).reshape(-1, 2),
        torch.tensor(out_scores, dtype=dtype),
    )



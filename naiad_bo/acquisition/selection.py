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

Acquisitions that are not pointwise (BoTorch's MC q-batch acquisitions such as
``qLogNoisyExpectedImprovement``) go through :func:`select_on_shortlist`: a pointwise
acquisition shortlists ``L`` pairs exactly, then BoTorch's ``optimize_acqf_discrete`` runs
its sequential greedy (``q`` passes over the ``L`` shortlisted pairs, each pass a joint
evaluation with the pending points: cost ``O(q * L)`` acquisition evaluations instead of
``O(q * N)``). q = 1 analytic BoTorch acquisitions can be made pointwise with
:func:`as_pointwise`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.analytic import AnalyticAcquisitionFunction
from botorch.optim.optimize import optimize_acqf_discrete
from torch import Tensor
from tqdm.auto import tqdm

from naiad_bo.acquisition.base import (
    MemberwiseAcquisition,
    PointwiseAcquisition,
    as_index_pairs,
)

__all__ = [
    "BatchSelection",
    "BoTorchPointwise",
    "InsufficientCandidatesError",
    "as_pointwise",
    "select_batch",
    "select_on_shortlist",
]

#: Default number of candidate pairs scored per chunk.
DEFAULT_CHUNK_SIZE = 2**17
#: Candidate counts from which the progress bar is shown by default.
PROGRESS_MIN_CANDIDATES = 2_000_000


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


# ---------------------------------------------------------------------------- candidates
def _pair_keys(pairs: Tensor) -> np.ndarray:
    """Order-free int64 key ``min << 32 | max`` of each pair ``(n, 2)``."""
    pairs = pairs.reshape(-1, 2)
    lo = torch.minimum(pairs[:, 0], pairs[:, 1])
    hi = torch.maximum(pairs[:, 0], pairs[:, 1])
    if pairs.numel() and int(hi.max()) >= 2**31:
        raise ValueError("gene ids must be < 2**31")
    return ((lo << 32) | hi).cpu().numpy()


def _canonical(pairs: Tensor) -> Tensor:
    lo = torch.minimum(pairs[:, 0], pairs[:, 1])
    hi = torch.maximum(pairs[:, 0], pairs[:, 1])
    return torch.stack([lo, hi], dim=1)


def _to_pair_tensor(x: Any, what: str) -> Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    elif not isinstance(x, Tensor):
        try:
            x = torch.as_tensor(np.asarray(x))
        except Exception as err:  # pragma: no cover - message only
            raise TypeError(f"{what} must be an (n, 2) array of gene-index pairs") from err
    if x.ndim != 2 or x.shape[-1] != 2:
        raise ValueError(f"{what} must have shape (n, 2), got {tuple(x.shape)}")
    return as_index_pairs(x)


class _TensorCandidates:
    """An explicit candidate tensor with the ``iter_chunks`` / ``n_available`` protocol.

    Pairs are canonicalised and de-duplicated (first occurrence kept); ``exclude`` is a
    ``PairSet``-like object with ``contains(pairs) -> bool mask`` or an ``(n, 2)`` array.
    """

    def __init__(self, pairs: Any, exclude: Any) -> None:
        pairs = _canonical(_to_pair_tensor(pairs, "candidates"))
        keys = _pair_keys(pairs)
        _, first = np.unique(keys, return_index=True)
        keep = np.sort(first)
        pairs, keys = pairs[torch.from_numpy(keep)], keys[keep]
        if exclude is not None:
            mask = _exclude_mask(pairs, keys, exclude)
            pairs = pairs[torch.from_numpy(~mask)]
        self.pairs = pairs

    def n_available(self) -> int:
        return int(self.pairs.shape[0])

    def iter_chunks(self, chunk_size: int) -> Iterator[Tensor]:
        for start in range(0, self.pairs.shape[0], chunk_size):
            yield self.pairs[start : start + chunk_size]


def _exclude_mask(pairs: Tensor, keys: np.ndarray, exclude: Any) -> np.ndarray:
    contains = getattr(exclude, "contains", None)
    if callable(contains):
        return np.asarray(torch.as_tensor(contains(pairs)).cpu().numpy(), dtype=bool)
    ex = exclude.detach() if isinstance(exclude, Tensor) else np.asarray(exclude)
    if ex.ndim == 1:
        raise ValueError(
            "exclude given as flat indices needs a PairSpace (flat indices are relative to "
            "one); for a candidate tensor pass exclude as (n, 2) pairs or a PairSet"
        )
    ex_keys = np.unique(_pair_keys(_to_pair_tensor(ex, "exclude")))
    return np.isin(keys, ex_keys)


def _is_space(obj: Any) -> bool:
    return callable(getattr(obj, "iter_chunks", None))


class _Source:
    """Uniform view over a PairSpace / CandidateSet / candidate tensor plus extra exclusions."""

    def __init__(self, candidates: Any, exclude: Any, extra: Tensor | None) -> None:
        self.extra_keys = (
            np.unique(_pair_keys(as_index_pairs(extra).reshape(-1, 2)))
            if extra is not None and extra.numel()
            else None
        )
        if _is_space(candidates):
            self.space = candidates
            self.exclude = exclude
            self.tensor = None
            n_avail = getattr(candidates, "n_available", None)
            self.upper = int(n_avail(exclude)) if callable(n_avail) else None
        else:
            self.space = None
            self.tensor = _TensorCandidates(candidates, exclude)
            self.upper = self.tensor.n_available()

    def chunks(self, chunk_size: int) -> Iterator[Tensor]:
        if self.tensor is not None:
            it = self.tensor.iter_chunks(chunk_size)
        else:
            it = (item[1] for item in self.space.iter_chunks(chunk_size, exclude=self.exclude))
        for pairs in it:
            pairs = pairs.long()
            if self.extra_keys is not None and pairs.numel():
                drop = np.isin(_pair_keys(pairs), self.extra_keys)
                if drop.any():
                    pairs = pairs[torch.from_numpy(~drop)]
            if pairs.numel():
                yield pairs


# ---------------------------------------------------------------------------- top-k
def _stable_topk(scores: Tensor, k: int) -> Tensor:
    """Indices of the ``k`` largest scores, ties broken by lower index (unsorted)."""
    n = scores.shape[0]
    if n <= k:
        return torch.arange(n)
    kth = torch.topk(scores, k, sorted=True).values[-1]
    above = torch.nonzero(scores > kth).reshape(-1)
    equal = torch.nonzero(scores == kth).reshape(-1)  # ascending index
    return torch.cat([above, equal[: k - above.numel()]])


class _TopK:
    """Running exact top-``k`` of (score, pair) over a stream of chunks, stable in order."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.scores: Tensor | None = None
        self.pairs: Tensor | None = None
        self.order: Tensor | None = None

    def push(self, scores: Tensor, pairs: Tensor, start: int) -> None:
        order = torch.arange(start, start + scores.shape[0])
        keep = _stable_topk(scores, self.k)
        scores, pairs, order = scores[keep], pairs[keep], order[keep]
        if self.scores is not None:
            scores = torch.cat([self.scores, scores])
            pairs = torch.cat([self.pairs, pairs])
            order = torch.cat([self.order, order])
            # the running best precedes the chunk in candidate order, so a stable top-k on
            # the concatenation keeps the earlier candidate among equal scores
            sort_idx = torch.argsort(order)
            scores, pairs, order = scores[sort_idx], pairs[sort_idx], order[sort_idx]
            keep = _stable_topk(scores, self.k)
            scores, pairs, order = scores[keep], pairs[keep], order[keep]
        self.scores, self.pairs, self.order = scores, pairs, order

    def result(self) -> tuple[Tensor, Tensor]:
        """``(scores, pairs)`` sorted best first (ties: candidate order)."""
        if self.scores is None:
            return torch.empty(0), torch.empty(0, 2, dtype=torch.long)
        idx = np.lexsort(
            (self.order.numpy(), -self.scores.detach().to(torch.float64).cpu().numpy())
        )
        idx = torch.from_numpy(idx)
        return self.scores[idx], self.pairs[idx]


def _check_scores(scores: Tensor, n: int, name: str, shape: tuple[int, ...]) -> Tensor:
    if not isinstance(scores, Tensor) or tuple(scores.shape) != shape:
        got = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"{name} returned scores of shape {got}, expected {shape}")
    if torch.isnan(scores).any():
        bad = int(torch.isnan(scores).sum())
        raise ValueError(f"{name} returned NaN scores for {bad} of {n} candidates")
    return scores.detach().cpu()


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


def _scan(
    source: _Source,
    q_list: int,
    score_fn,
    n_cols: int | None,
    chunk_size: int,
    progress: bool | None,
    name: str,
) -> tuple[list[_TopK], int]:
    """One chunked pass keeping a top-``q_list`` per score column."""
    tops: list[_TopK] | None = None
    seen = 0
    show = progress if progress is not None else (source.upper or 0) >= PROGRESS_MIN_CANDIDATES
    bar = tqdm(total=source.upper, unit="pair", desc=f"scoring {name}", disable=not show)
    try:
        with torch.no_grad():
            for pairs in source.chunks(chunk_size):
                n = pairs.shape[0]
                raw = score_fn(pairs)
                if n_cols is None:
                    scores = _check_scores(raw, n, name, (n,))[:, None]
                else:
                    if not isinstance(raw, Tensor) or raw.ndim != 2 or raw.shape[0] != n:
                        raise ValueError(f"{name} returned member scores of wrong shape")
                    scores = _check_scores(raw, n, name, (n, raw.shape[1]))
                if tops is None:
                    tops = [_TopK(q_list) for _ in range(scores.shape[1])]
                elif len(tops) != scores.shape[1]:
                    raise ValueError(f"{name}: number of ensemble members changed between chunks")
                for j, top in enumerate(tops):
                    top.push(scores[:, j], pairs.cpu(), seen)
                seen += n
                bar.update(n)
    finally:
        bar.close()
    return tops or [_TopK(q_list)], seen


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
    source = _Source(candidates, exclude, extra)
    if source.upper is not None:
        if source.upper < need:
            raise _not_enough(need, source.upper)
        q = min(q, source.upper)
    name = type(acqf).__name__
    size = _initial_list_size(q, cap, source.upper)
    while True:
        score_fn = acqf.member_scores if memberwise else acqf.score
        tops, seen = _scan(
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
    acqf: MemberwiseAcquisition, tops: list[_TopK], q: int, cap: int | None
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


# ---------------------------------------------------------------------------- non-pointwise
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
    pairs = _canonical(as_index_pairs(cand.reshape(-1, 2)))
    return BatchSelection(
        pairs=pairs, scores=values.detach().reshape(-1).cpu(), n_scored=short.n_scored
    )


# ---------------------------------------------------------------------------- adapter
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

"""Streaming exact top-q over chunks of candidate pairs (the engine of batch selection).

:class:`CandidateStream` gives a uniform chunked view over a :class:`~naiad_bo.space.PairSpace`
/ :class:`~naiad_bo.space.CandidateSet` (arithmetic chunks, exclusions by flat index) or an
explicit candidate tensor (canonicalised, de-duplicated), minus extra exclusions (pending
points). :func:`scan_top_q` scores the stream chunk by chunk and keeps, per score column, a
:class:`StreamingTopK`: the exact ``k`` best (score, pair) seen so far, ties broken by
candidate order. Time ``O(N log k)``, memory ``O(chunk + k)``, never ``O(N)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from naiad_bo.acquisition.base import as_index_pairs

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "PROGRESS_MIN_CANDIDATES",
    "CandidateStream",
    "StreamingTopK",
    "canonical_pairs",
    "pair_keys",
    "scan_top_q",
]

#: Default number of candidate pairs scored per chunk.
DEFAULT_CHUNK_SIZE = 2**17
#: Candidate counts from which the progress bar is shown by default.
PROGRESS_MIN_CANDIDATES = 2_000_000


# ---------------------------------------------------------------------------- candidates
def pair_keys(pairs: Tensor) -> np.ndarray:
    """Order-free int64 key ``min << 32 | max`` of each pair ``(n, 2)``."""
    pairs = pairs.reshape(-1, 2)
    lo = torch.minimum(pairs[:, 0], pairs[:, 1])
    hi = torch.maximum(pairs[:, 0], pairs[:, 1])
    if pairs.numel() and int(hi.max()) >= 2**31:
        raise ValueError("gene ids must be < 2**31")
    return ((lo << 32) | hi).cpu().numpy()


def canonical_pairs(pairs: Tensor) -> Tensor:
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
        pairs = canonical_pairs(_to_pair_tensor(pairs, "candidates"))
        keys = pair_keys(pairs)
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
    ex_keys = np.unique(pair_keys(_to_pair_tensor(ex, "exclude")))
    return np.isin(keys, ex_keys)


def _is_space(obj: Any) -> bool:
    return callable(getattr(obj, "iter_chunks", None))


class CandidateStream:
    """Uniform view over a PairSpace / CandidateSet / candidate tensor plus extra exclusions."""

    def __init__(self, candidates: Any, exclude: Any, extra: Tensor | None) -> None:
        self.extra_keys = (
            np.unique(pair_keys(as_index_pairs(extra).reshape(-1, 2)))
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
                drop = np.isin(pair_keys(pairs), self.extra_keys)
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


class StreamingTopK:
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


def scan_top_q(
    source: CandidateStream,
    q_list: int,
    score_fn: Callable[[Tensor], Tensor],
    n_cols: int | None,
    chunk_size: int,
    progress: bool | None,
    name: str,
) -> tuple[list[StreamingTopK], int]:
    """One chunked pass keeping a top-``q_list`` per score column."""
    tops: list[StreamingTopK] | None = None
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
                    tops = [StreamingTopK(q_list) for _ in range(scores.shape[1])]
                elif len(tops) != scores.shape[1]:
                    raise ValueError(f"{name}: number of ensemble members changed between chunks")
                for j, top in enumerate(tops):
                    top.push(scores[:, j], pairs.cpu(), seen)
                seen += n
                bar.update(n)
    finally:
        bar.close()
    return tops or [StreamingTopK(q_list)], seen



"""The space of unordered gene pairs: indexing, chunked enumeration, exclusion, sampling.

A screen over ``M`` genes has ``N = M (M + 1) / 2`` canonical unordered pairs ``(a, b)`` with
``a <= b`` (or ``M (M - 1) / 2`` with ``a < b`` when same-gene pairs are left out). Every pair
has a *flat index*: its position in the row-major upper triangle,

    (0, 0), (0, 1), ..., (0, M-1), (1, 1), (1, 2), ..., (M-1, M-1)        (include_self)
    (0, 1), (0, 2), ..., (0, M-1), (1, 2), ...,          (M-2, M-1)        (no self pairs)

At M = 20,000 there are 2 x 10^8 pairs, so nothing here ever allocates an N-sized array:
chunks are generated arithmetically from flat ranges, excluded (measured or pending) pairs are
kept as a sorted array of flat indices (:class:`PairSet`, memory O(n_excluded)), and uniform
sampling maps random ranks among the available pairs to flat indices.

:class:`PairSpace` is the complete space; :class:`CandidateSet` is an explicit subset of it (an
incomplete screen) with the same interface and the same flat numbering, so a :class:`PairSet`
works with both.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

#: Default number of pairs per chunk in :meth:`PairSpace.iter_chunks` (2**18 = 262,144).
DEFAULT_CHUNK_SIZE = 2**18

# Below this many available pairs, :meth:`sample` draws with numpy's exact ``choice`` (which may
# allocate an array of that size); above it, ranks are drawn by rejection of duplicates.
_SMALL_POPULATION = 2**22

# --------------------------------------------------------------------------------------------
# helpers


def _to_numpy(x: Any, name: str) -> tuple[np.ndarray, bool]:
    """Return ``(array, was_tensor)`` for a numpy array, torch tensor or nested sequence."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy(), True
    if isinstance(x, np.ndarray):
        return x, False
    try:
        return np.asarray(x), False
    except Exception as err:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be an array or tensor, got {type(x).__name__}") from err


def _as_int64(x: np.ndarray, name: str) -> np.ndarray:
    """Integer view of ``x``; floats must hold finite integer values, bools are rejected."""
    if x.dtype == np.bool_:
        raise TypeError(f"{name} must hold integer indices, got a boolean array")
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.int64, copy=False)
    if np.issubdtype(x.dtype, np.floating):
        if x.size and not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains NaN or infinite values")
        out = x.astype(np.int64)
        if x.size and not np.array_equal(out, x):
            bad = x.ravel()[np.flatnonzero(out.ravel() != x.ravel())[0]]
            raise ValueError(f"{name} must hold integer values, found {bad!r}")
        return out
    if x.dtype == object and x.size == 0:
        return x.astype(np.int64)
    raise TypeError(f"{name} must hold integer indices, got dtype {x.dtype}")


def _wrap(x: np.ndarray, as_tensor: bool) -> np.ndarray | torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)) if as_tensor else x


def _numpy_rng(seed: int | np.random.Generator | torch.Generator | None) -> np.random.Generator:
    """A numpy Generator from an int seed, a numpy Generator, or a torch Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, torch.Generator):
        return np.random.default_rng(
            int(torch.randint(0, 2**62, (1,), generator=seed, dtype=torch.int64))
        )
    if seed is None:
        raise TypeError("seed must be an int, numpy Generator or torch Generator, not None")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int or a Generator, got {type(seed).__name__}")
    return np.random.default_rng(int(seed))


# --------------------------------------------------------------------------------------------
# the complete space


class _PairCollection:
    """Shared enumeration, exclusion and sampling over a collection of pairs.

    Subclasses define ``space`` (the :class:`PairSpace` giving the flat numbering),
    ``n_pairs``, and three position hooks: position ``p`` (``0 <= p < n_pairs``, in flat
    order) maps to flat index ``_flat_at(p)``; ``_positions_of(flat)`` maps sorted unique
    valid flat indices to the positions of those that belong to the collection; and
    ``_chunk(start, stop)`` returns ``(flat, pairs)`` numpy arrays for a position range.
    """

    n_genes: int
    include_self: bool

    @property
    def space(self) -> PairSpace:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def n_pairs(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def __len__(self) -> int:
        return self.n_pairs

    def _flat_at(self, positions: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _positions_of(self, flat: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _chunk(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    # -- exclusion, chunks, sampling ---------------------------------------------------------

    def excluded_flat(self, exclude: PairSet | np.ndarray | torch.Tensor | None) -> np.ndarray:
        """Sorted unique flat indices of ``exclude`` (a :class:`PairSet`, 1-D flat indices,
        or ``n x 2`` pairs in either order); validated against this space."""
        if exclude is None:
            return np.empty(0, dtype=np.int64)
        if isinstance(exclude, PairSet):
            if exclude.space != self.space:
                raise ValueError(f"{exclude!r} belongs to {exclude.space!r}, not {self.space!r}")
            return exclude.flat
        return _flat_of_items(self.space, exclude, "exclude")

    def _excluded_positions(self, exclude) -> np.ndarray:
        return self._positions_of(self.excluded_flat(exclude))

    def n_available(self, exclude: PairSet | np.ndarray | torch.Tensor | None = None) -> int:
        """Number of pairs of the collection that are not in ``exclude``."""
        return self.n_pairs - len(self._excluded_positions(exclude))

    def iter_chunks(
        self,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        exclude: PairSet | np.ndarray | torch.Tensor | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Enumerate the available pairs in flat order, in chunks of at most ``chunk_size``.

        Each chunk covers ``chunk_size`` consecutive positions; excluded pairs are removed from
        it (so a chunk may be shorter) and empty chunks are skipped. Memory is
        O(chunk_size + n_excluded), independent of ``n_pairs``.

        Args:
            chunk_size: Maximum number of pairs per chunk.
            exclude: Pairs to skip (:class:`PairSet`, 1-D flat indices, or ``n x 2`` pairs).

        Yields:
            ``(flat, pairs)``: LongTensors of shape ``(c,)`` and ``(c, 2)``, ``pairs[:, 0] <=
            pairs[:, 1]``, ``c <= chunk_size``.
        """
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
            raise TypeError(f"chunk_size must be an int, got {type(chunk_size).__name__}")
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        yield from self._iter_positions(0, self.n_pairs, int(chunk_size),
                                        self._excluded_positions(exclude))

    def _iter_positions(
        self, begin: int, end: int, chunk_size: int, ex_pos: np.ndarray
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Chunks of positions ``[begin, end)`` minus the sorted positions ``ex_pos``."""
        for start in range(begin, end, chunk_size):
            stop = min(start + chunk_size, end)
            flat, pairs = self._chunk(start, stop)
            lo, hi = np.searchsorted(ex_pos, [start, stop])
            if hi > lo:
                keep = np.ones(stop - start, dtype=bool)
                keep[ex_pos[lo:hi] - start] = False
                flat, pairs = flat[keep], pairs[keep]
            if len(flat):
                yield torch.from_numpy(flat), torch.from_numpy(np.ascontiguousarray(pairs))

    def sample(
        self,
        n: int,
        seed: int | np.random.Generator | torch.Generator = 0,
        exclude: PairSet | np.ndarray | torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` distinct available pairs uniformly at random (without replacement).

        Random ranks ``r`` among the available pairs are drawn and mapped to positions by
        skipping the excluded ones (``pos = r + #{excluded e_i : e_i - i <= r}``), so the
        draw is exact whatever the exclusion density and never materialises the space: memory
        is O(n + n_excluded) above 4M available pairs.

        Args:
            n: Number of pairs (``0 <= n <= n_available(exclude)``).
            seed: Int seed, ``numpy.random.Generator`` or ``torch.Generator``.
            exclude: Pairs that must not be drawn.

        Returns:
            ``n x 2`` LongTensor of canonical pairs, in random order.
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        rng = _numpy_rng(seed)
        ex_pos = self._excluded_positions(exclude)
        n_avail = self.n_pairs - len(ex_pos)
        if n < 0 or n > n_avail:
            raise ValueError(f"cannot sample {n} pairs: {n_avail:,} available")
        ranks = _sample_ranks(rng, n_avail, int(n))
        positions = ranks + np.searchsorted(ex_pos - np.arange(len(ex_pos)), ranks, side="right")
        flat = self._flat_at(positions)
        return torch.from_numpy(np.ascontiguousarray(self.space.from_flat(flat)))


class PairSpace(_PairCollection):
    """All canonical unordered pairs of ``n_genes`` genes, addressed by flat index.

    Args:
        n_genes: Number of genes ``M`` (gene ids ``0 .. M-1``).
        include_self: Whether same-gene pairs ``(a, a)`` are part of the space.

    Example:
        >>> space = PairSpace(4)
        >>> space.to_flat(np.array([[2, 1], [0, 0]]))
        array([5, 0])
        >>> space.from_flat(np.array([5, 9]))
        array([[1, 2],
               [3, 3]])
    """

    def __init__(self, n_genes: int, include_self: bool = True) -> None:
        if isinstance(n_genes, bool) or not isinstance(n_genes, int | np.integer):
            raise TypeError(f"n_genes must be an int, got {type(n_genes).__name__}")
        if n_genes < 1:
            raise ValueError(f"n_genes must be >= 1, got {n_genes}")
        self.n_genes = int(n_genes)
        self.include_self = bool(include_self)
        # Without self pairs, (a, b) with a < b maps to (a, b - 1) in a with-self triangle of
        # K = M - 1 "genes"; one formula then serves both cases.
        self._k = self.n_genes if self.include_self else self.n_genes - 1
        self._n_pairs = self._k * (self._k + 1) // 2

    # -- basic protocol ----------------------------------------------------------------------

    @property
    def n_pairs(self) -> int:
        """Number of pairs in the space."""
        return self._n_pairs

    @property
    def space(self) -> PairSpace:
        """The complete space that defines the flat numbering (``self``)."""
        return self

    def __len__(self) -> int:
        return self._n_pairs

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_genes={self.n_genes}, include_self={self.include_self}, "
            f"n_pairs={self._n_pairs:,})"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not PairSpace:
            return NotImplemented
        return (self.n_genes, self.include_self) == (other.n_genes, other.include_self)

    def __hash__(self) -> int:
        return hash((PairSpace, self.n_genes, self.include_self))

    # -- indexing ----------------------------------------------------------------------------

    def _row_offset(self, a: np.ndarray) -> np.ndarray:
        """Flat index of the first pair of row ``a``: ``a K - a (a - 1) / 2`` (int64, exact)."""
        return a * (2 * self._k - a + 1) // 2

    def to_flat(self, pairs: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Flat indices of gene-index pairs, canonicalising ``(b, a)`` to ``(a, b)``.

        Args:
            pairs: ``... x 2`` integer gene indices (numpy or torch; floats holding integer
                values are accepted, as Ax produces them).

        Returns:
            ``...`` int64 flat indices, numpy if ``pairs`` is numpy, a LongTensor if torch.

        Raises:
            ValueError: wrong shape, non-integer values, a gene index outside ``[0, n_genes)``,
                or a same-gene pair when ``include_self=False``.
        """
        arr, as_tensor = _to_numpy(pairs, "pairs")
        if arr.ndim == 0 or arr.shape[-1] != 2:
            raise ValueError(f"pairs must have shape (..., 2), got {tuple(arr.shape)}")
        arr = _as_int64(arr, "pairs")
        lo = np.minimum(arr[..., 0], arr[..., 1])
        hi = np.maximum(arr[..., 0], arr[..., 1])
        if lo.size:
            if lo.min() < 0 or hi.max() >= self.n_genes:
                bad = arr.reshape(-1, 2)[
                    np.flatnonzero((lo.ravel() < 0) | (hi.ravel() >= self.n_genes))[0]
                ]
                raise ValueError(
                    f"gene index out of range [0, {self.n_genes}) in pair {bad.tolist()}"
                )
            if not self.include_self:
                same = lo == hi
                if same.any():
                    bad = arr.reshape(-1, 2)[np.flatnonzero(same.ravel())[0]]
                    raise ValueError(
                        f"same-gene pair {bad.tolist()} is not in a space with include_self=False"
                    )
        if not self.include_self:
            hi = hi - 1
        flat = self._row_offset(lo) + (hi - lo)
        return _wrap(flat, as_tensor)

    def _check_flat(self, flat: np.ndarray, name: str = "flat") -> np.ndarray:
        flat = _as_int64(flat, name)
        if flat.size and (flat.min() < 0 or flat.max() >= self._n_pairs):
            bad = flat.ravel()[
                np.flatnonzero((flat.ravel() < 0) | (flat.ravel() >= self._n_pairs))[0]
            ]
            raise ValueError(f"flat index {int(bad)} out of range [0, {self._n_pairs})")
        return flat

    def _rows_of(self, flat: np.ndarray) -> np.ndarray:
        """Row ``a`` of each flat index: closed-form root, then an exact integer correction."""
        two_k1 = 2 * self._k + 1
        disc = float(two_k1) ** 2 - 8.0 * flat.astype(np.float64)
        a = np.floor((two_k1 - np.sqrt(np.maximum(disc, 0.0))) / 2.0).astype(np.int64)
        np.clip(a, 0, max(self._k - 1, 0), out=a)
        # Integer correction: the float root can be off by one near row boundaries.
        for _ in range(64):
            too_far = self._row_offset(a) > flat
            not_far = (a + 1 < self._k) & (self._row_offset(a + 1) <= flat)
            if not (too_far.any() or not_far.any()):
                break
            a = a - too_far + not_far
        else:  # pragma: no cover - would need |error| > 64 rows
            raise RuntimeError("from_flat row correction did not converge")
        return a

    def from_flat(self, flat: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Canonical pairs ``(a, b)``, ``a <= b``, of flat indices (exact inverse of ``to_flat``).

        Args:
            flat: ``...`` integer flat indices in ``[0, n_pairs)``.

        Returns:
            ``... x 2`` int64 gene indices, numpy or LongTensor like the input.
        """
        arr, as_tensor = _to_numpy(flat, "flat")
        arr = self._check_flat(arr)
        a = self._rows_of(arr)
        b = arr - self._row_offset(a) + a
        if not self.include_self:
            b = b + 1
        return _wrap(np.stack([a, b], axis=-1), as_tensor)

    def _pairs_of_range(self, start: int, stop: int) -> np.ndarray:
        """Pairs with flat indices ``start .. stop-1`` (fast path: rows are contiguous)."""
        if stop <= start:
            return np.empty((0, 2), dtype=np.int64)
        a0, a1 = self._rows_of(np.array([start, stop - 1], dtype=np.int64))
        rows = np.arange(a0, a1 + 1, dtype=np.int64)
        row_start = np.maximum(self._row_offset(rows), start)
        row_stop = np.minimum(self._row_offset(rows + 1), stop)
        a = np.repeat(rows, row_stop - row_start)
        b = np.arange(start, stop, dtype=np.int64) - self._row_offset(a) + a
        if not self.include_self:
            b += 1
        return np.stack([a, b], axis=-1)

    # -- collection protocol (positions are flat indices) -------------------------------------

    def _flat_at(self, positions: np.ndarray) -> np.ndarray:
        return positions

    def _positions_of(self, flat: np.ndarray) -> np.ndarray:
        return flat

    def _chunk(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        return np.arange(start, stop, dtype=np.int64), self._pairs_of_range(start, stop)


def _sample_ranks(rng: np.random.Generator, population: int, n: int) -> np.ndarray:
    """``n`` distinct integers from ``[0, population)`` in random order, memory O(n)."""
    if population <= _SMALL_POPULATION or 2 * n > population:
        # Small populations (or n over half the population, where the output is O(population)
        # anyway): numpy's exact sampler.
        return rng.choice(population, size=n, replace=False).astype(np.int64)
    out = np.empty(0, dtype=np.int64)
    while len(out) < n:
        need = n - len(out)
        draw = rng.integers(0, population, size=need + need // 8 + 16, dtype=np.int64)
        cand = np.concatenate([out, draw])
        _, first = np.unique(cand, return_index=True)
        out = cand[np.sort(first)]  # first occurrences, in draw order
    return out[:n]


def _flat_of_items(space: PairSpace, items: Any, name: str) -> np.ndarray:
    """Sorted unique flat indices of 1-D flat indices or ``n x 2`` pairs, validated."""
    arr, _ = _to_numpy(items, name)
    if arr.ndim == 2 and arr.shape[1] == 2:
        flat = space.to_flat(arr)
    elif arr.ndim == 1:
        flat = space._check_flat(arr, name)
    else:
        raise ValueError(
            f"{name} must be 1-D flat indices or an (n, 2) array of pairs, "
            f"got shape {tuple(arr.shape)}"
        )
    return np.unique(flat)


# --------------------------------------------------------------------------------------------
# sets of pairs


class PairSet:
    """A set of pairs of a :class:`PairSpace` (e.g. measured or pending pairs).

    Stored as a sorted unique int64 array of flat indices: memory O(len), membership by
    binary search. Items may be given as 1-D flat indices or as ``n x 2`` pairs in either order.

    Args:
        space: The :class:`PairSpace` (or :class:`CandidateSet`, whose complete space is used).
        items: Optional initial pairs or flat indices.
    """

    def __init__(self, space: PairSpace | CandidateSet, items: Any = None) -> None:
        if not isinstance(space, PairSpace | CandidateSet):
            raise TypeError(
                f"space must be a PairSpace or CandidateSet, got {type(space).__name__}"
            )
        self.space: PairSpace = space.space
        self._flat = np.empty(0, dtype=np.int64)
        if items is not None:
            self.add(items)

    @property
    def flat(self) -> np.ndarray:
        """Sorted unique flat indices (read-only view)."""
        view = self._flat.view()
        view.flags.writeable = False
        return view

    def pairs(self) -> torch.Tensor:
        """The pairs as an ``n x 2`` LongTensor, in flat order."""
        return torch.from_numpy(np.ascontiguousarray(self.space.from_flat(self._flat)))

    def add(self, items: Any) -> PairSet:
        """Add pairs (``n x 2``, either order) or flat indices (1-D); returns ``self``."""
        if isinstance(items, PairSet):
            if items.space != self.space:
                raise ValueError(f"cannot add {items!r} to {self!r}: different spaces")
            new = items._flat
        else:
            new = _flat_of_items(self.space, items, "items")
        if len(new):
            self._flat = np.union1d(self._flat, new)
        return self

    def contains(self, items: Any) -> np.ndarray | torch.Tensor:
        """Boolean membership mask of ``... x 2`` pairs (either order) or 1-D flat indices.

        Returns a numpy mask for numpy input, a BoolTensor for torch input.
        """
        return _contains(self.space, self._flat, items)

    def __contains__(self, item: Any) -> bool:
        """``(a, b) in s`` for a pair (either order), ``f in s`` for a flat index."""
        arr, _ = _to_numpy(item, "item")
        if arr.shape not in ((), (2,)):
            raise ValueError(f"use contains() for several items; got shape {arr.shape}")
        return bool(self.contains(arr.reshape(1, 2) if arr.shape == (2,) else arr.reshape(1))[0])

    def copy(self) -> PairSet:
        out = PairSet(self.space)
        out._flat = self._flat.copy()
        return out

    def __len__(self) -> int:
        return len(self._flat)

    def __repr__(self) -> str:
        return f"PairSet(n={len(self):,}, space={self.space!r})"


def _contains(space: PairSpace, sorted_flat: np.ndarray, items: Any) -> np.ndarray | torch.Tensor:
    """Membership of pairs (``... x 2``, ndim >= 2) or flat indices (ndim <= 1)."""
    arr, as_tensor = _to_numpy(items, "items")
    if arr.ndim >= 2 and arr.shape[-1] == 2:
        flat = space.to_flat(arr)
    elif arr.ndim <= 1:
        flat = space._check_flat(arr, "items")
    else:
        raise ValueError(
            f"items must be flat indices or (..., 2) pairs, got shape {tuple(arr.shape)}"
        )
    mask = _isin_sorted(flat, sorted_flat)
    return torch.from_numpy(mask) if as_tensor else mask


def _isin_sorted(values: np.ndarray, sorted_unique: np.ndarray) -> np.ndarray:
    """``np.isin`` for a sorted unique haystack, O(len(values) log len(haystack))."""
    if len(sorted_unique) == 0:
        return np.zeros(values.shape, dtype=bool)
    idx = np.searchsorted(sorted_unique, values)
    idx = np.minimum(idx, len(sorted_unique) - 1)
    return sorted_unique[idx] == values


# --------------------------------------------------------------------------------------------
# explicit candidate subsets


class CandidateSet(_PairCollection):
    """An explicit subset of the pairs of ``n_genes`` genes (e.g. an incomplete screen).

    Same interface as :class:`PairSpace` (``n_pairs``, ``to_flat``, ``from_flat``,
    ``iter_chunks``, ``n_available``, ``sample``) and the same flat numbering as the complete
    space ``self.space``, so one :class:`PairSet` of measured pairs serves both. Enumeration
    follows flat order; ``n_pairs`` counts the candidates. Duplicates (including swapped
    order) are merged. ``to_flat``/``from_flat`` convert in the complete space's numbering and
    do not check membership; use :meth:`contains` for that.

    Args:
        pairs: ``n x 2`` gene-index pairs (either order).
        n_genes: Number of genes ``M``.
        include_self: Whether same-gene pairs are allowed.
    """

    def __init__(
        self, pairs: np.ndarray | torch.Tensor, n_genes: int, include_self: bool = True
    ) -> None:
        self._space = PairSpace(n_genes, include_self)
        self.n_genes = self._space.n_genes
        self.include_self = self._space.include_self
        arr, _ = _to_numpy(pairs, "pairs")
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"pairs must have shape (n, 2), got {tuple(arr.shape)}")
        self._flat = np.unique(self._space.to_flat(arr))
        self._flat.flags.writeable = False

    @property
    def space(self) -> PairSpace:
        """The complete :class:`PairSpace` whose flat numbering the candidates use."""
        return self._space

    @property
    def n_pairs(self) -> int:
        """Number of candidate pairs."""
        return len(self._flat)

    @property
    def flat(self) -> np.ndarray:
        """Sorted unique flat indices of the candidates (read-only)."""
        return self._flat

    def to_flat(self, pairs: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Flat indices in the complete space's numbering (:meth:`PairSpace.to_flat`)."""
        return self._space.to_flat(pairs)

    def from_flat(self, flat: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Pairs of flat indices of the complete space (:meth:`PairSpace.from_flat`)."""
        return self._space.from_flat(flat)

    def contains(self, items: Any) -> np.ndarray | torch.Tensor:
        """Boolean mask: which pairs (``... x 2``) or flat indices (1-D) are candidates."""
        return _contains(self._space, self._flat, items)

    def __repr__(self) -> str:
        return (
            f"CandidateSet(n_pairs={self.n_pairs:,}, n_genes={self.n_genes}, "
            f"include_self={self.include_self})"
        )

    # collection protocol: positions index the sorted candidate array
    def _flat_at(self, positions: np.ndarray) -> np.ndarray:
        return self._flat[positions]

    def _positions_of(self, flat: np.ndarray) -> np.ndarray:
        return np.searchsorted(self._flat, flat[_isin_sorted(flat, self._flat)])

    def _chunk(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        flat = self._flat[start:stop].copy()
        return flat, self._space.from_flat(flat)


def n_pairs_for(n_genes: int, include_self: bool = True) -> int:
    """Number of unordered pairs of ``n_genes`` genes (``M (M +/- 1) / 2``)."""
    return math.comb(n_genes + (1 if include_self else 0), 2)

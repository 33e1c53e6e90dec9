"""Seeded train / validation / test splits over a screen's measured pairs.

The protocol of the NAIAD paper's small-sample benchmark (section 4.2): a fixed fraction of
the pairs is held out for testing (30%) and validation (10%); the training set is ``N`` pairs
drawn uniformly from the remaining pool. For a given seed the test and validation splits do
not depend on ``N``, and the training sets are nested (the ``N`` pairs for a smaller ``N`` are
a prefix of those for a larger one), so learning curves over ``N`` compare like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class SplitError(ValueError):
    """Raised when a split cannot be made (bad fractions, too many training pairs, ...)."""


@dataclass(frozen=True)
class PairSplit:
    """Row indices (into a screen's pair table) of one train/val/test split.

    Attributes:
        train: ``(n_train,)`` int64 indices of the training pairs.
        val: ``(n_val,)`` int64 indices of the validation pairs (disjoint from train/test).
        test: ``(n_test,)`` int64 indices of the test pairs.
        pool: ``(n_pool,)`` int64 indices of every pair available for training (train is a
            uniformly drawn subset of it).
        seed: the seed that produced the split.
    """

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    pool: np.ndarray
    seed: int

    @property
    def n_train(self) -> int:
        """Number of training pairs."""
        return int(self.train.shape[0])


def _check_fraction(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or not 0.0 <= value < 1.0:
        raise SplitError(f"{name} must be in [0, 1), got {value!r}")
    return value


def split_sizes(
    n_pairs: int, test_frac: float = 0.3, val_frac: float = 0.1
) -> tuple[int, int, int]:
    """``(n_test, n_val, n_pool)`` for ``n_pairs`` pairs; validates the fractions.

    Raises:
        SplitError: a fraction outside [0, 1) or ``test_frac + val_frac >= 1``.
    """
    test_frac = _check_fraction("test_frac", test_frac)
    val_frac = _check_fraction("val_frac", val_frac)
    if test_frac + val_frac >= 1.0:
        raise SplitError(
            f"test_frac + val_frac must be < 1 (got {test_frac} + {val_frac}); "
            "nothing would be left to train on"
        )
    n_test = int(round(test_frac * n_pairs))
    n_val = int(round(val_frac * n_pairs))
    return n_test, n_val, n_pairs - n_test - n_val


def pool_size(n_pairs: int, test_frac: float = 0.3, val_frac: float = 0.1) -> int:
    """Number of pairs left for training after removing the test and validation splits."""
    return split_sizes(n_pairs, test_frac, val_frac)[2]


def train_test_split(
    n_pairs: int,
    n_train: int | None,
    test_frac: float = 0.3,
    val_frac: float = 0.1,
    seed: int = 0,
) -> PairSplit:
    """Split ``n_pairs`` rows into test, validation and a uniformly drawn training set.

    A single permutation drawn from ``np.random.default_rng(seed)`` orders the rows; its first
    ``round(test_frac * n_pairs)`` entries are the test split, the next
    ``round(val_frac * n_pairs)`` the validation split and the rest the training pool. The
    training set is the first ``n_train`` pool entries (a uniform draw without replacement),
    so for a fixed seed the test split is independent of ``n_train`` and training sets are
    nested across ``n_train``.

    Args:
        n_pairs: number of measured pairs in the screen.
        n_train: number of training pairs; ``None`` takes the whole pool.
        test_frac: fraction of all pairs held out for testing, in [0, 1).
        val_frac: fraction of all pairs held out for validation, in [0, 1).
        seed: seed of the permutation (non-negative integer).

    Returns:
        A :class:`PairSplit` with int64 index arrays.

    Raises:
        SplitError: bad fractions, ``test_frac + val_frac >= 1``, or ``n_train`` outside
            ``[1, pool size]``.
    """
    if isinstance(n_pairs, bool) or int(n_pairs) != n_pairs or n_pairs < 1:
        raise SplitError(f"n_pairs must be a positive integer, got {n_pairs!r}")
    n_pairs = int(n_pairs)
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise SplitError(f"seed must be a non-negative integer, got {seed!r}")
    n_test, n_val, n_pool = split_sizes(n_pairs, test_frac, val_frac)
    if n_train is None:
        n_train = n_pool
    if isinstance(n_train, bool) or int(n_train) != n_train or n_train < 1:
        raise SplitError(f"n_train must be a positive integer, got {n_train!r}")
    n_train = int(n_train)
    if n_train > n_pool:
        raise SplitError(
            f"n_train={n_train} exceeds the training pool of {n_pool} pairs "
            f"({n_pairs} pairs minus {n_test} test and {n_val} validation pairs)"
        )
    rng = np.random.default_rng(int(seed))
    perm = rng.permutation(n_pairs).astype(np.int64)
    test = perm[:n_test]
    val = perm[n_test : n_test + n_val]
    pool = perm[n_test + n_val :]
    return PairSplit(train=pool[:n_train], val=val, test=test, pool=pool, seed=int(seed))

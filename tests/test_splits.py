"""Tests for naiad_bo.splits."""

from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.splits import SplitError, pool_size, train_test_split


def test_split_sizes_disjoint_and_covering():
    s = train_test_split(1000, 123, test_frac=0.3, val_frac=0.1, seed=4)
    assert s.test.size == 300 and s.val.size == 100 and s.pool.size == 600
    assert s.n_train == 123 and s.train.dtype == np.int64
    allidx = np.concatenate([s.test, s.val, s.pool])
    assert np.array_equal(np.sort(allidx), np.arange(1000))
    assert np.isin(s.train, s.pool).all()
    assert pool_size(1000, 0.3, 0.1) == 600


def test_test_split_fixed_per_seed_and_train_nested():
    small = train_test_split(6328, 224, seed=7)
    big = train_test_split(6328, 1500, seed=7)
    assert np.array_equal(small.test, big.test)
    assert np.array_equal(small.val, big.val)
    assert np.array_equal(big.train[:224], small.train)
    other = train_test_split(6328, 224, seed=8)
    assert not np.array_equal(other.test, small.test)
    again = train_test_split(6328, 224, seed=7)
    assert np.array_equal(again.train, small.train)


def test_train_is_uniform_over_pool():
    # every pool element is equally likely to be drawn: check over many seeds on a tiny set
    counts = np.zeros(20)
    for seed in range(2000):
        s = train_test_split(20, 5, test_frac=0.0, val_frac=0.0, seed=seed)
        counts[s.train] += 1
    assert counts.min() > 0.8 * counts.mean() and counts.max() < 1.2 * counts.mean()


def test_none_takes_whole_pool():
    s = train_test_split(100, None, seed=0)
    assert s.n_train == 60


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_pairs=100, n_train=61), "exceeds the training pool of 60"),
        (dict(n_pairs=100, n_train=0), "positive integer"),
        (dict(n_pairs=100, n_train=5, test_frac=0.7, val_frac=0.3), "< 1"),
        (dict(n_pairs=100, n_train=5, test_frac=-0.1), "test_frac"),
        (dict(n_pairs=100, n_train=5, val_frac=float("nan")), "val_frac"),
        (dict(n_pairs=0, n_train=5), "n_pairs"),
        (dict(n_pairs=100, n_train=5, seed=-1), "seed"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(SplitError, match=match):
        train_test_split(**kwargs)
    assert issubclass(SplitError, ValueError)

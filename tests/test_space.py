"""Tests for naiad_bo.space: flat indexing, chunked enumeration, exclusion, sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.space import CandidateSet, PairSet, PairSpace


def brute_pairs(m: int, include_self: bool) -> np.ndarray:
    """All canonical pairs in row-major upper-triangle order, by explicit enumeration."""
    rows = [(a, b) for a in range(m) for b in range(a if include_self else a + 1, m)]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def row_starts(m: int, include_self: bool) -> np.ndarray:
    """Flat index of the first pair of every row, by cumulative row lengths (no closed form)."""
    lengths = np.arange(m, 0, -1, dtype=np.int64) - (0 if include_self else 1)
    return np.concatenate([[0], np.cumsum(lengths)[:-1]])


def collect(chunks) -> tuple[np.ndarray, np.ndarray, list[int]]:
    flats, pairs, sizes = [], [], []
    for flat, pair in chunks:
        assert flat.dtype == torch.int64 and pair.dtype == torch.int64
        assert pair.shape == (len(flat), 2)
        flats.append(flat.numpy())
        pairs.append(pair.numpy())
        sizes.append(len(flat))
    if not flats:
        return np.empty(0, np.int64), np.empty((0, 2), np.int64), []
    return np.concatenate(flats), np.concatenate(pairs), sizes


# ------------------------------------------------------------------------------------------
# indexing


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("m", [1, 2, 5, 112])
def test_round_trip_exhaustive(m, include_self):
    space = PairSpace(m, include_self=include_self)
    ref = brute_pairs(m, include_self)
    assert space.n_pairs == len(space) == len(ref) == m * (m + (1 if include_self else -1)) // 2
    flat = np.arange(space.n_pairs)
    np.testing.assert_array_equal(space.from_flat(flat), ref)
    np.testing.assert_array_equal(space.to_flat(ref), flat)
    np.testing.assert_array_equal(space.to_flat(ref[:, ::-1]), flat)  # swapped order


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("m", [20_000, 3_000_000])
def test_round_trip_large_at_row_boundaries(m, include_self):
    """Exact at every row boundary sampled (first/last rows and random rows), incl. huge M."""
    space = PairSpace(m, include_self=include_self)
    n_rows = m if include_self else m - 1
    rng = np.random.default_rng(0)
    rows = np.unique(
        np.concatenate(
            [np.arange(40), np.arange(n_rows - 40, n_rows), rng.integers(0, n_rows, 2000)]
        )
    )
    if m <= 20_000:
        starts = row_starts(m, include_self)[rows]
    else:  # exact Python-int arithmetic, independent of the numpy closed form
        k = n_rows
        starts = np.array([a * k - a * (a - 1) // 2 for a in rows.tolist()], dtype=np.int64)
    row_len = n_rows - rows
    # the first and last pair of each row, and their neighbours across the boundary
    flat = np.concatenate([starts, starts + row_len - 1, starts - 1, starts + row_len])
    flat = flat[(flat >= 0) & (flat < space.n_pairs)]
    pairs = space.from_flat(flat)
    assert (pairs[:, 0] <= pairs[:, 1]).all()
    if not include_self:
        assert (pairs[:, 0] < pairs[:, 1]).all()
    assert pairs.max() < m
    np.testing.assert_array_equal(space.to_flat(pairs), flat)
    # the first pair of row a is (a, a) or (a, a + 1)
    first = space.from_flat(starts)
    np.testing.assert_array_equal(first[:, 0], rows)
    np.testing.assert_array_equal(first[:, 1], rows + (0 if include_self else 1))
    last = space.from_flat(starts + row_len - 1)
    np.testing.assert_array_equal(last, np.stack([rows, np.full_like(rows, m - 1)], 1))


def test_last_flat_index_at_20000():
    space = PairSpace(20_000)
    assert space.n_pairs == 200_010_000
    np.testing.assert_array_equal(
        space.from_flat(np.array([0, space.n_pairs - 1])), [[0, 0], [19_999, 19_999]]
    )


def test_torch_and_float_inputs_and_batch_shapes():
    space = PairSpace(10)
    x = torch.tensor([[[3.0, 1.0], [2.0, 2.0]], [[0.0, 9.0], [9.0, 9.0]]], dtype=torch.float64)
    flat = space.to_flat(x)
    assert isinstance(flat, torch.Tensor) and flat.dtype == torch.int64
    assert flat.shape == (2, 2)
    back = space.from_flat(flat)
    assert isinstance(back, torch.Tensor) and back.shape == (2, 2, 2)
    torch.testing.assert_close(back, x.sort(dim=-1).values.long())
    # numpy in, numpy out
    assert isinstance(space.to_flat(np.array([[1, 2]])), np.ndarray)


@pytest.mark.parametrize(
    "pairs, match",
    [
        (np.array([[0, 10]]), "out of range"),
        (np.array([[-1, 3]]), "out of range"),
        (np.array([[0.5, 3.0]]), "integer values"),
        (np.array([[np.nan, 3.0]]), "NaN"),
        (np.array([1, 2, 3]), "shape"),
        (np.array([[1, 2, 3]]), "shape"),
    ],
)
def test_to_flat_errors(pairs, match):
    with pytest.raises(ValueError, match=match):
        PairSpace(10).to_flat(pairs)


def test_to_flat_rejects_bool_and_self_pairs_without_self():
    with pytest.raises(TypeError, match="boolean"):
        PairSpace(10).to_flat(np.array([[True, False]]))
    with pytest.raises(ValueError, match="same-gene"):
        PairSpace(10, include_self=False).to_flat(np.array([[0, 1], [4, 4]]))
    assert PairSpace(10).to_flat(np.array([[4, 4]]))[0] == 4 * 10 - 4 * 3 // 2


def test_from_flat_errors_and_constructor_errors():
    space = PairSpace(5)
    with pytest.raises(ValueError, match="out of range"):
        space.from_flat(np.array([15]))
    with pytest.raises(ValueError, match="out of range"):
        space.from_flat(np.array([-1]))
    with pytest.raises(ValueError, match=">= 1"):
        PairSpace(0)
    with pytest.raises(TypeError):
        PairSpace(5.0)
    assert "n_genes=5" in repr(space)
    assert PairSpace(5) == PairSpace(5) != PairSpace(5, include_self=False)


def test_real_screen_is_the_complete_triangle(norman):
    """Norman's pairs are a complete upper triangle incl. same-gene pairs: one pair per flat."""
    space = PairSpace(norman.n_genes)
    flat = space.to_flat(norman.pair_index())
    assert space.n_pairs == norman.n_pairs
    np.testing.assert_array_equal(np.sort(flat), np.arange(space.n_pairs))


# ------------------------------------------------------------------------------------------
# PairSet


def test_pair_set_membership_and_dedup():
    space = PairSpace(6)
    s = PairSet(space, np.array([[3, 1], [1, 3], [0, 0]]))
    assert len(s) == 2
    s.add(np.array([space.to_flat(np.array([[5, 5]]))[0], 0]))  # flat indices, one duplicate
    assert len(s) == 3
    assert (1, 3) in s and (3, 1) in s and (5, 5) in s and (2, 2) not in s
    assert 0 in s and 1 not in s
    mask = s.contains(np.array([[1, 3], [2, 4], [5, 5]]))
    np.testing.assert_array_equal(mask, [True, False, True])
    tmask = s.contains(torch.tensor([[3, 1], [0, 1]]))
    assert isinstance(tmask, torch.Tensor) and tmask.tolist() == [True, False]
    np.testing.assert_array_equal(s.flat, np.sort(s.flat))
    with pytest.raises(ValueError):
        s.flat[0] = 7  # read-only view
    torch.testing.assert_close(s.pairs(), torch.tensor([[0, 0], [1, 3], [5, 5]]))
    other = s.copy().add(np.array([[2, 2]]))
    assert len(other) == 4 and len(s) == 3


def test_pair_set_validates_items_and_space():
    s = PairSet(PairSpace(6))
    with pytest.raises(ValueError, match="out of range"):
        s.add(np.array([[0, 6]]))
    with pytest.raises(ValueError, match="out of range"):
        s.add(np.array([21]))
    with pytest.raises(ValueError, match="shape"):
        s.add(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="belongs to"):
        PairSpace(7).n_available(PairSet(PairSpace(6), np.array([0])))


# ------------------------------------------------------------------------------------------
# chunks and exclusion


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("chunk_size", [1, 7, 1000, 10**6])
def test_iter_chunks_covers_each_available_pair_once(include_self, chunk_size):
    m = 112
    space = PairSpace(m, include_self)
    ref = brute_pairs(m, include_self)
    rng = np.random.default_rng(1)
    ex_rows = rng.choice(len(ref), 500, replace=False)
    # excluded given as swapped-order pairs
    exclude = PairSet(space, ref[ex_rows][:, ::-1])
    flat, pairs, sizes = collect(space.iter_chunks(chunk_size, exclude=exclude))
    expected = np.setdiff1d(np.arange(len(ref)), ex_rows)
    np.testing.assert_array_equal(flat, expected)  # exactly once, in flat order
    np.testing.assert_array_equal(pairs, ref[expected])
    assert max(sizes) <= chunk_size and min(sizes) >= 1
    assert space.n_available(exclude) == len(expected) == space.n_pairs - 500


@pytest.mark.parametrize("form", ["pairset", "flat", "pairs", "swapped", "tensor"])
def test_exclusion_forms_agree(form):
    space = PairSpace(30)
    rng = np.random.default_rng(2)
    ex_flat = rng.choice(space.n_pairs, 77, replace=False)
    ex_pairs = space.from_flat(ex_flat)
    exclude = {
        "pairset": PairSet(space, ex_flat),
        "flat": ex_flat,
        "pairs": ex_pairs,
        "swapped": ex_pairs[:, ::-1].copy(),
        "tensor": torch.from_numpy(ex_pairs[:, ::-1].copy()),
    }[form]
    flat, _, _ = collect(space.iter_chunks(64, exclude=exclude))
    np.testing.assert_array_equal(flat, np.setdiff1d(np.arange(space.n_pairs), ex_flat))
    assert space.n_available(exclude) == space.n_pairs - 77


def test_iter_chunks_m2000_fast_path():
    """2,001,000 pairs: the chunked pass yields n_pairs - excluded pairs, canonical and sorted."""
    space = PairSpace(2000)
    rng = np.random.default_rng(3)
    ex_flat = rng.choice(space.n_pairs, 10_000, replace=False)
    exclude = PairSet(space, ex_flat)
    total, prev_last, checked = 0, -1, 0
    for flat, pairs in space.iter_chunks(2**18, exclude=exclude):
        f = flat.numpy()
        assert f[0] > prev_last and (np.diff(f) > 0).all()
        assert (pairs[:, 0] <= pairs[:, 1]).all()
        assert not exclude.contains(f).any()
        idx = rng.integers(0, len(f), 100)  # pairs agree with the exact inverse
        np.testing.assert_array_equal(pairs.numpy()[idx], space.from_flat(f[idx]))
        prev_last, total, checked = f[-1], total + len(f), checked + 1
    assert total == space.n_pairs - 10_000 == space.n_available(exclude)
    assert prev_last == space.n_pairs - 1 or space.n_pairs - 1 in ex_flat
    assert checked == -(-space.n_pairs // 2**18)


def test_iter_chunks_everything_excluded_and_bad_chunk_size():
    space = PairSpace(4)
    assert list(space.iter_chunks(3, exclude=np.arange(space.n_pairs))) == []
    assert space.n_available(np.arange(space.n_pairs)) == 0
    with pytest.raises(ValueError, match="chunk_size"):
        next(space.iter_chunks(0))


# ------------------------------------------------------------------------------------------
# sampling


def test_sample_is_uniform_without_replacement_over_available():
    space = PairSpace(5)  # 15 pairs
    exclude = PairSet(space, np.array([0, 7, 14]))
    rng = np.random.default_rng(4)
    counts = np.zeros(space.n_pairs)
    reps = 4000
    for _ in range(reps):
        s = space.sample(6, seed=rng, exclude=exclude)
        f = space.to_flat(s.numpy())
        assert len(np.unique(f)) == 6
        counts[f] += 1
    assert counts[[0, 7, 14]].sum() == 0
    freq = np.delete(counts, [0, 7, 14]) / reps
    # each available pair is included with probability 6 / 12; s.d. of freq = 0.0079
    np.testing.assert_allclose(freq, 0.5, atol=0.04)


def test_sample_deterministic_and_seed_types():
    space = PairSpace(50)
    a = space.sample(20, seed=11)
    torch.testing.assert_close(a, space.sample(20, seed=11))
    assert not torch.equal(a, space.sample(20, seed=12))
    torch.testing.assert_close(
        space.sample(5, seed=torch.Generator().manual_seed(3)),
        space.sample(5, seed=torch.Generator().manual_seed(3)),
    )
    with pytest.raises(TypeError, match="seed"):
        space.sample(5, seed=None)


def test_sample_dense_exclusion_and_limits():
    space = PairSpace(112)
    keep = np.array([3, 100, 2000, 6000, 6327])
    exclude = np.setdiff1d(np.arange(space.n_pairs), keep)
    s = space.sample(5, seed=0, exclude=exclude)
    np.testing.assert_array_equal(np.sort(space.to_flat(s.numpy())), keep)
    with pytest.raises(ValueError, match="5 available"):
        space.sample(6, seed=0, exclude=exclude)
    assert space.sample(0, seed=0).shape == (0, 2)


def test_sample_large_space_without_materialising():
    """M = 20,000 (2e8 pairs): rejection path, distinct, excluded avoided, roughly uniform."""
    space = PairSpace(20_000)
    exclude = PairSet(space, np.arange(0, 3_000_000, 3))  # dense block at the start
    s = space.sample(100_000, seed=5, exclude=exclude)
    f = space.to_flat(s.numpy())
    assert s.shape == (100_000, 2) and len(np.unique(f)) == 100_000
    assert not exclude.contains(f).any()
    # mean flat index of a uniform draw ~ n_pairs / 2 (s.e. ~ 0.3% of n_pairs)
    assert abs(f.mean() / space.n_pairs - 0.5) < 0.01
    # first 3e6 flats have 2/3 available: expected count 100k * 2e6 / (2e8 - 1e6)
    n_block = (f < 3_000_000).sum()
    assert abs(n_block - 100_000 * 2e6 / (space.n_pairs - 1e6)) < 5 * np.sqrt(1005)


# ------------------------------------------------------------------------------------------
# CandidateSet


def test_candidate_set_interface():
    m = 20
    full = PairSpace(m)
    rng = np.random.default_rng(6)
    cand_flat = np.sort(rng.choice(full.n_pairs, 60, replace=False))
    pairs = full.from_flat(cand_flat)
    messy = np.concatenate([pairs[:, ::-1], pairs[:10]])  # swapped and duplicated
    cands = CandidateSet(messy, m)
    assert cands.n_pairs == len(cands) == 60
    assert cands.space == full
    np.testing.assert_array_equal(cands.flat, cand_flat)
    # exclusion may name pairs outside the candidate set; they do not count
    outside = np.setdiff1d(np.arange(full.n_pairs), cand_flat)[:5]
    exclude = PairSet(cands, np.concatenate([cand_flat[::4], outside]))
    flat, got_pairs, sizes = collect(cands.iter_chunks(7, exclude=exclude))
    expected = np.setdiff1d(cand_flat, cand_flat[::4])
    np.testing.assert_array_equal(flat, expected)
    np.testing.assert_array_equal(got_pairs, full.from_flat(expected))
    assert max(sizes) <= 7
    assert cands.n_available(exclude) == len(expected) == 45
    s = cands.sample(45, seed=0, exclude=exclude)
    np.testing.assert_array_equal(np.sort(cands.to_flat(s.numpy())), expected)
    with pytest.raises(ValueError, match="45 available"):
        cands.sample(46, seed=0, exclude=exclude)
    np.testing.assert_array_equal(
        cands.contains(np.vstack([pairs[:2], full.from_flat(outside[:1])])), [True, True, False]
    )
    with pytest.raises(ValueError, match="same-gene"):
        CandidateSet(np.array([[1, 1]]), 5, include_self=False)


def test_candidate_set_from_real_screen_subset(norman):
    """An incomplete screen: the distinct-gene pairs of Norman, minus a measured set."""
    idx = norman.pair_index()
    distinct = idx[idx[:, 0] != idx[:, 1]]
    cands = CandidateSet(distinct, norman.n_genes, include_self=False)
    assert cands.n_pairs == len(distinct) == PairSpace(norman.n_genes, False).n_pairs
    measured = PairSet(cands, distinct[:500][:, ::-1])
    total = sum(len(f) for f, _ in cands.iter_chunks(1000, exclude=measured))
    assert total == cands.n_available(measured) == len(distinct) - 500

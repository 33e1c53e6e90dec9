"""Tests for naiad_bo.metrics, on hand-computed cases and on the real Norman screen."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from naiad_bo.direction import Direction
from naiad_bo.metrics import (
    hit_ratio,
    marginal_gain,
    measured_recall,
    pearson,
    rmse,
    strength_order,
    top_k_curve,
    top_k_discovered,
)


def reference_top_k_discovered(y_true, y_pred, measured, k, direction):
    """Slow, obviously-correct reference: Python sort by (-strength, index), set overlap."""
    d = Direction.parse(direction)
    combined = [t if m else p for t, p, m in zip(y_true, y_pred, measured, strict=True)]
    s_true = d.strength(np.asarray(y_true, dtype=float))
    s_comb = d.strength(np.asarray(combined, dtype=float))
    top_true = sorted(range(len(y_true)), key=lambda i: (-s_true[i], i))[:k]
    top_comb = sorted(range(len(y_true)), key=lambda i: (-s_comb[i], i))[:k]
    return len(set(top_true) & set(top_comb))


# ------------------------------------------------------------------------------------------
# hand-computed cases

Y_TRUE = np.array([-5.0, -1.0, -3.0, 0.0, -4.0, 2.0])
Y_PRED = np.array([0.0, -10.0, -3.5, -9.0, 1.0, 0.0])
MEASURED = np.array([False, False, False, False, True, False])
# combined = [0, -10, -3.5, -9, -4 (measured), 0]; true order 0, 4, 2, 1, 3, 5
# combined order 1, 3, 4, 2, 0, 5 (0 and 5 tie at 0.0: lower index first)


def test_top_k_hand_computed():
    assert top_k_discovered(Y_TRUE, Y_PRED, MEASURED, k=3) == 1  # {0,4,2} & {1,3,4}
    assert top_k_discovered(Y_TRUE, Y_PRED, MEASURED, k=4) == 3  # {0,4,2,1} & {1,3,4,2}
    np.testing.assert_array_equal(
        top_k_curve(Y_TRUE, Y_PRED, MEASURED, [1, 2, 3, 4, 5, 6]), [0, 0, 1, 3, 5, 6]
    )


def test_measured_pairs_count_at_measured_value():
    """The prediction of a measured pair is ignored, even NaN (no merge on floats)."""
    pred = Y_PRED.copy()
    pred[4] = np.nan
    assert top_k_discovered(Y_TRUE, pred, MEASURED, k=5) == 5  # combined order 1, 3, 4, 2, 0
    pred[4] = 100.0  # a terrible prediction for the measured pair changes nothing
    assert top_k_discovered(Y_TRUE, pred, MEASURED, k=5) == 5
    # not measured: its prediction (100) pushes pair 4 out of the top-5
    assert top_k_discovered(Y_TRUE, pred, np.zeros(6, bool), k=5) == 4


def test_ties_are_deterministic_by_index():
    y = np.array([-1.0, -1.0, -1.0, 0.0])
    np.testing.assert_array_equal(strength_order(y), [0, 1, 2, 3])
    # prediction ties: lower index wins, so index 1 is in the top-2 with index 0
    pred = np.array([-2.0, -2.0, -2.0, -2.0])
    assert top_k_discovered(y, pred, np.zeros(4, bool), k=2) == 2
    assert measured_recall(y, np.array([False, False, True, False]), k=2) == 0


def test_direction_variants_hand_computed():
    # MAXIMIZE: true order 5, 3, 1, 2, 4, 0; combined [0,-10,-3.5,-9,-4,0] order 0, 5, 2, 4, 3, 1
    assert top_k_discovered(Y_TRUE, Y_PRED, MEASURED, k=2, direction="maximize") == 1
    # ABS: |true| order 0, 4, 2, 5, 1, 3; |combined| order 1, 3, 4, 2, 0, 5
    assert top_k_discovered(Y_TRUE, Y_PRED, MEASURED, k=3, direction=Direction.ABS) == 1
    assert top_k_discovered(Y_TRUE, Y_PRED, MEASURED, k=4, direction=Direction.ABS) == 2


def test_measured_recall_and_marginal_gain_hand_computed():
    measured = np.array([True, True, False, False, True, False])
    assert measured_recall(Y_TRUE, measured, k=3) == 2  # true top-3 {0,4,2}: 0 and 4 measured
    assert measured_recall(Y_TRUE, measured, k=3, direction="maximize") == 1  # {5,3,1}
    assert marginal_gain([92, 100, 110, 120, 144]) == 13.0
    assert marginal_gain(np.array([5, 3])) == -2.0
    assert marginal_gain(torch.tensor([1.0, 2.0, 4.0])) == 1.5
    with pytest.raises(ValueError, match="round 0"):
        marginal_gain([7])


def test_hit_ratio_hand_computed():
    y = np.zeros(20)
    y[1], y[2], y[4] = -5.0, 3.0, -0.3
    acquired = np.zeros(20, bool)
    acquired[1] = True
    assert hit_ratio(y, acquired, top_frac=0.1) == 0.5  # top-2 by |y|: 1, 2
    assert hit_ratio(y, np.array([1, 1, 7]), top_frac=0.1) == 0.5  # indices, duplicates ok
    assert hit_ratio(y, torch.tensor([1, 4]), top_frac=0.1, direction="minimize") == 1.0
    assert hit_ratio(y, np.array([], dtype=np.int64), top_frac=0.1) == 0.0
    # ceil(0.05 * 30) = 2 interesting entries; ceil(0.05 * 100) = 5, not 6
    assert hit_ratio(np.arange(30.0), np.array([29]), top_frac=0.05) == 0.5
    assert hit_ratio(np.arange(100.0), np.array([99]), top_frac=0.05) == 0.2


def test_rmse_and_pearson_hand_computed():
    assert rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert rmse(np.ones((4, 1)), torch.zeros(4, 1)) == 1.0  # n x 1 columns accepted
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)


def test_pearson_of_constant_is_nan_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(pearson([0.1, 0.1, 0.1], [1.0, 2.0, 3.0]))
        assert np.isnan(pearson([1.0, 2.0], [5.0, 5.0]))
        assert np.isnan(pearson([1.0], [2.0]))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: rmse([1.0, np.nan], [1.0, 2.0]), ValueError, "NaN"),
        (lambda: pearson([1.0, 2.0], [np.inf, 2.0]), ValueError, "NaN/infinite"),
        (lambda: rmse([1.0, 2.0], [1.0]), ValueError, "length"),
        (lambda: rmse([], []), ValueError, "empty"),
        (lambda: top_k_discovered(Y_TRUE, Y_PRED, MEASURED.astype(int)), TypeError, "boolean"),
        (lambda: top_k_discovered(Y_TRUE, Y_PRED, MEASURED, k=7), ValueError, r"\[1, 6\]"),
        (lambda: top_k_discovered(Y_TRUE, Y_PRED, MEASURED, k=0), ValueError, "k must"),
        (lambda: top_k_discovered(Y_TRUE, Y_PRED[:5], MEASURED), ValueError, "length"),
        (lambda: top_k_discovered(Y_TRUE, Y_PRED, MEASURED[:5]), ValueError, "length 6"),
        (
            lambda: top_k_discovered(Y_TRUE, np.full(6, np.nan), MEASURED),
            ValueError,
            "unmeasured",
        ),
        (lambda: top_k_discovered(Y_TRUE, Y_PRED, MEASURED, direction="up"), ValueError, "up"),
        (lambda: measured_recall(np.array([np.nan]), np.array([True]), k=1), ValueError, "NaN"),
        (lambda: hit_ratio(Y_TRUE, np.array([0.5])), TypeError, "acquired"),
        (lambda: hit_ratio(Y_TRUE, np.array([6])), ValueError, r"\[0, 6\)"),
        (lambda: hit_ratio(Y_TRUE, MEASURED, top_frac=0.0), ValueError, "top_frac"),
    ],
)
def test_bad_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ------------------------------------------------------------------------------------------
# the real Norman screen (6,328 pairs)


@pytest.fixture(scope="module")
def norman_case(norman):
    """True values, a noisy prediction and a random measured mask on Norman."""
    rng = np.random.default_rng(0)
    y = norman.y_values()
    pred = y + rng.normal(0.0, 0.1, size=len(y))
    measured = np.zeros(len(y), bool)
    measured[rng.choice(len(y), 500, replace=False)] = True
    return y, pred, measured


def test_real_perfect_predictions_find_everything(norman_case):
    y, _, measured = norman_case
    for k in (1, 50, 200, len(y)):
        assert top_k_discovered(y, y, measured, k=k) == k
        assert top_k_discovered(y, y.copy(), np.zeros(len(y), bool), k=k) == k


def test_real_everything_measured_ignores_predictions(norman_case):
    y, pred, _ = norman_case
    rng = np.random.default_rng(1)
    junk = rng.normal(size=len(y))
    all_measured = np.ones(len(y), bool)
    assert top_k_discovered(y, junk, all_measured, k=200) == 200
    assert measured_recall(y, all_measured, k=200) == 200
    assert top_k_discovered(y, junk, np.zeros(len(y), bool), k=200) < 50  # junk alone fails


def test_real_matches_reference_and_direction_symmetry(norman_case):
    y, pred, measured = norman_case
    found = top_k_discovered(y, pred, measured, k=200)
    assert found == reference_top_k_discovered(y, pred, measured, 200, "minimize")
    assert 0 < found < 200  # a noisy prediction: neither trivial nor perfect
    # maximising the negated phenotype is the same problem
    assert top_k_discovered(-y, -pred, measured, k=200, direction="maximize") == found
    assert measured_recall(-y, measured, k=200, direction="maximize") == measured_recall(
        y, measured, k=200
    )
    for d in ("maximize", "abs"):
        assert top_k_discovered(y, pred, measured, k=150, direction=d) == (
            reference_top_k_discovered(y, pred, measured, 150, d)
        )


def test_real_curve_torch_and_bounds(norman_case):
    y, pred, measured = norman_case
    ks = [1, 10, 100, 200, 1000, len(y)]
    curve = top_k_curve(y, pred, measured, ks)
    np.testing.assert_array_equal(curve, [top_k_discovered(y, pred, measured, k=k) for k in ks])
    assert curve[-1] == len(y)
    t_curve = top_k_curve(torch.tensor(y), torch.tensor(pred), torch.tensor(measured), ks)
    np.testing.assert_array_equal(t_curve, curve)
    # measured pairs count at their true values, so discovery >= the lab's recall
    for k in ks:
        assert top_k_discovered(y, pred, measured, k=k) >= measured_recall(y, measured, k=k)


def test_real_measuring_the_true_top_k(norman):
    """Measuring exactly the true top-200 gives recall 200; a uniform 500 of 6,328 gives ~16."""
    y = norman.y_values()
    top = strength_order(y, norman.direction)[:200]
    measured = np.zeros(len(y), bool)
    measured[top[:120]] = True
    assert measured_recall(y, measured, k=200) == 120
    measured[top] = True
    assert measured_recall(y, measured, k=200) == 200
    rng = np.random.default_rng(2)
    recalls = []
    for _ in range(20):
        m = np.zeros(len(y), bool)
        m[rng.choice(len(y), 500, replace=False)] = True
        recalls.append(measured_recall(y, m, k=200))
    assert abs(np.mean(recalls) - 200 * 500 / len(y)) < 3  # hypergeometric mean 15.8, s.e. ~0.8


def test_real_single_effect_sum_baseline(norman):
    """Ranking all pairs by y_a + y_b recovers ~37% of Norman's true top-100 (anchors.md)."""
    idx = norman.pair_index()
    pred = norman.single_effects[idx[:, 0]] + norman.single_effects[idx[:, 1]]
    found = top_k_discovered(
        norman.y_values(), pred, np.zeros(norman.n_pairs, bool), k=100, direction=norman.direction
    )
    assert 30 <= found <= 45


def test_real_hit_ratio_rmse_pearson(norman_case):
    y, pred, measured = norman_case
    n_top = int(np.ceil(0.05 * len(y)))
    top_abs = np.argsort(-np.abs(y), kind="stable")[:n_top]
    expected = np.isin(top_abs, np.flatnonzero(measured)).mean()
    assert hit_ratio(y, measured) == pytest.approx(expected)
    acquired = np.zeros(len(y), bool)
    acquired[top_abs] = True
    assert hit_ratio(y, acquired) == 1.0
    assert rmse(y, pred) == pytest.approx(0.1, rel=0.05)  # the noise s.d. we added
    assert rmse(y, y) == 0.0
    assert pearson(y, pred) == pytest.approx(np.corrcoef(y, pred)[0, 1], abs=1e-12)
    assert pearson(y, y) == pytest.approx(1.0)

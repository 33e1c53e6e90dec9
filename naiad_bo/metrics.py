"""Campaign metrics: top-k discovered, marginal gain, measured recall, hit ratio, RMSE, Pearson.

Calibration metrics (coverage, Gaussian NLL, ...) live in :mod:`naiad_bo.calibration` and are
re-exported here.

All functions take aligned 1-D arrays over the same ``N`` pairs (numpy or torch), never
merged tables: entry ``i`` of ``y_true``, ``y_pred`` and ``measured`` is the same pair. The
reference NAIAD code built its "measured + predicted" set with a merge on float columns and
left ~40% of the acquired pairs at their predicted values; aligned arrays make that
impossible.

"Strongest" follows a :class:`~naiad_bo.direction.Direction` (default ``MINIMIZE``: most
negative phenotype is strongest). Rankings break ties deterministically by index (a stable
sort): among equally strong pairs the one with the lower index ranks first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from naiad_bo.direction import Direction

__all__ = [
    "calibration_curve",
    "calibration_metrics",
    "calibration_spearman",
    "gaussian_nll",
    "hit_ratio",
    "interval_coverage",
    "marginal_gain",
    "measured_recall",
    "nll_homoscedastic",
    "pearson",
    "plot_reliability",
    "rmse",
    "strength_order",
    "top_k_curve",
    "top_k_discovered",
]


# --------------------------------------------------------------------------------------------
# input handling


def _values(x: Any, name: str, *, allow_nan: bool = False) -> np.ndarray:
    """1-D float64 numpy copy of ``x`` (numpy, torch or sequence); non-finite values rejected."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or not (
        np.issubdtype(arr.dtype, np.number) or (arr.dtype == object and arr.size == 0)
    ):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued")
    if arr.ndim == 2 and arr.shape[1] == 1:  # a column (n x 1), as BoTorch outcomes are
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (or n x 1), got shape {tuple(arr.shape)}")
    arr = arr.astype(np.float64)
    if not allow_nan:
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(
                f"{name} contains {int(bad.sum())} NaN/infinite value(s), first at index "
                f"{int(np.flatnonzero(bad)[0])}"
            )
    return arr


def _mask(x: Any, name: str, n: int) -> np.ndarray:
    """1-D boolean numpy mask of length ``n``."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x)
    if arr.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean mask, got dtype {arr.dtype}")
    if arr.ndim != 1 or len(arr) != n:
        raise ValueError(f"{name} must be a 1-D mask of length {n}, got shape {tuple(arr.shape)}")
    return arr


def _same_length(n: int, **arrays: np.ndarray) -> None:
    for name, arr in arrays.items():
        if len(arr) != n:
            raise ValueError(f"{name} has length {len(arr)}, expected {n} (aligned arrays)")


def _check_k(k: Any, n: int, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(k).__name__}")
    if not 1 <= k <= n:
        raise ValueError(f"{name} must be in [1, {n}] (number of pairs), got {k}")
    return int(k)


def strength_order(y: Any, direction: Direction | str | None = None) -> np.ndarray:
    """Indices of ``y`` from strongest to weakest, ties broken by lower index (stable).

    Args:
        y: ``N`` phenotype values (numpy or torch).
        direction: Which values are strongest (default ``MINIMIZE``).

    Returns:
        ``N`` int64 indices, a permutation of ``0 .. N-1``.
    """
    values = _values(y, "y")
    strength = Direction.parse(direction).strength(values)
    return np.argsort(-strength, kind="stable")


def _ranks(values: np.ndarray, direction: Direction) -> np.ndarray:
    """Rank of each entry (0 = strongest), deterministic ties."""
    order = np.argsort(-direction.strength(values), kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values), dtype=np.int64)
    return ranks


# --------------------------------------------------------------------------------------------
# discovery metrics (NAIAD paper, appendix D)


def top_k_curve(
    y_true: Any,
    y_pred: Any,
    measured: Any,
    ks: Sequence[int] | np.ndarray,
    direction: Direction | str | None = None,
) -> np.ndarray:
    """Top-k discovered for several ``k`` at once (one sort each, O(N log N) in total).

    For each ``k``: build ``X = measured value if measured else prediction``, take the ``k``
    strongest entries of ``X`` and count how many are among the ``k`` strongest of ``y_true``
    (the true top-k over *all* pairs). Equivalently, pair ``i`` counts for every
    ``k > max(rank_true(i), rank_X(i))``.

    Args:
        y_true: ``N`` true values of every pair.
        y_pred: ``N`` predictions; entries of measured pairs are ignored (may be NaN).
        measured: ``N`` boolean mask of pairs measured so far.
        ks: Values of ``k`` (each in ``[1, N]``).
        direction: Which values are strongest (default ``MINIMIZE``).

    Returns:
        int64 array, ``len(ks)``: the number discovered for each ``k``.
    """
    direction = Direction.parse(direction)
    truth = _values(y_true, "y_true")
    n = len(truth)
    if n == 0:
        raise ValueError("y_true is empty")
    pred = _values(y_pred, "y_pred", allow_nan=True)
    _same_length(n, y_pred=pred)
    mask = _mask(measured, "measured", n)
    combined = np.where(mask, truth, pred)
    bad = ~np.isfinite(combined)
    if bad.any():
        raise ValueError(
            f"y_pred contains {int(bad.sum())} NaN/infinite value(s) at unmeasured pairs, first "
            f"at index {int(np.flatnonzero(bad)[0])}"
        )
    ks_arr = np.asarray(ks)
    if ks_arr.ndim != 1 or len(ks_arr) == 0:
        raise ValueError(f"ks must be a non-empty 1-D sequence, got shape {ks_arr.shape}")
    ks_list = [_check_k(k, n, "each k") for k in ks_arr.tolist()]
    last_rank = np.maximum(_ranks(truth, direction), _ranks(combined, direction))
    last_rank.sort()
    return np.searchsorted(last_rank, np.asarray(ks_list, dtype=np.int64), side="left")


def top_k_discovered(
    y_true: Any,
    y_pred: Any,
    measured: Any,
    k: int = 200,
    direction: Direction | str | None = None,
) -> int:
    """Number of the true top-k pairs found by "measured values + predictions" (NAIAD App. D).

    ``X`` holds measured values for measured pairs and predictions for the rest; the result
    is ``|topk(X) & topk(y_true)|``, both top-k taken over all ``N`` pairs. Divide by ``k``
    for the paper's "fraction discovered". Measured pairs count at their *measured* value.

    Args:
        y_true: ``N`` true values of every pair.
        y_pred: ``N`` predictions; entries of measured pairs are ignored (may be NaN).
        measured: ``N`` boolean mask of measured pairs.
        k: Size of the top set (default 200, as in the paper's tables).
        direction: Which values are strongest (default ``MINIMIZE``).

    Returns:
        An int in ``[0, k]``.
    """
    return int(top_k_curve(y_true, y_pred, measured, [k], direction)[0])


def measured_recall(
    y_true: Any,
    measured: Any,
    k: int = 200,
    direction: Direction | str | None = None,
) -> int:
    """Number of the true top-k pairs that have actually been measured (the lab's view).

    Needs no model. It can exceed ``top_k_discovered``: a model whose predictions for
    unmeasured pairs are too strong pushes measured true top-k pairs out of the combined
    top-k (ranking by y_a + y_b on Norman measures 105 true top-200 pairs by round 4 but
    "discovers" only 52).

    Args:
        y_true: ``N`` true values.
        measured: ``N`` boolean mask of measured pairs.
        k: Size of the true top set.
        direction: Which values are strongest (default ``MINIMIZE``).

    Returns:
        An int in ``[0, k]``.
    """
    truth = _values(y_true, "y_true")
    n = len(truth)
    if n == 0:
        raise ValueError("y_true is empty")
    mask = _mask(measured, "measured", n)
    k = _check_k(k, n)
    top = strength_order(truth, direction)[:k]
    return int(mask[top].sum())


def marginal_gain(discovered_per_round: Any) -> float:
    """``(P_last - P_0) / rounds``: discoveries gained per acquisition round.

    With ``P = [P_0, ..., P_R]`` (top-k discovered after round 0, ..., R), this is
    ``(P_R - P_0) / R``; the paper's Table 3 is ``R = 4``, ``k = 200``.

    Args:
        discovered_per_round: ``R + 1 >= 2`` values, round 0 first.

    Returns:
        The gain as a float.
    """
    p = _values(discovered_per_round, "discovered_per_round")
    if len(p) < 2:
        raise ValueError(
            f"marginal_gain needs round 0 and at least one more round, got {len(p)} value(s)"
        )
    return float((p[-1] - p[0]) / (len(p) - 1))


def hit_ratio(
    y_true: Any,
    acquired: Any,
    top_frac: float = 0.05,
    direction: Direction | str | None = Direction.ABS,
) -> float:
    """Fraction of the "interesting" pairs acquired so far (GeneDisco's hit ratio).

    The interesting set is the ``ceil(top_frac * N)`` strongest entries of ``y_true`` (at
    least one); GeneDisco ranks by ``|y|`` (both extremes), the default here.

    Args:
        y_true: ``N`` true values.
        acquired: ``N`` boolean mask, or integer indices of acquired entries (duplicates ok).
        top_frac: Fraction of entries that are interesting, in ``(0, 1]``.
        direction: Ranking of strength; default ``ABS``. Pass ``MINIMIZE`` for "most negative".

    Returns:
        A float in ``[0, 1]``.
    """
    truth = _values(y_true, "y_true")
    n = len(truth)
    if n == 0:
        raise ValueError("y_true is empty")
    if isinstance(top_frac, bool) or not isinstance(top_frac, int | float | np.floating):
        raise TypeError(f"top_frac must be a float, got {type(top_frac).__name__}")
    if not 0.0 < top_frac <= 1.0:
        raise ValueError(f"top_frac must be in (0, 1], got {top_frac}")
    acq = acquired.detach().cpu().numpy() if isinstance(acquired, torch.Tensor) else acquired
    acq = np.asarray(acq)
    if acq.dtype == np.bool_:
        mask = _mask(acq, "acquired", n)
    elif np.issubdtype(acq.dtype, np.integer) or (acq.size == 0 and acq.ndim == 1):
        idx = acq.astype(np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ValueError(f"acquired indices must be in [0, {n})")
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
    else:
        raise TypeError(
            f"acquired must be a boolean mask or integer indices, got dtype {acq.dtype}"
        )
    # ceil with a tolerance, so that e.g. 0.05 * 100 = 5.000000000000001 gives 5
    n_top = max(1, math.ceil(top_frac * n - 1e-9))
    top = strength_order(truth, direction)[:n_top]
    return float(mask[top].sum() / n_top)


# --------------------------------------------------------------------------------------------
# regression metrics


def _paired(y_true: Any, y_pred: Any, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated, aligned, non-empty float arrays for a regression metric."""
    truth = _values(y_true, "y_true")
    pred = _values(y_pred, "y_pred")
    _same_length(len(truth), y_pred=pred)
    if len(truth) == 0:
        raise ValueError(f"{metric} of empty arrays is undefined")
    return truth, pred


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error ``sqrt(mean((y_pred - y_true)^2))``.

    Raises:
        ValueError: empty or misaligned inputs, or NaN/infinite values.
    """
    truth, pred = _paired(y_true, y_pred, "rmse")
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


def pearson(y_true: Any, y_pred: Any) -> float:
    """Pearson correlation of predictions with true values.

    Returns ``nan`` (without a warning) when either input is constant, including a single
    entry, since the correlation is undefined there; callers that average over seeds should
    use ``np.nanmean`` or report such rounds separately.

    Raises:
        ValueError: empty or misaligned inputs, or NaN/infinite values.
    """
    truth, pred = _paired(y_true, y_pred, "pearson")
    if truth.max() == truth.min() or pred.max() == pred.min():
        return float("nan")
    dt = truth - truth.mean()
    dp = pred - pred.mean()
    st = np.sqrt(np.dot(dt, dt))
    sp = np.sqrt(np.dot(dp, dp))
    return float(np.clip(np.dot(dt, dp) / (st * sp), -1.0, 1.0))


# --------------------------------------------------------------------------------------------
# calibration (defined in naiad_bo.calibration, which uses the input helpers above)

from naiad_bo.calibration import (  # noqa: E402
    calibration_curve,
    calibration_metrics,
    calibration_spearman,
    gaussian_nll,
    interval_coverage,
    nll_homoscedastic,
    plot_reliability,
)

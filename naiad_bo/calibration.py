r"""Calibration of a predictive distribution: coverage, Gaussian NLL, std-error rank correlation.

A surrogate's predictive distribution at test pair ``i`` is summarised by a mean
:math:`\mu_i` and a standard deviation :math:`\sigma_i > 0` (for a new *measurement*:
epistemic variance plus observation noise). With the true values :math:`y_i`
(``i = 1..n``, aligned 1-D arrays, numpy or torch):

* central-interval coverage at level :math:`p` (:func:`interval_coverage`):
  :math:`\frac1n \sum_i 1\{|y_i - \mu_i| \le z_p \sigma_i\}`,
  :math:`z_p = \Phi^{-1}(\tfrac{1 + p}{2})`; calibrated models give :math:`p`;
* Gaussian negative log-likelihood (:func:`gaussian_nll`):
  :math:`\frac1n \sum_i \tfrac12 \log(2\pi\sigma_i^2) + \frac{(y_i - \mu_i)^2}{2\sigma_i^2}`;
* :func:`nll_homoscedastic`: the same NLL with one constant :math:`\sigma` minimising it on
  the same pairs, :math:`\sigma^2 = \frac1n \sum_i (y_i - \mu_i)^2` (closed form), i.e.
  :math:`\tfrac12 \log(2\pi \,\mathrm{MSE}) + \tfrac12`. If ``gaussian_nll`` is not below it,
  the per-pair :math:`\sigma_i` carry no information beyond a single error scale;
* :func:`calibration_spearman`: Spearman rank correlation of :math:`\sigma_i` with
  :math:`|y_i - \mu_i|` (ties get average ranks);
* :func:`calibration_curve`: observed coverage at a grid of nominal levels (the reliability
  diagram, :func:`plot_reliability`).

:func:`calibration_metrics` returns the five numbers ``naiad-bo evaluate --json`` reports
(``coverage50``, ``coverage90``, ``nll``, ``nll_homoscedastic``, ``calibration_spearman``);
:func:`undefined_calibration` the same fields as NaN with a stated reason, for models without
a predictive distribution.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtri

__all__ = [
    "CALIBRATION_FIELDS",
    "calibration_curve",
    "calibration_metrics",
    "calibration_spearman",
    "gaussian_nll",
    "interval_coverage",
    "nll_homoscedastic",
    "plot_reliability",
    "undefined_calibration",
]

#: Record fields written by :func:`calibration_metrics` (the ``evaluate --json`` contract).
CALIBRATION_FIELDS = (
    "coverage50", "coverage90", "nll", "nll_homoscedastic", "calibration_spearman"
)

_LOG_2PI = math.log(2.0 * math.pi)


def _triple(y_true: Any, mean: Any, std: Any | None) -> tuple[np.ndarray, ...]:
    """Validated aligned float64 arrays; ``std`` must be finite and > 0."""
    from naiad_bo.metrics import _values  # metrics re-exports this module (import cycle)

    y = _values(y_true, "y_true")
    mu = _values(mean, "mean")
    if len(mu) != len(y):
        raise ValueError(f"mean has length {len(mu)}, expected {len(y)} (aligned arrays)")
    if len(y) == 0:
        raise ValueError("calibration metrics of empty arrays are undefined")
    if std is None:
        return y, mu
    sd = _values(std, "std")
    if len(sd) != len(y):
        raise ValueError(f"std has length {len(sd)}, expected {len(y)} (aligned arrays)")
    bad = sd <= 0
    if bad.any():
        raise ValueError(
            f"std must be > 0, got {int(bad.sum())} value(s) <= 0 (first at index "
            f"{int(np.flatnonzero(bad)[0])}); a model without predictive spread has no "
            "calibration (use undefined_calibration)"
        )
    return y, mu, sd


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float | np.floating):
        raise TypeError(f"level must be a float in (0, 1), got {type(level).__name__}")
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(level)


def interval_coverage(y_true: Any, mean: Any, std: Any, level: float = 0.9) -> float:
    r"""Fraction of ``y_true`` inside the central ``level`` interval :math:`\mu \pm z\sigma`.

    Args:
        y_true, mean, std: ``(n,)`` aligned values, predictive means and stds (``> 0``).
        level: Nominal coverage in ``(0, 1)``; :math:`z = \Phi^{-1}((1 + p) / 2)`.

    Returns:
        A float in ``[0, 1]``.
    """
    y, mu, sd = _triple(y_true, mean, std)
    z = float(ndtri(0.5 * (1.0 + _check_level(level))))
    return float(np.mean(np.abs(y - mu) <= z * sd))


def gaussian_nll(y_true: Any, mean: Any, std: Any) -> float:
    r"""Mean Gaussian negative log-likelihood (module formula), natural log.

    Args:
        y_true, mean, std: ``(n,)`` aligned values, means and stds (``> 0``).
    """
    y, mu, sd = _triple(y_true, mean, std)
    return float(np.mean(0.5 * _LOG_2PI + np.log(sd) + 0.5 * ((y - mu) / sd) ** 2))


def nll_homoscedastic(y_true: Any, mean: Any) -> float:
    r"""NLL of ``mean`` with the best constant std on these pairs: ``0.5 log(2 pi MSE) + 0.5``.

    Raises:
        ValueError: a perfect fit (MSE = 0), where the NLL is unbounded below.
    """
    y, mu = _triple(y_true, mean, None)
    mse = float(np.mean((y - mu) ** 2))
    if mse <= 0:
        raise ValueError("nll_homoscedastic is unbounded below for a perfect fit (MSE = 0)")
    return 0.5 * (_LOG_2PI + math.log(mse)) + 0.5


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties at their average rank (scipy's ``rankdata(method='average')``)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # boundaries of runs of equal values
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    ends = np.r_[starts[1:], len(xs)]
    avg = 0.5 * (starts + ends - 1) + 1.0
    ranks = np.empty(len(x), dtype=np.float64)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


def calibration_spearman(y_true: Any, mean: Any, std: Any) -> float:
    r"""Spearman correlation of :math:`\sigma_i` with :math:`|y_i - \mu_i|`.

    Returns ``nan`` when either is constant (e.g. a homoscedastic model), where the rank
    correlation is undefined.
    """
    y, mu, sd = _triple(y_true, mean, std)
    err = np.abs(y - mu)
    if sd.max() == sd.min() or err.max() == err.min():
        return float("nan")
    r1 = _average_ranks(sd)
    r2 = _average_ranks(err)
    r1 -= r1.mean()
    r2 -= r2.mean()
    return float(np.clip(np.dot(r1, r2) / np.sqrt(np.dot(r1, r1) * np.dot(r2, r2)), -1, 1))


def calibration_curve(
    y_true: Any, mean: Any, std: Any, levels: Any | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Observed central-interval coverage at nominal ``levels`` (reliability diagram).

    Args:
        y_true, mean, std: ``(n,)`` aligned arrays (``std > 0``).
        levels: Nominal levels in ``(0, 1)``; default ``0.05, 0.10, ..., 0.95``.

    Returns:
        ``(levels, observed)``: two float64 arrays of the same length.
    """
    y, mu, sd = _triple(y_true, mean, std)
    lv = np.arange(1, 20) / 20.0 if levels is None else np.asarray(levels, dtype=np.float64)
    if lv.ndim != 1 or len(lv) == 0:
        raise ValueError(f"levels must be a non-empty 1-D sequence, got shape {lv.shape}")
    for p in lv.tolist():
        _check_level(p)
    z = ndtri(0.5 * (1.0 + lv))
    ratio = np.abs(y - mu) / sd
    observed = (ratio[None, :] <= z[:, None]).mean(axis=1)
    return lv, observed


def calibration_metrics(y_true: Any, mean: Any, std: Any) -> dict[str, float]:
    """The five calibration fields of an evaluation record (:data:`CALIBRATION_FIELDS`)."""
    return {
        "coverage50": interval_coverage(y_true, mean, std, 0.5),
        "coverage90": interval_coverage(y_true, mean, std, 0.9),
        "nll": gaussian_nll(y_true, mean, std),
        "nll_homoscedastic": nll_homoscedastic(y_true, mean),
        "calibration_spearman": calibration_spearman(y_true, mean, std),
    }


def undefined_calibration(reason: str) -> dict[str, Any]:
    """:data:`CALIBRATION_FIELDS` as NaN plus ``calibration_note`` stating ``reason``."""
    out: dict[str, Any] = {k: float("nan") for k in CALIBRATION_FIELDS}
    out["calibration_note"] = str(reason)
    return out


def plot_reliability(curves: dict[str, tuple[Any, Any]], ax: Any = None, title: str | None = None):
    """Reliability diagram: observed vs nominal central-interval coverage, one line per label.

    Args:
        curves: ``label -> (levels, observed)`` (e.g. from :func:`calibration_curve`).
        ax: A matplotlib axis (a new figure if None).
        title: Optional axis title.

    Returns:
        The matplotlib axis.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="calibrated")
    for label, (lv, obs) in curves.items():
        ax.plot(np.asarray(lv), np.asarray(obs), marker="o", ms=3, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("nominal central-interval level")
    ax.set_ylabel("observed coverage")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    return ax

"""Per-round records of a simulated campaign, computed with :mod:`naiad_bo.metrics`.

With ``y`` the screen's true values, ``X`` the measured values for measured pairs and the
surrogate's predictions for all others (test pairs included), and the strength order of the
campaign's :class:`~naiad_bo.Direction`, a round's record holds (see
:data:`naiad_bo.campaign.result.RECORD_FIELDS`):

* ``top_k_discovered`` / ``top{k}_discovered``: ``|topk(X) & topk(y)|`` over *all* pairs
  (the NAIAD paper's definition, :func:`naiad_bo.metrics.top_k_curve`);
* ``measured_top_k`` / ``measured_top{k}``: true top-k pairs actually measured
  (:func:`naiad_bo.metrics.measured_recall`);
* ``hit_ratio``: the fraction of the ``ceil(hit_frac * N)`` strongest pairs **under the
  campaign's direction** that are measured (:func:`naiad_bo.metrics.hit_ratio` called with
  ``direction=``; GeneDisco ranks by ``|y|``, which is that function's default and not what a
  campaign records);
* ``batch_top_k_hits``, ``batch_mean_y``: how good the round's batch was;
* ``test_rmse``, ``test_pearson`` (NaN without a test split) and ``unmeasured_rmse``
  (:func:`naiad_bo.metrics.rmse`, :func:`naiad_bo.metrics.pearson`);
* ``fit_s``, ``score_s``, ``select_s``, ``round_s`` and their ``*_cpu_s``: the seconds given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from naiad_bo.direction import Direction
from naiad_bo.metrics import hit_ratio, measured_recall, pearson, rmse, strength_order, top_k_curve

__all__ = ["CampaignRecorder"]


class CampaignRecorder:
    """Turns a round's state into a flat record.

    Args:
        y: ``(N,)`` true values of the screen's pairs.
        test_rows: Rows of the never-acquirable test split (may be empty).
        direction: Which values are strong.
        top_k: ``k`` of the headline metric.
        curve_ks: All ``k`` values recorded (sorted, containing ``top_k``).
        hit_frac: Fraction of strongest pairs behind ``hit_ratio``.
        n_acquirable: Pairs the campaign may acquire (for ``n_available``).
        labels: Fixed fields of every record (``screen``, ``surrogate``, ``acquisition``,
            ``protocol``).
    """

    def __init__(
        self,
        y: np.ndarray,
        test_rows: np.ndarray,
        *,
        direction: Direction,
        top_k: int,
        curve_ks: Sequence[int],
        hit_frac: float,
        n_acquirable: int,
        labels: dict[str, Any],
    ) -> None:
        self.y = np.asarray(y, dtype=np.float64)
        self.test_rows = np.asarray(test_rows, dtype=np.int64)
        self.direction = direction
        self.top_k = int(top_k)
        self.curve_ks = np.asarray(curve_ks, dtype=np.int64)
        self.hit_frac = float(hit_frac)
        self.n_acquirable = int(n_acquirable)
        self.labels = dict(labels)
        order = strength_order(self.y, direction)
        self._rank = np.empty(len(self.y), dtype=np.int64)
        self._rank[order] = np.arange(len(self.y))

    def record(
        self,
        pred: np.ndarray,
        measured_rows: np.ndarray,
        batch_rows: np.ndarray,
        *,
        seed: int,
        round_: int,
        fit_s: tuple[float, float],
        score_s: tuple[float, float],
        select_s: tuple[float, float],
        **labels: Any,
    ) -> dict:
        """The record of one round (``pred``: predictions for every pair of the screen)."""
        y = self.y
        measured = np.zeros(len(y), dtype=bool)
        measured[measured_rows] = True
        ks = self.curve_ks
        curve = top_k_curve(y, pred, measured, ks, self.direction)
        recall = [measured_recall(y, measured, int(k), self.direction) for k in ks]
        k_idx = int(np.searchsorted(ks, self.top_k))
        test = self.test_rows
        unmeasured = ~measured
        rec: dict[str, Any] = {
            **self.labels,
            **labels,
            "seed": int(seed),
            "round": int(round_),
            "n_measured": int(measured.sum()),
            "n_acquired": int(len(batch_rows)),
            "n_available": int(self.n_acquirable - measured.sum()),
            "top_k": self.top_k,
            "top_k_discovered": int(curve[k_idx]),
            "measured_top_k": int(recall[k_idx]),
            "batch_top_k_hits": int((self._rank[batch_rows] < self.top_k).sum()),
            "batch_mean_y": float(y[batch_rows].mean()),
            "hit_ratio": hit_ratio(y, measured, self.hit_frac, direction=self.direction),
            "test_rmse": rmse(y[test], pred[test]) if len(test) else float("nan"),
            "test_pearson": pearson(y[test], pred[test]) if len(test) > 1 else float("nan"),
            "unmeasured_rmse": (
                rmse(y[unmeasured], pred[unmeasured]) if unmeasured.any() else float("nan")
            ),
            "fit_s": fit_s[0],
            "score_s": score_s[0],
            "select_s": select_s[0],
            "round_s": fit_s[0] + score_s[0] + select_s[0],
            "fit_cpu_s": fit_s[1],
            "score_cpu_s": score_s[1],
            "select_cpu_s": select_s[1],
            "round_cpu_s": fit_s[1] + score_s[1] + select_s[1],
        }
        for k, c, m in zip(ks.tolist(), curve.tolist(), recall):
            rec[f"top{k}_discovered"] = int(c)
            rec[f"measured_top{k}"] = int(m)
        return rec

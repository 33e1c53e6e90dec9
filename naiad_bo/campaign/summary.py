"""Mean +- s.e. over seeds of campaign records, and the paper's marginal gain per configuration.

Works on any frame of records (``CampaignResults.to_frame()``, the CLI's JSON read back, a
benchmark CSV); used by :mod:`naiad_bo.campaign.result` and :mod:`naiad_bo.campaign.plotting`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["GROUP_KEYS", "marginal_gains", "summarize"]

#: Columns identifying one configuration (a curve over rounds is these + ``round``).
GROUP_KEYS: tuple[str, ...] = ("screen", "surrogate", "acquisition", "protocol")

_DEFAULT_SUMMARY = (
    "top_k_discovered",
    "measured_top_k",
    "test_rmse",
    "unmeasured_rmse",
    "hit_ratio",
    "fit_s",
    "score_s",
    "select_s",
    "round_s",
    "round_cpu_s",
)


def summarize(frame: pd.DataFrame, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean, standard error and count over seeds, per configuration and round.

    Args:
        frame: Records (``CampaignResults.to_frame()`` or the CLI's JSON read back).
        metrics: Columns to summarise (default: discovery, recall, errors, timings, plus
            every ``top{k}_discovered`` curve column present).

    Returns:
        One row per (screen, surrogate, acquisition, protocol, top_k, round) with columns
        ``{metric}_mean``, ``{metric}_se`` (``std(ddof=1) / sqrt(n)``, NaN for one seed)
        and ``n_seeds``.
    """
    if metrics is None:
        curve = [c for c in frame.columns if c.startswith("top") and c.endswith("_discovered")
                 and c != "top_k_discovered"]
        metrics = [m for m in _DEFAULT_SUMMARY if m in frame.columns] + curve
    keys = [k for k in (*GROUP_KEYS, "top_k", "round") if k in frame.columns]
    grouped = frame.groupby(keys, sort=False, dropna=False)
    out = grouped.size().rename("n_seeds").to_frame()
    for m in metrics:
        g = grouped[m]
        out[f"{m}_mean"] = g.mean()
        out[f"{m}_se"] = g.std(ddof=1) / np.sqrt(g.count())
    return out.reset_index()


def marginal_gains(frame: pd.DataFrame, column: str = "top_k_discovered") -> pd.DataFrame:
    """Per-seed marginal gain ``(P_R - P_0) / R`` and its mean +- s.e. per configuration.

    Args:
        frame: Records with ``round`` and ``column``.
        column: Discovery column (default the top-k discovered).

    Returns:
        One row per configuration: ``rounds`` (R), ``gain_mean``, ``gain_se``, ``n_seeds``,
        ``p0_mean``, ``pR_mean``.
    """
    keys = [k for k in (*GROUP_KEYS, "top_k") if k in frame.columns]
    rows = []
    for key, g in frame.groupby(keys, sort=False, dropna=False):
        per_seed = []
        p0s, prs = [], []
        rounds = int(g["round"].max())
        if rounds < 1:
            continue
        for _, s in g.groupby("seed"):
            s = s.set_index("round")[column]
            if 0 in s.index and rounds in s.index:
                p0s.append(float(s[0]))
                prs.append(float(s[rounds]))
                per_seed.append((prs[-1] - p0s[-1]) / rounds)
        gains = np.asarray(per_seed)
        n = len(gains)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        row.update(
            rounds=rounds,
            gain_mean=float(gains.mean()) if n else float("nan"),
            gain_se=float(gains.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            n_seeds=n,
            p0_mean=float(np.mean(p0s)) if n else float("nan"),
            pR_mean=float(np.mean(prs)) if n else float("nan"),
        )
        rows.append(row)
    return pd.DataFrame(rows)

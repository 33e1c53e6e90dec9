"""Tidy results of simulated campaigns: one record per (seed, round), JSON-serialisable.

A record is a flat dict of scalars (see :data:`RECORD_FIELDS` for the fixed fields); the
top-k curve adds one ``top{k}_discovered`` and one ``measured_top{k}`` column per ``k``.
:class:`CampaignResult` holds one campaign (one seed, one acquisition),
:class:`CampaignResults` several; both give ``.to_frame()`` (pandas), ``.to_records()``
(plain Python types, NaN as ``None``) and ``.to_json(path)``. Their ``summary()`` and
``marginal_gains()`` are :func:`naiad_bo.campaign.summary.summarize` and
:func:`naiad_bo.campaign.summary.marginal_gains` (re-exported here).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from naiad_bo.campaign.summary import GROUP_KEYS, marginal_gains, summarize
from naiad_bo.metrics import marginal_gain

__all__ = [
    "GROUP_KEYS",
    "RECORD_FIELDS",
    "CampaignResult",
    "CampaignResults",
    "marginal_gains",
    "summarize",
]

#: Fixed fields of every record, in column order (curve columns follow).
RECORD_FIELDS: tuple[str, ...] = (
    "screen",
    "surrogate",
    "acquisition",
    "protocol",
    "seed",
    "round",
    "n_measured",
    "n_acquired",
    "n_available",
    "top_k",
    "top_k_discovered",
    "measured_top_k",
    "batch_top_k_hits",
    "batch_mean_y",
    "hit_ratio",
    "test_rmse",
    "test_pearson",
    "unmeasured_rmse",
    "fit_s",
    "score_s",
    "select_s",
    "round_s",
    "fit_cpu_s",
    "score_cpu_s",
    "select_cpu_s",
    "round_cpu_s",
)


def _plain(value: Any) -> Any:
    """Python scalar for JSON: numpy scalars unwrapped, NaN/inf -> None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _order_columns(frame: pd.DataFrame) -> pd.DataFrame:
    fixed = [c for c in RECORD_FIELDS if c in frame.columns]
    rest = [c for c in frame.columns if c not in fixed]
    return frame[fixed + rest]


@dataclass
class CampaignResult:
    """One simulated campaign: records per round plus the acquired pairs.

    Attributes:
        records: One flat dict per round ``0 .. R`` (see :data:`RECORD_FIELDS`).
        config: Settings of the campaign (screen, surrogate, acquisition, sizes, seed, ...).
        batches: Gene-id pairs acquired per round (``batches[0]`` = the uniform initial
            library, ``batches[r]`` = the batch selected with the round ``r - 1`` model),
            each an ``(n_r, 2)`` int64 array with ``gene_a <= gene_b``.
        test_pairs: ``(n_test, 2)`` int64 pairs of the never-acquirable test split.
    """

    records: list[dict]
    config: dict
    batches: list[np.ndarray] = field(default_factory=list)
    test_pairs: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        """One row per round, fixed columns first, then the top-k curve columns."""
        return _order_columns(pd.DataFrame.from_records(self.records))

    def to_records(self) -> list[dict]:
        """Records with plain Python types (JSON-serialisable; NaN becomes ``None``)."""
        return [_plain(r) for r in self.records]

    def to_json(self, path: str | Path | None = None, *, indent: int = 1) -> str | None:
        """Write ``{"config": ..., "records": [...]}`` as JSON (or return it if no path)."""
        text = json.dumps({"config": _plain(self.config), "records": self.to_records()},
                          indent=indent)
        if path is None:
            return text
        Path(path).write_text(text)
        return None

    @property
    def discovered(self) -> np.ndarray:
        """Top-k discovered after each round (``R + 1`` ints, round 0 first)."""
        return np.array([r["top_k_discovered"] for r in self.records], dtype=np.int64)

    @property
    def measured_top(self) -> np.ndarray:
        """True top-k pairs measured after each round (the lab's view)."""
        return np.array([r["measured_top_k"] for r in self.records], dtype=np.int64)

    def marginal_gain(self) -> float:
        """``(P_R - P_0) / R`` of top-k discovered (paper Table 3 at ``R = 4``)."""
        return marginal_gain(self.discovered)

    def acquired_pairs(self, screen=None) -> pd.DataFrame:
        """Every acquired pair with the round it was measured in.

        Args:
            screen: The campaign's :class:`~naiad_bo.PairScreen`; if given, gene names and
                measured values are added.

        Returns:
            DataFrame with ``round``, ``gene_a``, ``gene_b`` (+ ``id1``, ``id2``, ``y``).
        """
        parts = [
            pd.DataFrame({"round": r, "gene_a": b[:, 0], "gene_b": b[:, 1]})
            for r, b in enumerate(self.batches)
        ]
        frame = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame({"round": [], "gene_a": [], "gene_b": []}, dtype=np.int64)
        )
        if screen is not None:
            genes = np.asarray(screen.genes, dtype=object)
            frame["id1"] = genes[frame["gene_a"].to_numpy(np.int64)]
            frame["id2"] = genes[frame["gene_b"].to_numpy(np.int64)]
            frame = frame.merge(
                screen.pairs[["gene_a", "gene_b", "y"]], on=["gene_a", "gene_b"], how="left"
            )
        return frame

    def __repr__(self) -> str:
        c = self.config
        disc = ", ".join(str(int(x)) for x in self.discovered)
        return (
            f"CampaignResult(screen={c.get('screen')!r}, surrogate={c.get('surrogate')!r}, "
            f"acquisition={c.get('acquisition')!r}, seed={c.get('seed')}, "
            f"top{c.get('top_k')}_discovered=[{disc}])"
        )


class CampaignResults(Sequence):
    """Several campaigns (seeds x acquisitions x surrogates) as one tidy table."""

    def __init__(self, results: Iterable[CampaignResult] = ()) -> None:
        self.results: list[CampaignResult] = list(results)

    def __getitem__(self, i):
        return self.results[i]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[CampaignResult]:
        return iter(self.results)

    def extend(self, other: Iterable[CampaignResult]) -> CampaignResults:
        """Append campaigns; returns self."""
        self.results.extend(other)
        return self

    def to_frame(self) -> pd.DataFrame:
        """All records of all campaigns, one row per (campaign, round)."""
        if not self.results:
            return pd.DataFrame(columns=list(RECORD_FIELDS))
        return _order_columns(pd.concat([r.to_frame() for r in self.results], ignore_index=True))

    def to_records(self) -> list[dict]:
        """All records, plain Python types (JSON-serialisable)."""
        return [rec for r in self.results for rec in r.to_records()]

    def to_json(self, path: str | Path | None = None, *, indent: int = 1) -> str | None:
        """Write the list of records as JSON (or return it if no path)."""
        text = json.dumps(self.to_records(), indent=indent)
        if path is None:
            return text
        Path(path).write_text(text)
        return None

    def summary(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """:func:`summarize` of :meth:`to_frame`."""
        return summarize(self.to_frame(), metrics)

    def marginal_gains(self) -> pd.DataFrame:
        """:func:`marginal_gains` of :meth:`to_frame`."""
        return marginal_gains(self.to_frame())

    def plot(self, path: str | Path, **kwargs: Any) -> Path:
        """Discovery curves (see :func:`naiad_bo.campaign.plotting.plot_campaigns`)."""
        from naiad_bo.campaign.plotting import plot_campaigns

        return plot_campaigns(self.to_frame(), path, **kwargs)

    def __repr__(self) -> str:
        return f"CampaignResults({len(self.results)} campaign(s))"

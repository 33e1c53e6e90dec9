"""The lab of a simulated campaign: a measured screen that answers a :class:`Campaign`'s asks.

:class:`ScreenOracle` maps asked gene-index pairs to the screen's rows (vectorised) and
"measures" them by returning the screen's values as ``id1, id2, score`` rows, the table a
lab would hand to :meth:`naiad_bo.campaign.Campaign.tell`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from naiad_bo.space import PairSpace

__all__ = ["ScreenOracle"]


class ScreenOracle:
    """Answers for every measured pair of a screen.

    Args:
        screen: A :class:`~naiad_bo.PairScreen` (its pairs are the pairs that can be answered).

    Attributes:
        pairs: ``(N, 2)`` int64 canonical pairs (screen row order).
        y: ``(N,)`` float64 values.
    """

    def __init__(self, screen: Any) -> None:
        self.screen = screen
        self.genes = np.array(screen.genes, dtype=object)
        self.pairs = np.ascontiguousarray(screen.pair_index(), dtype=np.int64)
        self.y = np.asarray(screen.y_values(), dtype=np.float64)
        self._space = PairSpace(int(screen.n_genes))
        flat = np.asarray(self._space.to_flat(self.pairs), dtype=np.int64)
        self._order = np.argsort(flat, kind="stable")
        self._sorted = flat[self._order]

    def rows_of(self, pairs: Any) -> np.ndarray:
        """Screen rows of ``(n, 2)`` gene-index pairs (either order).

        Raises:
            KeyError: a pair the screen did not measure.
        """
        arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        flat = np.asarray(self._space.to_flat(arr), dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._sorted, flat), len(self._sorted) - 1)
        missing = self._sorted[pos] != flat
        if missing.any():
            bad = arr[missing][:5].tolist()
            raise KeyError(f"{int(missing.sum())} pair(s) are not in the screen, e.g. {bad}")
        return self._order[pos]

    def measure(self, rows: np.ndarray) -> pd.DataFrame:
        """``id1, id2, score`` rows for screen rows ``rows`` (in that order)."""
        rows = np.asarray(rows, dtype=np.int64)
        p = self.pairs[rows]
        return pd.DataFrame(
            {"id1": self.genes[p[:, 0]], "id2": self.genes[p[:, 1]], "score": self.y[rows]}
        )

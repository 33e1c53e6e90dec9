"""Helpers of the Ax adapter tests: measured files from a real screen."""

from __future__ import annotations

import numpy as np
import pandas as pd


def write_measured(path, screen, pairs=(), control="negative"):
    """Single-gene rows of ``screen`` plus ``(id1, id2, score)`` pair rows."""
    singles = pd.DataFrame({"id1": list(screen.genes), "id2": control,
                            "score": screen.single_effects})
    rows = pd.DataFrame(list(pairs), columns=["id1", "id2", "score"])
    pd.concat([singles, rows], ignore_index=True).to_csv(path, index=False)
    return path


def pilot_rows(screen, n, seed=0):
    rng = np.random.default_rng(seed)
    take = rng.choice(screen.n_pairs, size=n, replace=False)
    p = screen.pairs.iloc[np.sort(take)]
    return list(zip(p["id1"], p["id2"], p["y"].astype(float)))

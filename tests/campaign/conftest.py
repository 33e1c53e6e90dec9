"""Small synthetic screens for campaign tests (real screens come from tests/conftest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from naiad_bo import PairScreen


def make_screen(n_genes: int, *, seed: int = 0, drop: int = 0, self_pairs: bool = True,
                name: str = "toy") -> PairScreen:
    """A screen of ``n_genes`` genes: y_ab = y_a + y_b + interaction noise.

    ``drop`` random pairs are removed (an incomplete screen).
    """
    rng = np.random.default_rng(seed)
    single = rng.normal(0.0, 0.1, n_genes)
    a, b = np.triu_indices(n_genes, k=0 if self_pairs else 1)
    y = single[a] + single[b] + rng.normal(0.0, 0.05, len(a))
    keep = np.ones(len(a), dtype=bool)
    if drop:
        keep[rng.choice(len(a), drop, replace=False)] = False
    genes = [f"G{i:03d}" for i in range(n_genes)]
    pairs = pd.DataFrame(
        {
            "gene_a": a[keep].astype(np.int64),
            "gene_b": b[keep].astype(np.int64),
            "id1": np.array(genes, dtype=object)[a[keep]],
            "id2": np.array(genes, dtype=object)[b[keep]],
            "y": y[keep],
            "n_obs": np.ones(int(keep.sum()), dtype=np.int64),
            "sd": np.full(int(keep.sum()), np.nan),
        }
    )
    return PairScreen(genes, single, pairs, name=name)


@pytest.fixture(scope="session")
def screen_factory():
    """:func:`make_screen`, for tests that need a screen of a given shape."""
    return make_screen


@pytest.fixture(scope="session")
def toy():
    """A complete 30-gene screen (465 pairs incl. same-gene pairs)."""
    return make_screen(30)

"""Replicate noise variance from the loader's sd / n_obs (formula in the module docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from naiad_bo.models import replicate_noise_variance


def test_formula_on_a_hand_example():
    var = replicate_noise_variance([0.2, np.nan, 0.4], [2, 1, 3]).squeeze(-1).numpy()
    pooled = (1 * 0.2**2 + 2 * 0.4**2) / 3
    np.testing.assert_allclose(var, [0.2**2 / 2, pooled, 0.4**2 / 3], rtol=1e-12)


def test_on_the_bundled_screens(norman, horlbeck):
    pairs = norman.pairs  # 8, 4 or 2 replicates for all but 11 pairs
    var = replicate_noise_variance(pairs["sd"], pairs["n_obs"]).squeeze(-1).numpy()
    assert var.shape == (len(pairs),) and np.isfinite(var).all() and (var >= 0).all()
    rep = pairs["n_obs"].to_numpy() >= 2
    np.testing.assert_allclose(var[rep], pairs["sd"].to_numpy()[rep] ** 2 / pairs["n_obs"][rep])
    assert (~rep).sum() == 11 and np.ptp(var[~rep]) == 0  # singletons get the pooled variance
    with pytest.raises(ValueError, match="no pair has replicates"):  # the K562 screen
        replicate_noise_variance(horlbeck.pairs["sd"], horlbeck.pairs["n_obs"])


def test_bad_input():
    with pytest.raises(ValueError, match=r"rows \[0\]"):
        replicate_noise_variance([np.nan, 0.1], [2, 2])
    with pytest.raises(ValueError, match="n_obs must be >= 1"):
        replicate_noise_variance([0.1], [0])
    with pytest.raises(ValueError, match="2 values"):
        replicate_noise_variance([0.1, 0.2], [2])

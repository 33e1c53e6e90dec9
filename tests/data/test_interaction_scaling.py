"""Interaction-scaled screens against a per-pair brute-force formula on the real screens."""

from __future__ import annotations

import numpy as np
import pytest

import naiad_bo
from naiad_bo.data import scale_interactions


@pytest.fixture(scope="module", params=["norman2019", "horlbeck2018_k562"])
def screen(request):
    return naiad_bo.load_screen(request.param)


def test_matches_a_per_pair_least_squares_formula(screen):
    out = scale_interactions(screen, 0.6)
    # brute force: fit y ~ c0 + c1 (y_a + y_b) with polyfit, pair by pair by gene names
    se = dict(zip(screen.genes, screen.single_effects))
    s = np.array([se[a] + se[b] for a, b in zip(screen.pairs["id1"], screen.pairs["id2"])])
    y = screen.pairs["y"].to_numpy()
    c1, c0 = np.polyfit(s, y, 1)
    expect = c0 + c1 * s + 0.6 * (y - c0 - c1 * s)
    np.testing.assert_allclose(out.pairs["y"].to_numpy(), expect, rtol=0, atol=1e-12)
    # same genes, single effects, pairs and counts; sd scaled; provenance recorded
    assert out.genes == screen.genes and out.n_pairs == screen.n_pairs
    np.testing.assert_array_equal(out.single_effects, screen.single_effects)
    np.testing.assert_array_equal(out.pair_index(), screen.pair_index())
    np.testing.assert_array_equal(out.pairs["n_obs"], screen.pairs["n_obs"])
    np.testing.assert_allclose(out.pairs["sd"], 0.6 * screen.pairs["sd"])
    assert out.name == f"{screen.name}/int0.6"
    meta = out.metadata["interaction_scaling"]
    assert meta["parent"] == screen.name and meta["factor"] == 0.6
    np.testing.assert_allclose([meta["c0"], meta["c1"]], [c0, c1], rtol=1e-9)
    # the parent is untouched
    np.testing.assert_array_equal(screen.pairs["y"].to_numpy(), y)


def test_identity_additive_limit_and_more_additive_top_pairs(screen):
    np.testing.assert_allclose(scale_interactions(screen, 1.0).y_values(), screen.y_values(),
                               rtol=0, atol=1e-15)
    c0, c1 = screen.summary()["additive_fit_coef"]
    linear = c0 + c1 * screen.additive_prediction()
    np.testing.assert_allclose(scale_interactions(screen, 0.0).y_values(), linear, atol=1e-15)

    def sum_rule_recall(s, k=200):
        top = set(np.argsort(s.y_values())[:k])
        return len(top & set(np.argsort(s.additive_prediction())[:k]))

    # a smaller factor makes the strongest pairs follow the single effects more closely
    recalls = [sum_rule_recall(scale_interactions(screen, f)) for f in (1.5, 1.0, 0.6, 0.3)]
    assert recalls == sorted(recalls) and recalls[0] < recalls[-1]


@pytest.mark.parametrize("factor", [-0.1, float("nan"), float("inf")])
def test_rejects_bad_factors(factor):
    screen = naiad_bo.load_screen("norman2019")
    with pytest.raises(ValueError, match="factor"):
        scale_interactions(screen, factor)

"""Tests for naiad_bo.unseen: predicted single effects and the unseen-gene protocol."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from naiad_bo.descriptors import GeneDescriptor, align
from naiad_bo.models import AdditiveLinearModel
from naiad_bo.unseen import evaluate_unseen, hide_genes, predict_single_effects


def test_informative_descriptor_predicts_hidden_single_effects(norman):
    rng = np.random.default_rng(0)
    se = norman.single_effects
    # a descriptor that carries the single effect (plus noise) must predict it
    feats = np.c_[se + rng.normal(0, 0.02, se.size), rng.normal(size=(se.size, 2))]
    desc = align(GeneDescriptor("informative", list(norman.genes), feats), norman.genes)
    hidden = hide_genes(norman.n_genes, 0.25, seed=0)
    known = np.ones(norman.n_genes, bool)
    known[hidden] = False
    pred = predict_single_effects(se, known, [desc])
    np.testing.assert_array_equal(pred[known], se[known])
    assert spearmanr(pred[hidden], se[hidden]).statistic > 0.8
    base = np.full(hidden.size, se[known].mean())
    assert np.abs(pred[hidden] - se[hidden]).mean() < 0.5 * np.abs(base - se[hidden]).mean()


def test_hide_genes_is_seeded_and_validated():
    np.testing.assert_array_equal(hide_genes(100, 0.2, 3), hide_genes(100, 0.2, 3))
    assert hide_genes(100, 0.2, 3).size == 20
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="--unseen-genes"):
            hide_genes(100, bad, 0)


def test_protocol_records_on_norman(norman):
    recs = evaluate_unseen(norman, AdditiveLinearModel, 0.2, 150, seeds=[0], descriptors="go")
    (r,) = recs
    assert r["n_hidden"] == 22 and r["n_train"] == 150
    assert r["n_test_one"] > 0 and r["n_test_two"] > 0
    for key in ("rmse_one_unseen", "rmse_two_unseen", "rmse_one_unseen_baseline",
                "rmse_two_unseen_baseline", "spearman_unseen_single_effects", "rmse_seen"):
        assert np.isfinite(r[key])
    # pairs of two seen genes are much easier than pairs with an unseen gene
    assert r["rmse_seen"] < r["rmse_one_unseen"] < r["rmse_two_unseen"] + 0.05
    with pytest.raises(ValueError, match="exceeds the .* training pairs of measured genes"):
        evaluate_unseen(norman, AdditiveLinearModel, 0.2, 10_000, seeds=[0], descriptors="go")

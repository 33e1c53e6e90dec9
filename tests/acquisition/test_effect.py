"""Tests for naiad_bo.acquisition.effect: MPE and the optimistic bound."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.acquisition import MaxPredictedEffect, OptimisticEffect, select_batch
from naiad_bo.direction import Direction
from naiad_bo.models.single_sum import SingleEffectSumModel
from naiad_bo.space import PairSpace


@pytest.mark.parametrize("direction", list(Direction))
def test_mpe_is_strength_of_member_mean(lookup, direction):
    X = torch.tensor([[0, 1], [3, 3], [5, 9], [29, 2]])
    mean = lookup.table[:, X[:, 0], X[:, 1]].mean(0)
    score = MaxPredictedEffect(lookup, direction=direction).score(X)
    assert torch.allclose(score, direction.strength(mean))


def test_optimistic_adds_beta_std(lookup):
    X = torch.tensor([[0, 1], [3, 3], [5, 9]])
    vals = lookup.table[:, X[:, 0], X[:, 1]]
    score = OptimisticEffect(lookup, direction="abs", beta=2.0).score(X)
    assert torch.allclose(score, vals.mean(0).abs() + 2.0 * vals.std(0))
    with pytest.raises(ValueError, match="beta"):
        OptimisticEffect(lookup, beta=-1.0)


def test_mpe_on_single_effect_sum_ranks_norman_by_sum(norman):
    """The no-model baseline through MPE: the batch is the top-q of -(y_a + y_b)."""
    model = SingleEffectSumModel(norman.single_effects)
    space = PairSpace(norman.n_genes)
    sel = select_batch(MaxPredictedEffect(model), space, 100)
    pairs = norman.pair_index()
    sums = norman.single_effects[pairs[:, 0]] + norman.single_effects[pairs[:, 1]]
    order = np.argsort(sums, kind="stable")[:100]
    assert {tuple(p) for p in sel.pairs.tolist()} == {tuple(p) for p in pairs[order].tolist()}
    # real behaviour: the chosen pairs are much stronger than average pairs, and about a
    # third of them are in the true top-100 (anchors.md: ~37%; uniform would give ~1.6)
    y = norman.y_values()
    idx = {tuple(p): i for i, p in enumerate(pairs.tolist())}
    chosen = np.array([idx[tuple(p)] for p in sel.pairs.tolist()])
    assert y[chosen].mean() < y.mean() - 1.5 * y.std()
    true_top = set(np.argsort(y, kind="stable")[:100].tolist())
    assert len(true_top & set(chosen.tolist())) >= 30

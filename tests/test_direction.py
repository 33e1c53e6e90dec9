"""Direction in one place: parsing, the model's direction, and the BoTorch transform helper."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.acquisition import PosteriorMean, UpperConfidenceBound
from botorch.acquisition.objective import ScalarizedPosteriorTransform

from naiad_bo.acquisition import (
    MaxPredictedEffect,
    OptimisticEffect,
    ThompsonSampling,
    build_acquisition,
)
from naiad_bo.direction import (
    Direction,
    DirectionMismatchError,
    model_direction,
    posterior_transform,
    resolve_direction,
)
from naiad_bo.models import NaiadEnsemble


@pytest.fixture(scope="module")
def fitted(horlbeck):
    """A tiny ensemble built from the K562 screen object (so it carries its direction)."""
    X = torch.as_tensor(horlbeck.pair_index()).double()
    Y = torch.as_tensor(horlbeck.y_values()).unsqueeze(-1)
    idx = torch.as_tensor(np.random.default_rng(0).permutation(len(X))[:600])
    model = NaiadEnsemble(horlbeck, seed=0, epochs=5, ensemble_size=3).fit(X[idx], Y[idx])
    return model, X[:2000]


def test_parse_and_strength():
    assert Direction.parse(None) is Direction.MINIMIZE
    assert Direction.parse(" Maximize ") is Direction.MAXIMIZE
    with pytest.raises(ValueError, match="minimize, maximize, abs"):
        Direction.parse("up")
    y = torch.tensor([-2.0, 1.0])
    assert Direction.ABS.strength(y).tolist() == [2.0, 1.0]
    assert Direction.MINIMIZE.strength(np.array([-2.0])).tolist() == [2.0]


def test_acquisitions_take_the_models_direction(fitted, horlbeck):
    model, X = fitted
    assert model.direction is horlbeck.direction is Direction.MINIMIZE
    assert model_direction(model) is Direction.MINIMIZE and model_direction(object()) is None
    assert MaxPredictedEffect(model).direction is Direction.MINIMIZE
    assert ThompsonSampling(model).direction is Direction.MINIMIZE
    assert build_acquisition("mpe", model).direction is Direction.MINIMIZE
    for make in (lambda: MaxPredictedEffect(model, direction="maximize"),
                 lambda: OptimisticEffect(model, direction="abs"),
                 lambda: build_acquisition("mpe", model, direction="maximize")):
        with pytest.raises(DirectionMismatchError, match="contradicts the model's"):
            make()
    # a model without a direction: the caller's, else MINIMIZE
    plain = NaiadEnsemble(horlbeck.single_effects)
    assert resolve_direction(None, plain) is Direction.MINIMIZE
    assert resolve_direction("abs", plain) is Direction.ABS


def test_posterior_transform_makes_stock_acquisitions_rank_like_mpe(fitted):
    model, X = fitted
    tf = posterior_transform(model)
    assert isinstance(tf, ScalarizedPosteriorTransform) and tf.weights.tolist() == [-1.0]
    assert posterior_transform("maximize").weights.tolist() == [1.0]
    stock = PosteriorMean(model, posterior_transform=tf)(X.unsqueeze(-2))
    ours = MaxPredictedEffect(model).score(X)
    torch.testing.assert_close(stock, ours)
    # without it, BoTorch maximises y: the weakest pairs would come first
    naive = PosteriorMean(model)(X.unsqueeze(-2))
    assert torch.topk(naive, 20).indices.tolist() == torch.topk(-ours, 20).indices.tolist()
    ucb = UpperConfidenceBound(model, beta=4.0, posterior_transform=tf)(X.unsqueeze(-2))
    torch.testing.assert_close(ucb, OptimisticEffect(model, beta=2.0).score(X))


def test_posterior_transform_refuses_abs_and_unknown():
    with pytest.raises(ValueError, match="GenericMCObjective"):
        posterior_transform("abs")
    with pytest.raises(ValueError, match="carries no direction"):
        posterior_transform(object())

"""Save / load: same predictions, same state, no call-order coupling, clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from botorch.models.transforms.outcome import Log

from naiad_bo.models import NaiadEnsemble, PairEnsembleModel, RecoverEnsemble
from naiad_bo.models.persistence import FORMAT, model_from_state, model_state


def _data(screen, n=250, seed=0):
    X = torch.as_tensor(screen.pair_index())
    Y = torch.as_tensor(screen.y_values()).unsqueeze(-1)
    idx = torch.as_tensor(np.random.default_rng(seed).permutation(len(X))[:n])
    return X[idx].double(), Y[idx], X.double()


@pytest.fixture(scope="module")
def fitted(norman):
    X, Y, allX = _data(norman)
    Yvar = torch.full_like(Y, 1e-4)
    model = NaiadEnsemble(norman, seed=3, epochs=20, ensemble_size=3).fit(X, Y, Yvar)
    return model, allX


def test_round_trip_gives_identical_predictions_and_state(tmp_path, fitted):
    model, allX = fitted
    model.save(tmp_path / "m.pt")
    loaded = NaiadEnsemble.load(tmp_path / "m.pt")
    assert type(loaded) is NaiadEnsemble
    assert torch.equal(loaded.posterior(allX).values, model.posterior(allX).values)
    assert loaded.config == model.config and loaded.seed == model.seed
    assert loaded.direction is model.direction and loaded.embed_dim_ == model.embed_dim_
    assert loaded.noise_variance_ == model.noise_variance_ == pytest.approx(1e-4)
    assert torch.equal(loaded.train_Yvar_, model.train_Yvar_)
    np.testing.assert_array_equal(loaded.train_loss_, model.train_loss_)
    # the base class loads any subclass it knows; other classes refuse
    assert type(PairEnsembleModel.load(tmp_path / "m.pt")) is NaiadEnsemble
    with pytest.raises(ValueError, match="not a RecoverEnsemble"):
        RecoverEnsemble.load(tmp_path / "m.pt")


def test_recover_offset_transform_survives(norman):
    X, Y, allX = _data(norman, 200)
    m = RecoverEnsemble(norman.single_effects, epochs=5, ensemble_size=2, embed_dim=8,
                        bilinear_dim=8).fit(X, Y)
    again = model_from_state(RecoverEnsemble, model_state(m))
    assert torch.equal(again.posterior(allX[:500]).values, m.posterior(allX[:500]).values)


def test_unfitted_and_refusals(norman):
    state = model_state(NaiadEnsemble(norman.single_effects, seed=1, weights=torch.ones(5)))
    m = model_from_state(NaiadEnsemble, state)
    assert not m.is_fitted and torch.equal(m.ensemble_weights, torch.ones(5, dtype=torch.float64))
    with pytest.raises(ValueError, match="format"):
        model_from_state(NaiadEnsemble, {"format": "something else"})
    with pytest.raises(ValueError, match="refit"):
        model_from_state(NaiadEnsemble, {**state, "format": "naiad_bo.pair_ensemble/1"})
    assert state["format"] == FORMAT
    with pytest.raises(NotImplementedError, match="Log"):
        model_state(NaiadEnsemble(norman.single_effects, outcome_transform=Log()))

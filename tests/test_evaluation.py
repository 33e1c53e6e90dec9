"""Held-out evaluation helpers (naiad_bo/evaluation.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.evaluation import evaluate_model, predict_mean, summarize
from naiad_bo.models import AdditiveLinearModel, SingleEffectSumModel


def test_evaluate_model_nested_and_summary(norman):
    recs = evaluate_model(norman, "sum", [100, 200], [0, 1])
    assert [(r["n_train"], r["seed"]) for r in recs] == [(100, 0), (100, 1), (200, 0), (200, 1)]
    # the test split depends on the seed only: the no-training baseline scores identically
    assert recs[0]["rmse"] == recs[2]["rmse"] and recs[1]["rmse"] == recs[3]["rmse"]
    summary = summarize(recs)
    assert list(summary.n_train) == [100, 200]
    assert summary.rmse_se.iloc[0] > 0 and summary.seeds.iloc[0] == 2


@pytest.mark.parametrize("chunk", [7, 1000])
def test_predict_mean_matches_model_in_any_chunking(norman, chunk):
    X = torch.as_tensor(norman.pair_index()[:500])
    sum_model = SingleEffectSumModel(norman.single_effects)
    expected = norman.single_effects[X[:, 0].numpy()] + norman.single_effects[X[:, 1].numpy()]
    np.testing.assert_allclose(predict_mean(sum_model, X, chunk_size=chunk), expected)
    Y = torch.as_tensor(norman.y_values()[:500]).unsqueeze(-1)
    lin = AdditiveLinearModel(norman.single_effects).fit(X, Y)
    full = lin.posterior(X.unsqueeze(-2)).mean.reshape(-1).detach().numpy()
    np.testing.assert_allclose(predict_mean(lin, X, chunk_size=chunk), full, rtol=1e-10)


def test_evaluate_model_rejects_too_many_pairs(norman):
    with pytest.raises(ValueError, match="exceeds"):
        evaluate_model(norman, "linear", norman.n_pairs, [0])


def test_evaluate_records_calibration_for_every_model(norman):
    from naiad_bo.calibration import CALIBRATION_FIELDS

    lin = evaluate_model(norman, "linear", 200, [0])[0]
    for key in CALIBRATION_FIELDS:
        assert np.isfinite(lin[key]), key
    assert lin["calibration_note"] is None and 0.5 < lin["coverage90"] <= 1.0
    det = evaluate_model(norman, "sum", 200, [0])[0]
    assert all(np.isnan(det[k]) for k in CALIBRATION_FIELDS)
    assert "deterministic" in det["calibration_note"]
    ens = evaluate_model(
        norman, "naiad", 200, [0], model_kwargs={"ensemble_size": 2, "epochs": 5}
    )[0]
    assert np.isfinite(ens["nll"]) and ens["mean_std"] > 0


def test_predict_mean_std_noise_and_errors(norman):
    from naiad_bo.evaluation import UndefinedPredictiveError, predict_mean_std

    X = torch.as_tensor(norman.pair_index()[:300])
    Y = torch.as_tensor(norman.y_values()[:300]).unsqueeze(-1)
    lin = AdditiveLinearModel(norman.single_effects).fit(X, Y)
    mean, std = predict_mean_std(lin, X, chunk_size=64)
    _, std_f = predict_mean_std(lin, X, observation_noise=False)
    np.testing.assert_allclose(mean, predict_mean(lin, X), rtol=1e-10)
    # with observation noise the variance grows by the fitted noise level, pair by pair
    np.testing.assert_allclose(std**2 - std_f**2, float(lin.noise_var_), rtol=1e-8)
    with pytest.raises(UndefinedPredictiveError, match="deterministic"):
        predict_mean_std(SingleEffectSumModel(norman.single_effects), X)

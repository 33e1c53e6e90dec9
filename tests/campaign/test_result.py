from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from naiad_bo.campaign import (
    CampaignResult,
    CampaignResults,
    marginal_gains,
    plot_campaigns,
    run_campaigns,
    summarize,
)


def _record(acq, seed, rnd, disc, rmse=0.1):
    return {"screen": "s", "surrogate": "m", "acquisition": acq, "protocol": "paper",
            "seed": seed, "round": rnd, "n_measured": 10 * (rnd + 1), "top_k": 5,
            "top_k_discovered": disc, "measured_top_k": disc // 2, "test_rmse": rmse,
            "top5_discovered": disc, "top2_discovered": min(disc, 2), "round_s": 1.0}


def _synthetic() -> pd.DataFrame:
    rows = []
    for seed, (p0, p2) in enumerate([(1, 5), (3, 4), (2, 3)]):
        rows += [_record("a", seed, 0, p0), _record("a", seed, 1, p0 + 1),
                 _record("a", seed, 2, p2, rmse=float("nan") if seed == 0 else 0.2)]
    return pd.DataFrame(rows)


def test_summarize_mean_and_standard_error():
    s = summarize(_synthetic())
    last = s[s["round"] == 2].iloc[0]
    vals = np.array([5, 4, 3], dtype=float)
    assert last["n_seeds"] == 3
    assert last["top_k_discovered_mean"] == pytest.approx(vals.mean())
    assert last["top_k_discovered_se"] == pytest.approx(vals.std(ddof=1) / np.sqrt(3))
    assert last["test_rmse_mean"] == pytest.approx(0.2)  # NaN skipped
    assert "top2_discovered_mean" in s.columns


def test_marginal_gain_is_per_seed_then_averaged():
    g = marginal_gains(_synthetic()).iloc[0]
    per_seed = np.array([(5 - 1) / 2, (4 - 3) / 2, (3 - 2) / 2])
    assert g["rounds"] == 2 and g["n_seeds"] == 3
    assert g["gain_mean"] == pytest.approx(per_seed.mean())
    assert g["gain_se"] == pytest.approx(per_seed.std(ddof=1) / np.sqrt(3))
    assert g["p0_mean"] == pytest.approx(2.0) and g["pR_mean"] == pytest.approx(4.0)


def test_result_views_and_json(tmp_path):
    recs = [_record("a", 0, r, d) for r, d in enumerate([1, 2, 4])]
    recs[1]["test_rmse"] = float("nan")
    res = CampaignResult(records=recs, config={"seed": 0, "x": np.int64(3)},
                         batches=[np.array([[0, 1]]), np.array([[1, 2]]), np.array([[2, 2]])])
    assert list(res.discovered) == [1, 2, 4]
    assert res.marginal_gain() == pytest.approx(1.5)
    plain = res.to_records()
    assert plain[1]["test_rmse"] is None  # strict JSON: NaN -> null
    res.to_json(tmp_path / "one.json")
    loaded = json.loads((tmp_path / "one.json").read_text())
    assert loaded["config"]["x"] == 3 and len(loaded["records"]) == 3
    frame = res.to_frame()
    assert list(frame.columns[:4]) == ["screen", "surrogate", "acquisition", "protocol"]
    acquired = res.acquired_pairs()
    assert list(acquired["round"]) == [0, 1, 2]
    many = CampaignResults([res, res])
    assert len(many.to_frame()) == 6
    assert json.loads(many.to_json()) == plain + plain
    with pytest.raises(ValueError, match="round 0 and at least one more round"):
        CampaignResult(records=recs[:1], config={}).marginal_gain()


def test_acquired_pairs_carry_names_and_values(norman):
    res = run_campaigns(norman, "sum", ["mpe"], seeds=[0], initial=20, batch=10, rounds=1)[0]
    acq = res.acquired_pairs(norman)
    assert len(acq) == 30 and acq["y"].notna().all()
    row = acq.iloc[-1]
    match = norman.pairs[(norman.pairs["gene_a"] == row["gene_a"])
                         & (norman.pairs["gene_b"] == row["gene_b"])]
    assert match["id1"].item() == row["id1"] and match["y"].item() == row["y"]


def test_plot_writes_a_figure(tmp_path, norman):
    results = run_campaigns(norman, "sum", ["mpe", "uniform"], seeds=[0, 1], initial=30,
                            batch=20, rounds=2)
    path = plot_campaigns(results.to_frame(), tmp_path / "sub" / "fig.png",
                          references={"norman2019": {"paper MPE": 100}}, title="t")
    assert path.exists() and path.stat().st_size > 10_000
    with pytest.raises(ValueError, match="no campaign records"):
        plot_campaigns(results.to_frame().iloc[:0], tmp_path / "empty.png")

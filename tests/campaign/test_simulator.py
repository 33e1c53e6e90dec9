from __future__ import annotations

import json

import numpy as np
import pytest

from naiad_bo.acquisition import UnknownAcquisitionError
from naiad_bo.campaign import (
    CampaignError,
    CampaignSimulator,
    IncompatibleSurrogateError,
    PaperProtocol,
    run_campaigns,
    simulate_campaign,
)
from naiad_bo.campaign.result import RECORD_FIELDS
from naiad_bo.models.single_sum import SingleEffectSumModel
from naiad_bo.space import CandidateSet, PairSpace
from naiad_bo.specs import SpecError

TIMING = ("fit_s", "score_s", "select_s", "round_s", "fit_cpu_s", "score_cpu_s", "select_cpu_s",
          "round_cpu_s")
SMALL_NAIAD = {"epochs": 15, "ensemble_size": 3}


def _strip_timing(records):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in records]


def _rows(screen, pairs):
    key = {tuple(p): i for i, p in enumerate(screen.pair_index().tolist())}
    return np.array([key[tuple(p)] for p in np.asarray(pairs).tolist()], dtype=np.int64)


# ------------------------------------------------------------------------------ records
def test_records_follow_the_round_schedule_and_are_json(norman):
    res = simulate_campaign(norman, "linear", "mpe", initial=100, batch=50, rounds=3, seed=0)
    frame = res.to_frame()
    assert list(frame["round"]) == [0, 1, 2, 3]
    assert list(frame["n_measured"]) == [100, 150, 200, 250]
    assert list(frame["n_acquired"]) == [100, 50, 50, 50]
    for col in ("seed", "round", "n_measured", "top200_discovered", "measured_top200",
                "test_rmse", "fit_s", "score_s", "select_s", *RECORD_FIELDS):
        assert col in frame.columns, col
    assert (frame["top200_discovered"] == frame["top_k_discovered"]).all()
    assert np.isfinite(frame["test_rmse"]).all() and (frame["test_rmse"] > 0).all()
    assert (frame[list(TIMING)] >= 0).all().all()
    text = json.dumps(res.to_records(), allow_nan=False)
    assert json.loads(text)[3]["n_measured"] == 250
    # the acquired pairs: disjoint batches, never from the test split, all in the screen
    rows = [_rows(norman, b) for b in res.batches]
    allrows = np.concatenate(rows)
    assert len(np.unique(allrows)) == 250
    test_rows = _rows(norman, res.test_pairs)
    assert len(test_rows) == round(0.3 * norman.n_pairs)
    assert np.intersect1d(allrows, test_rows).size == 0


def test_discovery_metrics_match_an_independent_recomputation(norman):
    """Paper definition, recomputed with sets: measured values + y_a + y_b predictions."""
    res = simulate_campaign(norman, "sum", "uniform", initial=100, batch=100, rounds=3, seed=5)
    y = norman.y_values()
    idx = norman.pair_index()
    pred = norman.single_effects[idx[:, 0]] + norman.single_effects[idx[:, 1]]
    true_top = set(np.argsort(y, kind="stable")[:200].tolist())  # most negative = strongest
    test = _rows(norman, res.test_pairs)
    measured = np.zeros(len(y), dtype=bool)
    for r, batch in enumerate(res.batches):
        measured[_rows(norman, batch)] = True
        combined = np.where(measured, y, pred)
        top_x = set(np.argsort(combined, kind="stable")[:200].tolist())
        rec = res.records[r]
        assert rec["top200_discovered"] == len(top_x & true_top)
        assert rec["measured_top200"] == len(true_top & set(np.flatnonzero(measured).tolist()))
        assert rec["test_rmse"] == pytest.approx(np.sqrt(np.mean((pred[test] - y[test]) ** 2)))
        unmeasured = ~measured
        assert rec["unmeasured_rmse"] == pytest.approx(
            np.sqrt(np.mean((pred[unmeasured] - y[unmeasured]) ** 2))
        )


def test_mpe_batch_is_the_exact_top_q_of_the_available_pairs(norman):
    res = simulate_campaign(norman, "sum", "mpe", initial=100, batch=100, rounds=2, seed=3)
    idx = norman.pair_index()
    pred = norman.single_effects[idx[:, 0]] + norman.single_effects[idx[:, 1]]
    taken = np.zeros(norman.n_pairs, dtype=bool)
    taken[_rows(norman, res.test_pairs)] = True
    taken[_rows(norman, res.batches[0])] = True
    for r in (1, 2):
        avail = np.flatnonzero(~taken)
        expected = avail[np.argsort(pred[avail], kind="stable")[:100]]
        got = _rows(norman, res.batches[r])
        assert set(got.tolist()) == set(expected.tolist())
        taken[got] = True


def test_direction_maximize_reverses_what_is_strong(toy):
    res = simulate_campaign(toy, "sum", "mpe", initial=20, batch=10, rounds=1, seed=0,
                            direction="maximize", top_k=20, protocol="prospective")
    idx = toy.pair_index()
    pred = toy.single_effects[idx[:, 0]] + toy.single_effects[idx[:, 1]]
    avail = np.setdiff1d(np.arange(toy.n_pairs), _rows(toy, res.batches[0]))
    expected = avail[np.argsort(-pred[avail], kind="stable")[:10]]
    assert set(_rows(toy, res.batches[1]).tolist()) == set(expected.tolist())
    assert res.config["direction"] == "maximize"


def test_mpe_finds_more_strong_pairs_than_uniform_on_norman(norman):
    """The lab's view on the real screen: acquisition must beat uniform sampling clearly."""
    results = run_campaigns(norman, "linear", ["mpe", "uniform"], seeds=[0, 1],
                            initial=100, batch=100, rounds=2)
    frame = results.to_frame()
    last = frame[frame["round"] == 2].groupby("acquisition")
    measured = last["measured_top200"].mean()
    discovered = last["top200_discovered"].mean()
    assert measured["mpe"] > measured["uniform"] + 30
    assert discovered["mpe"] > discovered["uniform"]


# ------------------------------------------------------------------------------ seeding
def test_same_seed_same_campaign_and_shared_round_zero(toy):
    kw = dict(initial=40, batch=20, rounds=2, surrogate_options=SMALL_NAIAD)
    sim = CampaignSimulator(toy, "naiad", **kw)
    many = sim.run_many(["mpe", "variance"], seeds=[0, 1])
    assert [(r.config["seed"], r.config["acquisition"]) for r in many] == [
        (0, "mpe"), (0, "variance"), (1, "mpe"), (1, "variance")]
    alone = CampaignSimulator(toy, "naiad", **kw).run("variance", seed=0)
    assert _strip_timing(alone.records) == _strip_timing(many[1].records)
    assert np.array_equal(np.concatenate(alone.batches), np.concatenate(many[1].batches))
    # round 0 is common to every acquisition of a seed, and differs between seeds
    r0 = {k: v for k, v in many[0].records[0].items() if k != "acquisition"}
    assert r0 == {k: v for k, v in many[1].records[0].items() if k != "acquisition"}
    assert not np.array_equal(many[0].batches[0], many[2].batches[0])
    assert not np.array_equal(many[0].test_pairs, many[2].test_pairs)
    # acquisitions then diverge
    assert not np.array_equal(many[0].batches[1], many[1].batches[1])


@pytest.mark.parametrize("acq", ["ucb", "thompson", "softbald", "bald", "margin", "optimistic"])
def test_other_acquisitions_run_with_an_ensemble(toy, acq):
    res = simulate_campaign(toy, "naiad", acq, initial=40, batch=15, rounds=1, seed=2,
                            surrogate_options=SMALL_NAIAD, top_k=20)
    assert len(res.batches[1]) == 15
    assert res.records[1]["acquisition"] == acq


# ------------------------------------------------------------------------------ protocols
def test_prospective_campaign_can_measure_every_pair(toy):
    n = toy.n_pairs  # 465
    res = simulate_campaign(toy, "linear", "mpe", initial=n - 400, batch=100, rounds=4,
                            seed=0, protocol="prospective", top_k=50)
    last = res.records[-1]
    assert last["n_measured"] == n and last["n_available"] == 0
    assert last["top_k_discovered"] == 50 and last["measured_top_k"] == 50
    assert last["hit_ratio"] == 1.0
    assert np.isnan(last["test_rmse"]) and np.isnan(last["unmeasured_rmse"])
    assert res.test_pairs.shape == (0, 2)


def test_incomplete_screen_acquires_only_measured_pairs(screen_factory):
    screen = screen_factory(30, drop=100, seed=4)  # 365 of 465 pairs
    sim = CampaignSimulator(screen, "linear", initial=50, batch=50, rounds=6,
                            protocol="prospective", top_k=30)
    assert isinstance(sim.candidates, CandidateSet)
    res = sim.run("mpe", seed=1)
    rows = np.concatenate([_rows(screen, b) for b in res.batches])  # KeyError if not in screen
    assert len(np.unique(rows)) == 350


def test_complete_screens_use_the_pair_space(norman, screen_factory):
    assert isinstance(CampaignSimulator(norman, "sum").candidates, PairSpace)
    no_self = screen_factory(12, self_pairs=False)
    sim = CampaignSimulator(no_self, "sum", initial=10, batch=5, rounds=2, top_k=10)
    assert isinstance(sim.candidates, PairSpace) and not sim.candidates.include_self
    sim.run("mpe")


def test_without_self_pairs_they_are_neither_acquired_nor_counted(norman):
    same = norman.pairs["gene_a"] == norman.pairs["gene_b"]
    res = simulate_campaign(norman, "sum", "mpe", initial=100, batch=100, rounds=2, seed=1,
                            self_pairs=False, protocol="prospective")
    acquired = np.concatenate(res.batches)
    assert (acquired[:, 0] != acquired[:, 1]).all() and res.config["self_pairs"] is False
    # the true top-200 is that of the distinct-gene pairs
    distinct = norman.pairs[~same]
    y = distinct["y"].to_numpy()
    top = set(map(tuple, distinct[["gene_a", "gene_b"]].to_numpy()[np.argsort(y, kind="stable")
                                                                   [:200]].tolist()))
    assert res.records[-1]["measured_top200"] == len(top & set(map(tuple, acquired.tolist())))
    with_self = simulate_campaign(norman, "sum", "mpe", initial=100, batch=100, rounds=2,
                                  seed=1, protocol="prospective")
    assert (np.concatenate(with_self.batches)[:, 0] == np.concatenate(
        with_self.batches)[:, 1]).any()


def test_custom_protocol_fraction(toy):
    sim = CampaignSimulator(toy, "sum", initial=20, batch=10, rounds=1,
                            protocol=PaperProtocol(0.5), top_k=20)
    assert sim.n_test == round(0.5 * toy.n_pairs)
    assert len(sim.run("mpe").test_pairs) == sim.n_test


# ------------------------------------------------------------------------------ bad input
def test_bad_sizes(toy):
    with pytest.raises(CampaignError, match="batch must be >= 1"):
        CampaignSimulator(toy, "sum", batch=0)
    with pytest.raises(CampaignError, match="acquirable pairs"):
        CampaignSimulator(toy, "sum", initial=100, batch=100, rounds=4)  # 500 > 325
    with pytest.raises(CampaignError, match="initial must be >= 1"):
        CampaignSimulator(toy, "sum", initial=0)
    with pytest.raises(CampaignError, match="top_k"):
        CampaignSimulator(toy, "sum", initial=10, batch=10, top_k=1000)
    with pytest.raises(CampaignError, match="integer"):
        CampaignSimulator(toy, "sum", batch=2.5)


def test_too_few_genes(screen_factory):
    with pytest.raises(CampaignError, match="at least 3"):
        CampaignSimulator(screen_factory(2), "sum", initial=1, batch=1, rounds=1, top_k=1)


def test_unknown_names_and_options(toy):
    sim = CampaignSimulator(toy, "linear", initial=20, batch=10, rounds=1, top_k=20)
    with pytest.raises(UnknownAcquisitionError, match="unknown acquisition 'best'"):
        sim.run("best")
    with pytest.raises(SpecError, match="kapa"):
        sim.run("ucb:kapa=2")
    with pytest.raises(CampaignError, match="given twice"):
        sim.run_many(["mpe"], seeds=[1, 1])
    with pytest.raises(CampaignError, match="non-negative"):
        sim.run_many(["mpe"], seeds=[-1])
    with pytest.raises(ValueError, match="unknown model"):
        CampaignSimulator(toy, "gpx")
    with pytest.raises(CampaignError, match="unknown hyper-parameter"):
        CampaignSimulator(toy, "naiad", initial=20, batch=10, rounds=1, top_k=20,
                          surrogate_options={"epoch": 3})


class _CountingSum(SingleEffectSumModel):
    fits = 0

    def fit(self, train_X, train_Y):
        type(self).fits += 1
        return super().fit(train_X, train_Y)


def test_surrogate_without_variance_fails_before_any_fit(toy):
    sim = CampaignSimulator(toy, _CountingSum, initial=20, batch=10, rounds=1, top_k=20)
    with pytest.raises(IncompatibleSurrogateError, match="deterministic"):
        sim.run("variance")
    with pytest.raises(IncompatibleSurrogateError, match="not an ensemble"):
        CampaignSimulator(toy, "linear", initial=20, batch=10, rounds=1, top_k=20).run(
            "thompson")
    assert _CountingSum.fits == 0


def test_factory_surrogate_incompatibility_is_reported_at_selection(toy):
    def factory(single_effects, seed=0):
        return SingleEffectSumModel(single_effects, seed=seed)

    sim = CampaignSimulator(toy, factory, initial=20, batch=10, rounds=1, top_k=20)
    assert sim.run("mpe").records[-1]["surrogate"] == "factory"
    labelled = CampaignSimulator(toy, factory, initial=20, batch=10, rounds=1, top_k=20,
                                 surrogate_label="y_a+y_b")
    assert labelled.run("mpe").to_frame()["surrogate"].unique().tolist() == ["y_a+y_b"]
    with pytest.raises(IncompatibleSurrogateError, match="variance"):
        sim.run("variance")


def test_hub_capped_selection_respects_the_cap(norman):
    res = simulate_campaign(norman, "sum", "mpe:max_per_gene=5", initial=100, batch=100,
                            rounds=1, seed=0)
    genes, counts = np.unique(res.batches[1].ravel(), return_counts=True)
    same = res.batches[1][:, 0] == res.batches[1][:, 1]
    per_gene = counts - np.bincount(res.batches[1][same, 0], minlength=norman.n_genes)[genes]
    assert per_gene.max() <= 5


# ------------------------------------------------------------------------ mean-only fits
SMALL_REF = {"epochs": 8, "ensemble_size": 3}


def _calibrations(monkeypatch):
    """Count the variance calibrations fitted (one per calibrated ensemble fit)."""
    from naiad_bo.models import variance_calibration

    calls = []
    original = variance_calibration.cross_validated_variance

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(variance_calibration, "cross_validated_variance", counted)
    return calls


def test_mpe_simulation_skips_the_default_calibration_with_the_same_records(norman,
                                                                            monkeypatch):
    # MPE reads only the mean: the default network's 2-fold calibration is not fitted, and
    # every record and batch equals a simulation that fits it (UCB in the grid forces it)
    calls = _calibrations(monkeypatch)
    kw = dict(initial=60, batch=40, rounds=2, protocol="paper", top_k=50,
              surrogate_options=SMALL_REF)
    mean_only = CampaignSimulator(norman, "naiad-reference", **kw).run_many(["mpe"], [3])[0]
    assert not calls
    assert mean_only.config["surrogate_options_fitted"]["variance_calibration"] is None
    assert "variance_calibration" not in mean_only.config["surrogate_options"]
    both = CampaignSimulator(norman, "naiad-reference", **kw).run_many(["mpe", "ucb"], [3])
    assert len(calls) == 5  # round 0 shared, rounds 1-2 of each campaign (60 >= skip_below)
    for got, want in zip(_strip_timing(both[0].records), _strip_timing(mean_only.records)):
        assert got.keys() == want.keys()
        for key, value in want.items():  # counts exact; RMSE / Pearson to the last ulps
            assert got[key] == (pytest.approx(value, rel=1e-12)
                                if isinstance(value, float) else value), key
    for got, want in zip(both[0].batches, mean_only.batches):
        np.testing.assert_array_equal(got, want)


def test_a_calibration_named_in_the_options_is_kept(norman, monkeypatch):
    from naiad_bo.models import CrossValidatedVarianceScale

    calls = _calibrations(monkeypatch)
    cal = CrossValidatedVarianceScale(2)
    sim = CampaignSimulator(norman, "naiad-reference", initial=60, batch=40, rounds=1,
                            protocol="paper", top_k=50,
                            surrogate_options={**SMALL_REF, "variance_calibration": cal})
    res = sim.run_many(["mpe"], [0])[0]
    assert len(calls) == 2
    assert res.config["surrogate_options_fitted"]["variance_calibration"] == cal

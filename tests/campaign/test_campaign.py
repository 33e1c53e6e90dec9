from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import naiad_bo
from naiad_bo import PairScreen
from naiad_bo.campaign import (
    BATCH_COLUMNS,
    Campaign,
    CampaignError,
    CampaignFileError,
    CampaignSimulator,
    PaperProtocol,
)
from naiad_bo.campaign.seeds import STREAM_SPLIT, derive_seed

SMALL_NAIAD = {"epochs": 15, "ensemble_size": 3}


def _pilot(screen, rows) -> PairScreen:
    return PairScreen(screen.genes, screen.single_effects, screen.pairs.iloc[rows],
                      name=screen.name, direction=screen.direction, control=screen.control)


def _answers(screen, batch: pd.DataFrame) -> pd.DataFrame:
    """The screen's values for a batch, as the lab would tell them (swapped order)."""
    y = screen.pairs.set_index(["gene_a", "gene_b"])["y"]
    keys = list(zip(batch["gene_a"], batch["gene_b"]))
    return pd.DataFrame({"id1": batch["id2"].to_numpy(), "id2": batch["id1"].to_numpy(),
                         "score": [y[k] for k in keys]})


def _sum_pred(screen):
    idx = screen.pair_index()
    return screen.single_effects[idx[:, 0]] + screen.single_effects[idx[:, 1]]


@pytest.fixture(scope="module")
def norman_pilot(norman):
    rows = np.random.default_rng(0).choice(norman.n_pairs, 150, replace=False)
    return _pilot(norman, np.sort(rows))


# ------------------------------------------------------------------------------ ask
def test_ask_is_the_exact_top_q_and_stays_pending(norman, norman_pilot):
    c = Campaign(norman_pilot, surrogate="sum", acquisition="mpe", seed=0)
    assert naiad_bo.Campaign is Campaign
    batch = c.ask(40)
    assert list(batch.columns) == list(BATCH_COLUMNS)
    # brute force: the 40 most negative y_a + y_b among the pairs not measured
    pred = _sum_pred(norman)
    measured = set(zip(norman_pilot.pairs["gene_a"], norman_pilot.pairs["gene_b"]))
    idx = norman.pair_index()
    avail = [i for i, p in enumerate(map(tuple, idx.tolist())) if p not in measured]
    want = {tuple(idx[i]) for i in np.asarray(avail)[np.argsort(pred[avail],
                                                                kind="stable")[:40]]}
    assert set(zip(batch["gene_a"], batch["gene_b"])) == want
    np.testing.assert_allclose(batch["mean"], norman.single_effects[batch["gene_a"]]
                               + norman.single_effects[batch["gene_b"]])
    assert batch["std"].isna().all()  # the y_a + y_b surrogate is deterministic
    assert (batch["id1"] == np.asarray(norman.genes)[batch["gene_a"]]).all()
    assert batch["mean"].is_monotonic_increasing  # MPE on a minimised screen: best first
    # pending: ask again gives the same batch, new_batch a disjoint one
    pd.testing.assert_frame_equal(c.ask(40), batch)
    assert len(c.pending) == 40 and c.n_asked == 1
    second = c.ask(10, new_batch=True)
    assert not set(zip(second["gene_a"], second["gene_b"])) & want
    assert c.n_pending == 50 and list(c.history["batch"]) == [1, 2]


def test_ensemble_batch_has_std_and_no_pilot_means_uniform_first_batch(toy):
    c = Campaign(_pilot(toy, np.arange(0, toy.n_pairs, 4)), surrogate="naiad",
                 acquisition="mpe", surrogate_options=SMALL_NAIAD)
    b = c.ask(5)
    assert (b["std"] > 0).all() and np.isfinite(b["acquisition"]).all()
    empty = PairScreen(toy.genes, toy.single_effects, toy.pairs.iloc[:0], name="empty")
    first = Campaign(empty, surrogate="sum", seed=4).ask(12)
    again = Campaign(empty, surrogate="sum", seed=4).ask(12)
    pd.testing.assert_frame_equal(first, again)
    assert first["acquisition"].isna().all() and len(set(zip(first.gene_a, first.gene_b))) == 12


def test_self_pairs_option(toy):
    c = Campaign(toy, surrogate="sum", self_pairs=False)
    assert c.candidates.n_pairs == 30 * 29 // 2
    assert c.n_available() == 30 * 29 // 2 - int((toy.pairs.gene_a != toy.pairs.gene_b).sum())
    pilot = _pilot(toy, np.arange(0, toy.n_pairs, 3))
    b = Campaign(pilot, surrogate="sum", self_pairs=False).ask(60)
    assert (b["gene_a"] != b["gene_b"]).all()
    with_self = Campaign(pilot, surrogate="sum").ask(60)
    assert (with_self["gene_a"] == with_self["gene_b"]).any()


def test_ask_bad_q(toy, norman_pilot):
    c = Campaign(norman_pilot, surrogate="sum")
    with pytest.raises(CampaignError, match=r"q must be >= 1, got 0 \(q = 0 asks for nothing\)"):
        c.ask(0)
    left = c.n_available()
    with pytest.raises(CampaignError, match=f"q={left + 1} exceeds the {left:,} candidate"):
        c.ask(left + 1)
    with pytest.raises(CampaignError, match="integer"):
        c.ask(2.5)
    assert c.n_asked == 0 and c.n_pending == 0


# ------------------------------------------------------------------------------ tell
def test_tell_attaches_completes_and_is_idempotent(norman, norman_pilot):
    c = Campaign(norman_pilot, surrogate="sum")
    batch = c.ask(20)
    answers = _answers(norman, batch)
    report = c.tell(answers.iloc[:15])
    assert (report.attached, report.duplicates, report.completed, report.still_pending) == (
        15, 0, 15, 5)
    assert report.extra_pairs == 0 and report.new_pairs == 15
    again = c.tell(answers.iloc[:15])
    assert (again.attached, again.duplicates, again.completed) == (0, 15, 0)
    # ask returns the open rest of the pending batch
    rest = c.ask(20)
    assert list(zip(rest.gene_a, rest.gene_b)) == list(zip(batch.gene_a, batch.gene_b))[15:]
    # a pair never asked for is extra data; replicates average (n_obs-weighted)
    g = norman.genes
    extra = pd.DataFrame({"id1": [g[0], g[1], g[1]], "id2": [g[5], g[7], g[7]],
                          "score": [0.1, -0.2, -0.4]})
    measured_before = set(zip(c.measured.gene_a, c.measured.gene_b))
    rep = c.tell(pd.concat([answers.iloc[15:], extra], ignore_index=True))
    assert rep.completed == 5 and rep.still_pending == 0 and rep.attached == 8
    new = {(0, 5), (1, 7)} - measured_before
    assert rep.extra_pairs == len(new)
    m = c.measured.set_index(["gene_a", "gene_b"])
    if (1, 7) in new:
        assert m.loc[(1, 7), "y"] == pytest.approx(-0.3) and m.loc[(1, 7), "n_obs"] == 2
    assert c.n_measured == 150 + 20 + len(new)
    assert len(c.observations) == 150 + 20 + 3
    # a replicate column adds a new replicate of a measured pair
    rep2 = c.tell(pd.DataFrame({"id1": [g[0]], "id2": [g[5]], "score": [0.3], "replicate": [1]}))
    assert rep2.attached == 1 and rep2.new_pairs == 0


def test_tell_bad_input_names_rows_and_attaches_nothing(norman, norman_pilot):
    c = Campaign(norman_pilot, surrogate="sum")
    c.ask(10)
    n_obs = len(c.observations)
    g = norman.genes
    with pytest.raises(CampaignError, match=r"not in the campaign \['NOPE'\].*row 1 \("):
        c.tell(pd.DataFrame({"id1": [g[0], "NOPE"], "id2": [g[1], g[2]], "score": [0.1, 0.2]}))
    with pytest.raises(CampaignError, match=r"row 1 \(.*nan.*row 2 .*inf"):
        c.tell(pd.DataFrame({"id1": [g[0], g[1], g[2]], "id2": [g[3], g[4], g[5]],
                             "score": [0.1, np.nan, np.inf]}))
    with pytest.raises(CampaignError, match="empty table"):
        c.tell(pd.DataFrame({"id1": [], "id2": [], "score": []}))
    with pytest.raises(CampaignError, match="missing column"):
        c.tell(pd.DataFrame({"id1": [g[0]], "id2": [g[1]]}))
    with pytest.raises(CampaignError, match="all 2 valid row\\(s\\) pair a gene with the control"):
        c.tell(pd.DataFrame({"id1": [g[0], "negative"], "id2": ["negative", g[2]],
                             "score": [0.1, 0.2]}))
    # contradictory: the same replicate twice with two scores, in one call and against the past
    with pytest.raises(CampaignError,
                       match="row 1 .* replicate 0: 0.5 contradicts 0.1 told in row 0 of this"):
        c.tell(pd.DataFrame({"id1": [g[0], g[0]], "id2": [g[3], g[3]], "score": [0.1, 0.5],
                             "replicate": [0, 0]}))
    a, b = norman_pilot.pairs.iloc[0][["id1", "id2"]]
    with pytest.raises(CampaignError, match="contradicts .* told in round 0"):
        c.tell(pd.DataFrame({"id1": [a], "id2": [b], "score": [123.0]}))
    assert len(c.observations) == n_obs and c.n_pending == 10  # nothing attached
    # invalid scores may be dropped, counted; control rows are kept, counted
    with pytest.warns(UserWarning, match="dropped 1 row"):
        rep = c.tell(pd.DataFrame({"id1": [g[0], g[1], "negative"], "id2": [g[3], g[4], g[9]],
                                   "score": [0.1, np.nan, 0.0]}), drop_invalid_scores=True)
    assert (rep.attached, rep.dropped_invalid, rep.control_rows) == (1, 1, 1)
    assert c.to_dict()["control_observations"] == [[g[9], 0.0, 1]]


# ------------------------------------------------------------------------------ persistence
def test_save_load_then_ask_gives_the_same_batch(tmp_path, norman, norman_pilot):
    kw = dict(surrogate="naiad", acquisition="ucb", seed=7, surrogate_options=SMALL_NAIAD)
    c = Campaign(norman_pilot, **kw)
    c.tell(_answers(norman, c.ask(30)))
    c.ask(10)  # leave a batch pending across the round trip
    path = c.save(tmp_path / "campaign.json")
    assert not list(tmp_path.glob(".*tmp"))  # the temporary file is gone
    loaded = Campaign.load(path)
    pd.testing.assert_frame_equal(loaded.measured, c.measured)
    pd.testing.assert_frame_equal(loaded.pending, c.pending)
    pd.testing.assert_frame_equal(loaded.history, c.history)
    pd.testing.assert_frame_equal(loaded.ask(10), c.ask(10))  # the pending batch
    want = c.ask(25, new_batch=True)
    pd.testing.assert_frame_equal(loaded.propose(25), want.assign(batch=want.batch))
    pd.testing.assert_frame_equal(loaded.ask(25, new_batch=True), want)
    # from_state: the stored state an Ax experiment keeps gives the same next batch
    obs = c.observations
    rebuilt = Campaign.from_state(
        c.genes, c.single_effects, obs[["id1", "id2", "score", "replicate", "n_obs"]],
        pending=c.pending[["gene_a", "gene_b"]].to_numpy(), n_asked=c.n_asked, **kw,
    )
    pd.testing.assert_frame_equal(rebuilt.propose(20), c.propose(20))
    assert json.loads(path.read_text())["format_version"] == 1


def test_load_rejects_truncated_other_version_and_inconsistent_files(tmp_path, norman,
                                                                     norman_pilot):
    c = Campaign(norman_pilot, surrogate="sum")
    c.ask(5)
    path = c.save(tmp_path / "c.json")
    text = path.read_text()
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with pytest.raises(CampaignFileError, match="truncated"):
        Campaign.load(tmp_path / "cut.json")
    data = json.loads(text)
    (tmp_path / "v2.json").write_text(json.dumps({**data, "format_version": 2}))
    with pytest.raises(CampaignFileError, match="version 2; this naiad_bo reads version 1"):
        Campaign.load(tmp_path / "v2.json")
    bad = json.loads(text)
    a, b = bad["batches"][0]["open"][0]
    for f, v in zip(("gene_a", "gene_b", "replicate", "score", "n_obs", "round"),
                    (a, b, 0, 0.5, 1, 1)):
        bad["observations"][f].append(v)
    bad["n_measured_pairs"] += 1
    (tmp_path / "both.json").write_text(json.dumps(bad))
    with pytest.raises(CampaignFileError, match="pending pair.* also measured"):
        Campaign.load(tmp_path / "both.json")
    miss = json.loads(text)
    miss["n_measured_pairs"] += 3
    (tmp_path / "count.json").write_text(json.dumps(miss))
    with pytest.raises(CampaignFileError, match="the file says"):
        Campaign.load(tmp_path / "count.json")
    with pytest.raises(CampaignFileError, match="not a naiad_bo campaign file"):
        Campaign.load(_write(tmp_path / "other.json", {"format": "x"}))


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


def test_factory_surrogate_needs_an_override_to_load(tmp_path, toy):
    from naiad_bo.models.single_sum import SingleEffectSumModel

    def factory(single_effects, seed=0):
        return SingleEffectSumModel(single_effects, seed=seed)

    pilot = _pilot(toy, np.arange(0, toy.n_pairs, 4))
    c = Campaign(pilot, surrogate=factory)
    path = c.save(tmp_path / "f.json")
    with pytest.raises(CampaignFileError, match="surrogate=..."):
        Campaign.load(path)
    assert Campaign.load(path, surrogate=factory).ask(3).shape[0] == 3
    cls_campaign = Campaign(pilot, surrogate=SingleEffectSumModel).save(tmp_path / "k.json")
    assert Campaign.load(cls_campaign).surrogate.resolve() is SingleEffectSumModel


# ------------------------------------------------------------------------------ simulator
def test_simulator_makes_the_picks_of_a_campaign_driven_by_hand(norman):
    """Two rounds by hand (pilot, blocked test split, ask, tell) = the simulator's batches."""
    seed, initial, q = 3, 100, 40
    sim = CampaignSimulator(norman, "naiad", initial=initial, batch=q, rounds=2,
                            surrogate_options=SMALL_NAIAD)
    res = sim.run("mpe", seed=seed)
    rng = np.random.default_rng(derive_seed(seed, 0, STREAM_SPLIT))
    acquirable, test = PaperProtocol().split(norman.n_pairs, rng)
    rows = np.sort(rng.choice(acquirable, size=initial, replace=False))
    c = Campaign(_pilot(norman, rows), "naiad", "mpe", seed=seed,
                 surrogate_options=SMALL_NAIAD, blocked=norman.pair_index()[test])
    np.testing.assert_array_equal(res.batches[0], norman.pair_index()[rows])
    for r in (1, 2):
        batch = c.ask(q)
        np.testing.assert_array_equal(batch[["gene_a", "gene_b"]].to_numpy(), res.batches[r])
        c.tell(_answers(norman, batch))


def test_readme_lab_path(tmp_path, monkeypatch, norman):
    """The README's lab path, line for line (with the fast y_a + y_b surrogate)."""
    monkeypatch.chdir(tmp_path)
    raw = norman.to_frame()
    singles = raw[raw["id2"] == norman.control]
    pairs = raw[raw["id2"] != norman.control]
    pd.concat([singles, pairs.iloc[::40]])[["id1", "id2", "score"]].to_csv("pilot.csv",
                                                                          index=False)
    pilot = naiad_bo.PairScreen.from_csv("pilot.csv")
    campaign = naiad_bo.Campaign(pilot, surrogate="sum", acquisition="mpe", seed=0)
    campaign.ask(96).to_csv("next_library.csv", index=False)
    campaign.save("campaign.json")
    library = pd.read_csv("next_library.csv")
    _answers(norman, library).to_csv("results.csv", index=False)
    campaign = naiad_bo.Campaign.load("campaign.json")
    report = campaign.tell("results.csv")
    assert report.completed == 96 and report.still_pending == 0
    campaign.ask(96).to_csv("next_library_2.csv", index=False)
    campaign.save("campaign.json")
    second = pd.read_csv("next_library_2.csv")
    assert not set(zip(second.id1, second.id2)) & set(zip(library.id1, library.id2))
    assert Campaign.load("campaign.json").n_measured == pilot.n_pairs + 96

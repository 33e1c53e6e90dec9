"""naiad_bo/ax/loop.py: one lab round, idempotency and every bad-input policy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ax_helpers import pilot_rows, write_measured

from naiad_bo.ax import Store, StoreError, experiment_state
from naiad_bo.ax.loop import MeasuredFileError, read_measured, recommend
from naiad_bo.campaign import Campaign

SUR = "linear"


def _answer(next_csv, oracle):
    nxt = pd.read_csv(next_csv)
    return [(a, b, oracle[(a, b)]) for a, b in zip(nxt["id1"], nxt["id2"])]


@pytest.fixture
def lab(tmp_path, small):
    """A store with a 12-row pilot and one pending batch of 6."""
    measured = write_measured(tmp_path / "m.csv", small, pilot_rows(small, 12))
    store = tmp_path / "lab.sqlite"
    res = recommend(store, measured, 6, tmp_path / "next.csv", surrogate=SUR)
    return store, measured, res


def test_rounds_match_campaign_and_reruns_attach_nothing(tmp_path, small, oracle, lab):
    store, measured, res = lab
    assert res.created and res.attached == 12 and res.new_batch and res.trial_index == 1
    pilot = pilot_rows(small, 12)
    campaign = Campaign.from_state(small.genes, small.single_effects,
                                   pd.DataFrame(pilot, columns=["id1", "id2", "score"]),
                                   surrogate=SUR)
    rows = list(pilot)
    for _ in range(3):
        nxt = pd.read_csv(tmp_path / "next.csv")
        expected = campaign.ask(6)
        assert list(zip(nxt["id1"], nxt["id2"])) == list(zip(expected["id1"], expected["id2"]))
        np.testing.assert_allclose(nxt["mean"], expected["mean"])
        # before results: the same pending batch, nothing attached twice
        again = recommend(store, measured, 6, tmp_path / "next2.csv", surrogate=SUR)
        assert not again.new_batch and again.attached == 0
        assert pd.read_csv(tmp_path / "next2.csv").equals(nxt)
        new = _answer(tmp_path / "next.csv", oracle)
        rows += new
        write_measured(measured, small, rows)
        campaign.tell(pd.DataFrame(new, columns=["id1", "id2", "score"]))
        res = recommend(store, measured, 6, tmp_path / "next.csv", surrogate=SUR)
        assert res.attached == 6 and res.completed_trials == [res.trial_index - 1]
    st = experiment_state(Store(store).load()[0])
    assert len(st.measured) == 12 + 18 and len(st.pending) == 6 and st.n_asked == 4


def test_pending_pair_row_completes_it_and_extra_pairs_are_kept(tmp_path, small, oracle, lab):
    store, measured, _ = lab
    nxt = pd.read_csv(tmp_path / "next.csv")
    first = (nxt["id1"][0], nxt["id2"][0], oracle[(nxt["id1"][0], nxt["id2"][0])])
    # one pending pair answered (in swapped order), plus a pair nobody asked for
    st = experiment_state(Store(store).load()[0])
    taken = set(map(tuple, st.measured[["id1", "id2"]].to_numpy().tolist())) | set(
        zip(nxt["id1"], nxt["id2"]))
    extra = next((a, b, y) for (a, b), y in oracle.items() if a <= b and (a, b) not in taken)
    rows = pilot_rows(small, 12) + [(first[1], first[0], first[2]), extra]
    write_measured(measured, small, rows)
    res = recommend(store, measured, 6, tmp_path / "n2.csv", surrogate=SUR)
    assert res.attached == 2 and not res.new_batch and res.completed_trials == []
    left = pd.read_csv(tmp_path / "n2.csv")
    assert len(left) == 5 and (first[0], first[1]) not in set(zip(left["id1"], left["id2"]))
    exp = Store(store).load()[0]
    kinds = [t.run_metadata.get("naiad_bo", "batch") for t in exp.trials.values()]
    assert kinds == ["pilot", "batch", "extra"]
    assert len(experiment_state(exp).pending) == 5


def test_duplicated_rows_are_counted_and_replicates_kept(tmp_path, small):
    pilot = pilot_rows(small, 10)
    a, b, y = pilot[0]
    c, d, z = pilot[2]
    rows = pilot + [pilot[1], (d, c, z), (a, b, y + 0.05)]  # two copies, one replicate
    measured = write_measured(tmp_path / "m.csv", small, rows)
    data = read_measured(measured)
    assert data.duplicates == 2 and len(data.pairs) == 11
    res = recommend(tmp_path / "s.sqlite", measured, 4, tmp_path / "n.csv", surrogate=SUR)
    assert res.attached == 11 and res.duplicates == 2
    st = experiment_state(Store(tmp_path / "s.sqlite").load()[0])
    vals = st.measured[(st.measured["id1"] == a) & (st.measured["id2"] == b)]["score"]
    assert sorted(vals) == sorted([y, y + 0.05])  # a replicate is a second value


def test_contradictory_and_lost_rows_change_nothing(tmp_path, small, lab):
    store, measured, _ = lab
    pilot = pilot_rows(small, 12)
    changed = [pilot[0][:2] + (pilot[0][2] + 1.0,)] + pilot[1:]
    write_measured(measured, small, changed)
    with pytest.raises(MeasuredFileError, match="1 contradictory row"):
        recommend(store, measured, 6, tmp_path / "x.csv", surrogate=SUR)
    write_measured(measured, small, pilot[3:])
    with pytest.raises(MeasuredFileError, match=r"3 row\(s\) the store holds are missing"):
        recommend(store, measured, 6, tmp_path / "x.csv", surrogate=SUR)
    st = experiment_state(Store(store).load()[0])
    assert len(st.measured) == 12 and len(st.pending) == 6
    assert not (tmp_path / "x.csv").exists()


def test_genes_outside_the_experiment_are_named(tmp_path, small, lab):
    store, measured, _ = lab
    rows = pilot_rows(small, 12) + [("NOTAGENE", small.genes[0], -0.3)]
    write_measured(measured, small, rows)
    with pytest.raises(MeasuredFileError, match=r"gene\(s\) not in experiment.*NOTAGENE"):
        recommend(store, measured, 6, tmp_path / "x.csv", surrogate=SUR)
    # a first file whose pair rows use a gene without a single-gene row
    other = write_measured(tmp_path / "o.csv", small, [("XYZ", small.genes[1], -0.2)])
    with pytest.raises(MeasuredFileError, match="no single-gene row.*XYZ"):
        recommend(tmp_path / "o.sqlite", other, 3, tmp_path / "x.csv")


def test_batch_larger_than_what_is_left(tmp_path, small):
    measured = write_measured(tmp_path / "m.csv", small, pilot_rows(small, 70))
    with pytest.raises(ValueError, match=r"--batch 9 is larger than the 8 pair\(s\) left"):
        recommend(tmp_path / "s.sqlite", measured, 9, tmp_path / "n.csv", surrogate=SUR)
    res = recommend(tmp_path / "s.sqlite", measured, 8, tmp_path / "n.csv", surrogate=SUR)
    assert len(res.frame) == 8


def test_bad_files_and_settings(tmp_path, small, lab):
    store, measured, _ = lab
    bad = tmp_path / "bad.csv"
    bad.write_text("id1,id2,score\nA,negative,0.1\nA,B,oops\n")
    with pytest.raises(MeasuredFileError, match="data line"):
        read_measured(bad)
    bad.write_text("gene1,gene2,score\nA,B,1\n")
    with pytest.raises(MeasuredFileError, match="lacks column"):
        read_measured(bad)
    with pytest.raises(MeasuredFileError, match="does not exist"):
        read_measured(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="other settings: --surrogate 'mlp'"):
        recommend(store, measured, 6, tmp_path / "x.csv", surrogate="mlp")
    with pytest.raises(ValueError, match="--batch must be a positive integer"):
        recommend(store, measured, 0, tmp_path / "x.csv")
    with pytest.raises(StoreError):
        recommend(tmp_path / "no" / "dir" / "s.sqlite", measured, 2, tmp_path / "x.csv")


def test_several_control_names(tmp_path, small):
    rows = pilot_rows(small, 8)
    path = write_measured(tmp_path / "m.csv", small, rows, control="non-targeting")
    df = pd.read_csv(path)
    df.loc[:5, "id2"] = "NTC"  # half the single-gene rows use another control name
    df.to_csv(path, index=False)
    res = recommend(tmp_path / "s.sqlite", path, 3, tmp_path / "n.csv", surrogate=SUR,
                    controls=["non-targeting", "NTC"])
    assert res.created and res.attached == 8
    exp = Store(tmp_path / "s.sqlite").load()[0]
    np.testing.assert_allclose(exp._properties["single_effects"], small.single_effects)


def test_new_batch_and_library_through_the_cli(tmp_path, small, capsys):
    from naiad_bo.cli.main import main

    measured = write_measured(tmp_path / "m.csv", small, pilot_rows(small, 10))
    lib = pd.DataFrame({"id1": small.genes[:3], "id2": small.genes[3:6]})
    lib.to_csv(tmp_path / "lib.csv", index=False)
    base = ["recommend", "--store", str(tmp_path / "s.sqlite"), "--measured", str(measured),
            "--batch", "4", "--surrogate", "linear", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "a.csv"), "--library",
                 str(tmp_path / "lib.csv")]) == 0
    first = pd.read_csv(tmp_path / "a.csv")
    # the library comes first, even after a pilot, minus pairs the pilot measured (fewer
    # pairs than the batch: just those)
    pilot = {(a, b) for a, b, _ in pilot_rows(small, 10)}
    expected = [tuple(sorted(p)) for p in zip(lib["id1"], lib["id2"])]
    expected = [p for p in expected if p not in pilot]
    assert 0 < len(expected) < 4
    assert list(zip(first["id1"], first["id2"])) == expected
    assert main([*base, "--out", str(tmp_path / "b.csv"), "--new-batch"]) == 0
    second = pd.read_csv(tmp_path / "b.csv")
    assert len(second) == 4 and second["trial_index"].iloc[0] == 2
    assert not set(zip(second["id1"], second["id2"])) & set(zip(first["id1"], first["id2"]))
    st = experiment_state(Store(tmp_path / "s.sqlite").load()[0])
    assert len(st.pending) == len(expected) + 4 and st.n_asked == 2
    assert main(["status", "--store", str(tmp_path / "s.sqlite"), "--plot",
                 str(tmp_path / "d.png")]) == 0
    assert f"pending: {len(expected) + 4} pair(s)" in capsys.readouterr().out
    assert (tmp_path / "d.png").stat().st_size > 5_000


def test_an_experiment_resumed_without_a_surrogate_keeps_its_own(tmp_path, small, oracle, lab):
    """Created with ``linear``; a later round that names no surrogate (the CLI default,
    ``DEFAULT_SURROGATE``) keeps ``linear``: its batch is the linear campaign's."""
    from naiad_bo.ax.experiment import experiment_settings
    from naiad_bo.specs import DEFAULT_SURROGATE

    store, measured, _ = lab
    new = _answer(tmp_path / "next.csv", oracle)
    write_measured(measured, small, list(pilot_rows(small, 12)) + new)
    res = recommend(store, measured, 6, tmp_path / "next.csv")  # default surrogate
    assert res.new_batch and res.attached == 6
    assert experiment_settings(Store(store).load()[0])["surrogate"] == SUR != DEFAULT_SURROGATE
    campaign = Campaign.from_state(small.genes, small.single_effects,
                                   pd.DataFrame(pilot_rows(small, 12),
                                                columns=["id1", "id2", "score"]),
                                   surrogate=SUR)
    campaign.ask(6)
    campaign.tell(pd.DataFrame(new, columns=["id1", "id2", "score"]))
    nxt = pd.read_csv(tmp_path / "next.csv")
    expected = campaign.ask(6)
    assert list(zip(nxt["id1"], nxt["id2"])) == list(zip(expected["id1"], expected["id2"]))

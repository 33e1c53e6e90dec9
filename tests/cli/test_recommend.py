"""``naiad-bo recommend``, ``status`` and ``export`` (naiad_bo/cli/recommend.py, status.py,
export.py) on a small real screen."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ax"))
from ax_helpers import pilot_rows, write_measured  # noqa: E402

from naiad_bo.cli.main import main  # noqa: E402


@pytest.fixture
def small(norman):
    return norman.subset_genes(norman.genes[:12])


def test_recommend_status_export(tmp_path, small, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store is ./naiad_bo.sqlite
    rows = pilot_rows(small, 10)
    write_measured(tmp_path / "m.csv", small, rows, control="NTC")
    argv = ["recommend", "--measured", "m.csv", "--batch", "5", "--out", "next.csv",
            "--surrogate", "linear", "--control", "NTC", "--threads", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "created the experiment" in out and "attached 10 new result row(s)" in out
    assert (tmp_path / "naiad_bo.sqlite").exists()
    nxt = pd.read_csv("next.csv")
    assert list(nxt.columns) == ["trial_index", "rank", "id1", "id2", "mean", "std",
                                 "acquisition"]
    assert len(nxt) == 5 and nxt["acquisition"].notna().all()
    # rerun before results: the pending batch again, nothing attached
    assert main(argv) == 0
    assert "pending batch" in capsys.readouterr().out
    assert pd.read_csv("next.csv").equals(nxt)
    # the lab measures 5 pairs
    truth = {(a, b): y for a, b, y in zip(small.pairs["id1"], small.pairs["id2"], small.pairs["y"])}
    rows += [(a, b, truth[(a, b)]) for a, b in zip(nxt["id1"], nxt["id2"])]
    write_measured(tmp_path / "m.csv", small, rows, control="NTC")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "attached 5 new result row(s)" in out and "completed batch trial(s) [1]" in out
    assert main(["status", "--top", "3"]) == 0
    status = capsys.readouterr().out
    assert "2 batch(es) proposed, 1 complete" in status
    assert "15 result(s) for 15 distinct pair(s)" in status and "pending: 5 pair(s)" in status
    best = min(rows, key=lambda r: r[2])
    assert f"1. {best[0]} + {best[1]}: {best[2]:.4f}" in status
    assert main(["export", "--out", "arch/lab.json"]) == 0
    doc = json.loads((tmp_path / "arch" / "lab.json").read_text())
    assert doc["experiment_name"] == "campaign" and len(doc["naiad_bo"]["genes"]) == 12


@pytest.mark.parametrize(("extra", "message"), [
    (["--batch", "0"], "--batch must be a positive integer"),
    (["--batch", "500"], "--batch 500 is larger than the"),
    (["--surrogate", "nope"], "unknown model"),
    (["--acquisition", "ucb:kappa=abc"], "kappa"),
    (["--store", "/no/such/dir/x.sqlite"], "cannot open store"),
])
def test_recommend_errors_are_one_line(extra, message, tmp_path, small, capsys):
    write_measured(tmp_path / "m.csv", small, pilot_rows(small, 10))
    argv = ["recommend", "--store", str(tmp_path / "s.sqlite"), "--measured",
            str(tmp_path / "m.csv"), "--batch", "4", "--out", str(tmp_path / "n.csv"),
            "--surrogate", "linear", "--quiet"]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_status_and_export_of_a_missing_store(tmp_path, capsys):
    assert main(["status", "--store", str(tmp_path / "none.sqlite")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["export", "--store", str(tmp_path / "none.sqlite"), "--out", "x.json"]) == 2

"""``naiad-bo scale-round``: the library is the run_scale_round batch, written with names."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from naiad_bo.cli.main import main


def test_scale_round_writes_library_and_json(tmp_path, capsys):
    out, js = tmp_path / "lib.csv", tmp_path / "r.json"
    rc = main(["scale-round", "--genes", "60", "--train", "300", "--q", "12", "--source",
               "norman2019", "--surrogate", "naiad:epochs=3,ensemble_size=2", "--workers", "1",
               "--out", str(out), "--json", str(js)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "1,530 pairs" in text and "peak" in text
    lib = pd.read_csv(out)
    assert list(lib["rank"]) == list(range(1, 13))
    assert (lib["id1"] == [f"G{a:05d}" for a in lib["gene_a"]]).all()
    assert len(set(zip(lib["gene_a"], lib["gene_b"]))) == 12
    result = json.loads(js.read_text())
    assert result["n_scored"] == 60 * 61 // 2 - 300 and result["q"] == 12
    assert np.isfinite(result["total_s"])


def test_scale_round_rejects_too_many_pairs(capsys):
    rc = main(["scale-round", "--genes", "10", "--train", "50", "--q", "10"])
    assert rc == 2
    assert "exceed the 55 pairs" in capsys.readouterr().err

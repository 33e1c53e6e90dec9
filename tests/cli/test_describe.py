"""``naiad-bo screens`` and ``naiad-bo describe``."""

from __future__ import annotations

import json

from naiad_bo.cli.main import main


def test_screens(capsys):
    assert main(["screens"]) == 0
    out = capsys.readouterr().out
    assert "norman2019" in out and "100576" in out


def test_describe_bundled_with_plot_and_json(tmp_path, capsys):
    png, js = tmp_path / "p.png", tmp_path / "s.json"
    assert main(["describe", "norman2019", "--plot", str(png), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "6,328" in out and "CEBPA" in out and "R^2" in out
    assert png.stat().st_size > 10_000
    d = json.loads(js.read_text())
    assert d["n_pairs"] == 6328 and 0.8 < d["additive_r2_fit"] < 0.95
    assert len(d["strongest"]) == 10


def test_describe_csv_with_options(tmp_path, capsys):
    p = tmp_path / "x.csv"
    p.write_text("g1;g2;val\nA;ctrl;-0.1\nB;ctrl;-0.2\nA;B;-0.5\nA;A;-0.3\n")
    p2 = tmp_path / "x.tsv"
    p2.write_text(p.read_text().replace(";", "\t"))
    rc = main(["describe", str(p2), "--control", "ctrl", "--id1-col", "g1", "--id2-col", "g2",
               "--score-col", "val"])
    assert rc == 0
    assert "2 distinct unordered" in capsys.readouterr().out


def test_describe_bad_input_is_a_clear_error(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("id1,id2,score\nA,negative,oops\n")
    assert main(["describe", str(p)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "oops" in err
    assert main(["describe", "no_such_screen"]) == 2

from __future__ import annotations

import json

import numpy as np
import pytest

from naiad_bo.cli.main import main


def _toy_csv(path, n_genes):
    """An id1,id2,score CSV of n_genes genes with single effects and all pairs."""
    rng = np.random.default_rng(0)
    lines = ["id1,id2,score"]
    genes = [f"G{i}" for i in range(n_genes)]
    lines += [f"{g},negative,{rng.normal(0, 0.1):.4f}" for g in genes]
    lines += [f"{a},{b},{rng.normal(0, 0.1):.4f}"
              for i, a in enumerate(genes) for b in genes[i:]]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_simulate_writes_records_and_plot(tmp_path, capsys):
    out, fig = tmp_path / "sim.json", tmp_path / "sim.png"
    rc = main(["simulate", "--screen", "norman2019", "--surrogate", "linear", "--acquisition",
               "mpe", "uniform", "--initial", "50", "--batch", "25", "--rounds", "2",
               "--seeds", "0", "1", "--json", str(out), "--plot", str(fig), "--quiet"])
    assert rc == 0
    doc = json.loads(out.read_text())
    records = doc["records"]
    assert isinstance(records, list) and len(records) == 2 * 2 * 3
    assert doc["settings"]["surrogate"] == "linear" and doc["settings"]["seeds"] == [0, 1]
    assert doc["settings"]["acquisition"] == ["mpe", "uniform"] and doc["settings"]["batch"] == 25
    acquired = doc["acquired"]
    assert len(acquired) == 2 * 2 * (50 + 2 * 25)  # seeds x acquisitions x pairs measured
    one = [a for a in acquired if a["seed"] == 0 and a["acquisition"] == "mpe"]
    assert [sum(a["round"] == r for a in one) for r in (0, 1, 2)] == [50, 25, 25]
    assert len({(a["id1"], a["id2"]) for a in one}) == 100 and all(a["y"] < 1 for a in one)
    need = {"seed", "round", "n_measured", "top200_discovered", "measured_top200",
            "test_rmse", "fit_s", "score_s", "select_s"}
    assert need <= set(records[0])
    assert {(r["seed"], r["acquisition"], r["round"]) for r in records} == {
        (s, a, r) for s in (0, 1) for a in ("mpe", "uniform") for r in (0, 1, 2)}
    assert [r["n_measured"] for r in records[:3]] == [50, 75, 100]
    assert fig.exists() and fig.stat().st_size > 10_000
    text = capsys.readouterr().out
    assert "top-200 discovered" in text and "marginal gain" in text


def test_simulate_prospective_on_a_csv(tmp_path):
    csv = _toy_csv(tmp_path / "toy.csv", 12)  # 78 pairs
    out = tmp_path / "p.json"
    rc = main(["simulate", "--screen", str(csv), "--surrogate", "sum", "--acquisition", "mpe",
               "--initial", "8", "--batch", "10", "--rounds", "7", "--seeds", "3",
               "--protocol", "prospective", "--top-k", "10", "--json", str(out), "--quiet"])
    assert rc == 0
    records = json.loads(out.read_text())["records"]
    assert records[-1]["n_measured"] == 78 and records[-1]["test_rmse"] is None
    assert records[-1]["top10_discovered"] == 10


def test_simulate_no_self_pairs_and_spec_options(tmp_path, capsys):
    csv = _toy_csv(tmp_path / "toy.csv", 12)  # 78 pairs, 12 of them same-gene
    out = tmp_path / "n.json"
    rc = main(["simulate", "--screen", str(csv), "--surrogate", "linear", "--acquisition",
               "mpe", "--initial", "6", "--batch", "10", "--rounds", "6", "--seeds", "0",
               "--protocol", "prospective", "--top-k", "10", "--no-self-pairs",
               "--json", str(out), "--quiet"])
    assert rc == 0
    doc = json.loads(out.read_text())
    records = doc["records"]
    assert records[-1]["n_measured"] == 66 and records[-1]["n_available"] == 0
    assert doc["settings"]["self_pairs"] is False
    assert all(a["id1"] != a["id2"] for a in doc["acquired"]) and len(doc["acquired"]) == 66
    assert "same-gene pairs left out" in capsys.readouterr().out
    # the spec grammar and its --surrogate-option alias give the same records
    kw = ["simulate", "--screen", "norman2019", "--acquisition", "mpe", "--initial", "40",
          "--batch", "20", "--rounds", "1", "--seeds", "0", "--quiet"]
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main([*kw, "--surrogate", "naiad:epochs=3,ensemble_size=2", "--json", str(a)]) == 0
    assert main([*kw, "--surrogate", "naiad", "--surrogate-option", "epochs=3",
                 "--surrogate-option", "ensemble_size=2", "--json", str(b)]) == 0
    strip = {"fit_s", "score_s", "select_s", "round_s", "fit_cpu_s", "score_cpu_s",
             "select_cpu_s", "round_cpu_s", "surrogate"}
    ra, rb = ([{k: v for k, v in r.items() if k not in strip}
               for r in json.loads(p.read_text())["records"]] for p in (a, b))
    assert ra == rb


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "0"], "batch must be >= 1"),
        (["--batch", "2000"], "acquirable pairs"),
        (["--acquisition", "best"], "unknown acquisition 'best'"),
        (["--surrogate", "sum", "--acquisition", "variance"], "deterministic"),
        (["--surrogate", "gpx"], "unknown model"),
        (["--surrogate-option", "epoch=3"], "unknown hyper-parameter"),
        (["--surrogate", "naiad:epochs=-2"], "surrogate spec 'naiad:epochs=-2'"),
        (["--surrogate-option", "epochs"], "expected KEY=VALUE"),
        (["--acquisition", "ucb:kapa=1"], "kapa"),
        (["--top-k", "100000"], "top_k"),
    ],
)
def test_simulate_bad_input_exits_2(args, message, capsys):
    rc = main(["simulate", "--screen", "norman2019", "--quiet", *args])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_simulate_screen_with_too_few_genes(tmp_path, capsys):
    csv = _toy_csv(tmp_path / "two.csv", 2)
    rc = main(["simulate", "--screen", str(csv), "--initial", "1", "--batch", "1",
               "--rounds", "1", "--top-k", "1", "--quiet"])
    assert rc == 2
    assert "at least 3" in capsys.readouterr().err


def test_simulate_unknown_screen(capsys):
    assert main(["simulate", "--screen", "no_such_screen", "--quiet"]) == 2
    assert "neither a bundled screen" in capsys.readouterr().err

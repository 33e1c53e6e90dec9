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
    records = json.loads(out.read_text())
    assert isinstance(records, list) and len(records) == 2 * 2 * 3
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
    records = json.loads(out.read_text())
    assert records[-1]["n_measured"] == 78 and records[-1]["test_rmse"] is None
    assert records[-1]["top10_discovered"] == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch", "0"], "batch must be >= 1"),
        (["--batch", "2000"], "acquirable pairs"),
        (["--acquisition", "best"], "unknown acquisition 'best'"),
        (["--surrogate", "sum", "--acquisition", "variance"], "deterministic"),
        (["--surrogate", "gpx"], "unknown model"),
        (["--surrogate-option", "epoch=3"], "unknown hyper-parameter"),
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

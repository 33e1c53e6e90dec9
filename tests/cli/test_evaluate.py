"""Tests for ``naiad-bo evaluate`` (naiad_bo/cli/evaluate.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from naiad_bo.cli.main import main

FIELDS = {"model", "seed", "n_train", "rmse", "pearson", "fit_s"}


def test_cli_linear_json(tmp_path, capsys, shared_data):
    out = tmp_path / "res" / "lin.json"
    code = main(
        ["evaluate", "--screen", "norman2019", "--model", "linear", "--train-pairs", "224",
         "--seeds", "0", "1", "2", "--json", str(out), "--no-progress"]
    )
    assert code == 0
    records = json.loads(out.read_text())
    assert len(records) == 3 and FIELDS <= set(records[0])
    assert [r["seed"] for r in records] == [0, 1, 2]
    for r in records:
        assert r["model"] == "linear" and r["n_train"] == 224 and r["n_test"] == 1898
        assert 0.04 < r["rmse"] < 0.08 and r["pearson"] > 0.9 and r["fit_s"] >= 0
    text = capsys.readouterr().out
    assert "rmse_mean" in text and "norman2019" in text


def test_cli_tiny_ensemble_and_csv_screen(tmp_path, norman):
    path = tmp_path / "screen.csv"
    norman.to_csv(path)
    out = tmp_path / "mlp.json"
    code = main(
        ["evaluate", "--screen", str(path), "--model", "mlp", "--occurrence", "4",
         "--seeds", "5", "--model-arg", "epochs=3", "--model-arg", "ensemble_size=2",
         "--test-frac", "0.5", "--val-frac", "0", "--json", str(out), "--no-progress"]
    )
    assert code == 0
    (rec,) = json.loads(out.read_text())
    assert rec["n_train"] == 224 and rec["occurrence"] == 4.0 and rec["n_test"] == 3164
    assert np.isnan(rec["val_rmse"])


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--model", "linear", "--train-pairs", "3800"], "exceeds the 3797 pairs"),
        (["--model", "gpx", "--train-pairs", "10"], "unknown model"),
        (["--model", "mlp", "--train-pairs", "10", "--model-arg", "widht=3"], "widht"),
        (["--model", "mlp", "--train-pairs", "10", "--model-arg", "oops"], "KEY=VALUE"),
        (["--model", "linear", "--train-pairs", "0"], "positive"),
        (["--model", "linear", "--train-pairs", "10", "--test-frac", "0.95"], "< 1"),
    ],
)
def test_cli_bad_input(extra, message, capsys):
    code = main(["evaluate", "--screen", "norman2019", "--no-progress", *extra])
    assert code == 2
    assert message in capsys.readouterr().err


def test_cli_unknown_screen(capsys):
    code = main(["evaluate", "--screen", "nope.csv", "--model", "linear", "--train-pairs", "5"])
    assert code == 2 and "neither a bundled screen" in capsys.readouterr().err

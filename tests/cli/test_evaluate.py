"""Tests for ``naiad-bo evaluate`` (naiad_bo/cli/evaluate.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from naiad_bo.cli.main import main

FIELDS = {"model", "seed", "n_train", "rmse", "pearson", "fit_s"}


def _reject_non_strict(token: str) -> None:
    raise AssertionError(f"non-strict JSON literal {token} in evaluate --json output")


def test_cli_linear_json(tmp_path, capsys, shared_data):
    out = tmp_path / "res" / "lin.json"
    code = main(
        ["evaluate", "--screen", "norman2019", "--surrogate", "linear", "--train-pairs", "224",
         "--seeds", "0", "1", "2", "--json", str(out), "--quiet"]
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
        ["evaluate", "--screen", str(path), "--surrogate", "mlp:epochs=3,ensemble_size=2",
         "--occurrence", "4", "--seeds", "5", "--test-frac", "0.5", "--val-frac", "0",
         "--json", str(out), "--threads", "1", "--quiet"]
    )
    assert code == 0
    (rec,) = json.loads(out.read_text(), parse_constant=_reject_non_strict)
    assert rec["n_train"] == 224 and rec["occurrence"] == 4.0 and rec["n_test"] == 3164
    assert rec["val_rmse"] is None  # no validation split: strict JSON null, not a NaN literal


def test_cli_deprecated_model_flags_give_the_same_records(tmp_path):
    """``--model NAME --model-arg K=V`` still works (with a FutureWarning) and means
    ``--surrogate NAME:K=V``."""
    new, old = tmp_path / "new.json", tmp_path / "old.json"
    base = ["evaluate", "--screen", "norman2019", "--train-pairs", "100", "--seeds", "1",
            "--quiet"]
    assert main([*base, "--surrogate", "mlp:epochs=2,ensemble_size=2", "--json", str(new)]) == 0
    with pytest.warns(FutureWarning, match="--model is deprecated"):
        rc = main([*base, "--model", "mlp", "--model-arg", "epochs=2", "--model-arg",
                   "ensemble_size=2", "--json", str(old), "--no-progress"])
    assert rc == 0
    a, b = json.loads(new.read_text())[0], json.loads(old.read_text())[0]
    assert a["model"] == b["model"] == "mlp" and a["rmse"] == b["rmse"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--surrogate", "linear", "--train-pairs", "3800"], "exceeds the 3797 pairs"),
        (["--surrogate", "gpx", "--train-pairs", "10"], "unknown model"),
        (["--surrogate", "mlp:widht=3", "--train-pairs", "10"], "widht"),
        (["--surrogate", "mlp:epochs=abc", "--train-pairs", "10"], "epochs"),
        (["--surrogate", "mlp", "--train-pairs", "10", "--model-arg", "oops"], "KEY=VALUE"),
        (["--surrogate", "linear", "--train-pairs", "0"], "positive"),
        (["--surrogate", "linear", "--train-pairs", "10", "--test-frac", "0.95"], "< 1"),
        (["--train-pairs", "10"], "--surrogate is required"),
    ],
)
def test_cli_bad_input(extra, message, capsys):
    code = main(["evaluate", "--screen", "norman2019", "--quiet", *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_unknown_screen(capsys):
    code = main(["evaluate", "--screen", "nope.csv", "--surrogate", "linear", "--train-pairs",
                 "5"])
    assert code == 2 and "neither a bundled screen" in capsys.readouterr().err


def test_cli_json_reports_calibration_per_seed(tmp_path):
    """``evaluate --json`` carries the calibration fields; a deterministic model gets NaN + why."""
    for model, finite in (("linear", True), ("sum", False)):
        out = tmp_path / f"{model}.json"
        code = main(
            ["evaluate", "--screen", "norman2019", "--model", model, "--train-pairs", "224",
             "--seeds", "0", "1", "--json", str(out), "--no-progress"]
        )
        assert code == 0
        records = json.loads(out.read_text())
        for r in records:
            for key in ("coverage50", "coverage90", "nll", "nll_homoscedastic",
                        "calibration_spearman"):
                value = r[key]  # NaN, or null where the JSON output is strict
                assert (value is not None and bool(np.isfinite(value))) is finite, (model, key)
            if finite:
                assert 0.8 < r["coverage90"] <= 1.0 and r["calibration_note"] is None
            else:
                assert "deterministic" in r["calibration_note"]

"""naiad_bo/cli/main.py: one grammar for every command (threads, quiet, errors, controls)."""

from __future__ import annotations

import json

import pytest
import torch

from naiad_bo.cli.main import main


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("argv", [
    ["--threads", "2", "screens"],
    ["screens", "--threads", "2"],
])
def test_threads_before_or_after_the_command(argv, capsys):
    assert main(argv) == 0
    assert torch.get_num_threads() == 2
    assert "norman2019" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "env", "message"), [
    (["screens"], "abc", "NAIAD_BO_THREADS='abc' is not an integer"),
    (["screens"], "0", "must be >= 1"),
    (["screens", "--threads", "0"], None, "--threads must be >= 1"),
    (["simulate", "--screen", "norman2019", "--acquisition", "ucb:kappa=abc", "--rounds", "1",
      "--initial", "20", "--batch", "5", "--seeds", "0"], None, "kappa"),
])
def test_bad_values_are_one_line_errors(argv, env, message, monkeypatch, capsys):
    if env is None:
        monkeypatch.delenv("NAIAD_BO_THREADS", raising=False)
    else:
        monkeypatch.setenv("NAIAD_BO_THREADS", env)
    assert main([*argv, "--quiet"] if argv[0] != "screens" else argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_quiet_is_accepted_by_every_command(tmp_path):
    assert main(["screens", "--quiet"]) == 0
    assert main(["describe", "norman2019", "--quiet", "--top", "1"]) == 0


def test_several_control_names_and_strict_describe_json(tmp_path, capsys):
    p = tmp_path / "s.csv"
    p.write_text("id1,id2,score\nA,NTC,-0.1\nB,non-targeting,-0.2\nC,NTC,0.05\n"
                 "A,B,-0.5\nA,C,-0.2\nB,C,-0.1\n")
    js = tmp_path / "d.json"
    rc = main(["describe", str(p), "--control", "non-targeting", "--control", "NTC",
               "--json", str(js)])
    assert rc == 0
    text = js.read_text()
    assert "NaN" not in text  # no replicates: the noise floor is null, not NaN
    d = json.loads(text)
    assert d["n_genes"] == 3 and d["n_pairs"] == 3 and d["median_replicate_sd"] is None
    # only one of the names: genes with the other control lack single effects
    assert main(["describe", str(p), "--control", "NTC"]) == 0


def test_errors_name_flags_not_python_keywords(tmp_path, capsys):
    p = tmp_path / "bad.csv"
    p.write_text("id1,id2,score\nA,negative,-0.1\nB,negative,oops\nA,B,-0.3\n")
    assert main(["describe", str(p)]) == 2
    err = capsys.readouterr().err
    assert "--drop-invalid-scores" in err and "drop_invalid_scores=True" not in err
    assert main(["describe", str(p), "--drop-invalid-scores"]) == 0
    capsys.readouterr()
    assert main(["describe", str(p), "--drop-invalid-scores", "--control", "ctrl"]) == 2
    err = capsys.readouterr().err
    assert "--control NAME" in err and "control=NAME" not in err.replace("--control NAME", "")

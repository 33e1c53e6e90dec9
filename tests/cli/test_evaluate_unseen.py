"""``naiad-bo evaluate --unseen-genes`` and ``--model gp:SPEC`` end to end."""

from __future__ import annotations

import json

from naiad_bo.cli.main import main


def test_unseen_genes_json_fields(tmp_path, capsys):
    out = tmp_path / "u.json"
    rc = main(["evaluate", "--screen", "norman2019", "--surrogate", "linear",
               "--train-pairs", "150",
               "--seeds", "1", "--unseen-genes", "0.2", "--unseen-descriptors", "go",
               "--json", str(out), "--no-progress"])
    assert rc == 0
    (rec,) = json.loads(out.read_text())
    for key in ("rmse_one_unseen", "rmse_two_unseen", "rmse_one_unseen_baseline",
                "rmse_two_unseen_baseline", "spearman_unseen_single_effects"):
        assert key in rec
    assert "rmse_one_unseen_baseline" in capsys.readouterr().out


def test_gp_spec_on_the_command_line(tmp_path):
    out = tmp_path / "e.json"
    rc = main(["evaluate", "--screen", "norman2019", "--surrogate", "gp:go", "--train-pairs", "120",
               "--seeds", "0", "--json", str(out), "--no-progress"])
    assert rc == 0
    (rec,) = json.loads(out.read_text())
    assert rec["model"] == "gp" and 0 < rec["rmse"] < 0.2

"""Every screen-taking command reads a user's file with its own column names."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from naiad_bo.cli.main import main


@pytest.fixture()
def renamed_tsv(tmp_path, norman):
    """Norman with renamed columns, as a TSV, half of the pairs missing (incomplete screen)."""
    frame = norman.to_frame()[["id1", "id2", "score"]]
    singles = frame[frame.id2 == norman.control]
    pairs = frame[frame.id2 != norman.control].sample(frac=0.5, random_state=0)
    out = pd.concat([singles, pairs]).rename(
        columns={"id1": "gene1", "id2": "gene2", "score": "gamma"}
    )
    path = tmp_path / "screen.tsv"
    out.to_csv(path, sep="\t", index=False)
    return path


COLS = ["--id1-col", "gene1", "--id2-col", "gene2", "--score-col", "gamma"]


def test_simulate_reads_custom_columns(renamed_tsv, tmp_path, capsys):
    js = tmp_path / "r.json"
    rc = main(["simulate", "--screen", str(renamed_tsv), *COLS, "--surrogate", "linear",
               "--initial", "50", "--batch", "50", "--rounds", "1", "--seeds", "0",
               "--quiet", "--json", str(js)])
    assert rc == 0
    recs = json.loads(js.read_text())["records"]
    assert [r["n_measured"] for r in recs] == [50, 100]


def test_evaluate_reads_custom_columns(renamed_tsv, capsys):
    rc = main(["evaluate", "--screen", str(renamed_tsv), *COLS, "--model", "linear",
               "--train-pairs", "100", "--seeds", "0", "--no-progress"])
    assert rc == 0


def test_wrong_columns_name_the_fix(renamed_tsv, capsys):
    assert main(["evaluate", "--screen", str(renamed_tsv), "--model", "linear",
                 "--train-pairs", "100", "--seeds", "0"]) == 2
    assert "missing column" in capsys.readouterr().err

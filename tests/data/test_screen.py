"""PairScreen loader: aggregation, round trip against the raw file, and bad input."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

from naiad_bo.data import PairScreen, ScreenFormatError, ScreenWarning


def _frame(rows):
    return pd.DataFrame(rows, columns=["id1", "id2", "score"])


BASIC = [
    ("A", "negative", -0.1),
    ("negative", "A", -0.3),  # swapped control row: same single effect
    ("B", "negative", -0.5),
    ("C", "negative", 0.2),
    ("A", "B", -1.0),
    ("B", "A", -0.6),  # swapped replicate of (A, B)
    ("A", "A", -0.4),  # same-gene pair: an ordinary candidate
    ("C", "B", 0.05),
]


def test_aggregation_small_table():
    s = PairScreen.from_frame(_frame(BASIC))
    assert s.genes == ["A", "B", "C"]
    np.testing.assert_allclose(s.single_effects, [-0.2, -0.5, 0.2])
    assert s.n_genes == 3 and s.n_pairs == 3
    p = s.pairs.set_index(["id1", "id2"])
    assert p.loc[("A", "B"), "y"] == pytest.approx(-0.8)
    assert p.loc[("A", "B"), "n_obs"] == 2
    assert p.loc[("A", "B"), "sd"] == pytest.approx(np.std([-1.0, -0.6], ddof=1))
    assert p.loc[("A", "A"), "y"] == pytest.approx(-0.4)
    assert p.loc[("B", "C"), "y"] == pytest.approx(0.05)
    assert (s.pairs["gene_a"] <= s.pairs["gene_b"]).all()


def test_contradictory_replicates_are_averaged_with_spread():
    rows = BASIC + [("A", "C", 1.0), ("C", "A", -1.0)]
    s = PairScreen.from_frame(_frame(rows))
    r = s.pairs.set_index(["id1", "id2"]).loc[("A", "C")]
    assert r["y"] == pytest.approx(0.0) and r["n_obs"] == 2
    assert r["sd"] == pytest.approx(np.sqrt(2.0))


def test_round_trip_through_csv(tmp_path):
    s = PairScreen.from_frame(_frame(BASIC))
    path = tmp_path / "s.csv"
    s.to_csv(path)
    t = PairScreen.from_csv(path)
    assert t.genes == s.genes
    np.testing.assert_allclose(t.single_effects, s.single_effects)
    np.testing.assert_allclose(t.y_values(), s.y_values())


def _raw_means(path):
    raw = pd.read_csv(path, encoding="utf-8-sig")
    raw["id1"], raw["id2"] = raw["id1"].str.strip(), raw["id2"].str.strip()
    ctrl = raw[(raw.id1 == "negative") ^ (raw.id2 == "negative")]
    gene = np.where(ctrl.id1 == "negative", ctrl.id2, ctrl.id1)
    singles = pd.Series(ctrl.score.to_numpy(), index=gene).groupby(level=0).mean()
    pairs = raw[(raw.id1 != "negative") & (raw.id2 != "negative")]
    key = [tuple(sorted(t)) for t in zip(pairs.id1, pairs.id2)]
    pair_means = pd.Series(pairs.score.to_numpy(), index=pd.MultiIndex.from_tuples(key))
    return singles, pair_means.groupby(level=[0, 1]).mean()


@pytest.mark.parametrize(
    "fixture,file,n_genes,n_pairs",
    [
        ("norman", "norman2019_k562_crispra_gamma.csv", 112, 6328),
        ("horlbeck", "horlbeck2018_k562_crispri_gamma.csv", 448, 100576),
    ],
)
def test_bundled_screen_matches_raw_file(request, shared_data, fixture, file, n_genes, n_pairs):
    """Every gene keeps its own single effect and every pair its own value (no scrambling)."""
    screen = request.getfixturevalue(fixture)
    assert screen.n_genes == n_genes and screen.n_pairs == n_pairs
    singles, pair_means = _raw_means(shared_data / "screens" / file)
    np.testing.assert_allclose(
        screen.single_effects, singles.loc[screen.genes].to_numpy(), rtol=0, atol=1e-12
    )
    names = [tuple(sorted(t)) for t in zip(screen.pairs.id1, screen.pairs.id2)]
    np.testing.assert_allclose(
        screen.y_values(), pair_means.loc[names].to_numpy(), rtol=0, atol=1e-12
    )
    # ids and names agree
    g = np.array(screen.genes, dtype=object)
    assert (g[screen.pairs.gene_a] == screen.pairs.id1).all()
    assert (g[screen.pairs.gene_b] == screen.pairs.id2).all()


def test_norman_replicates_and_same_gene_pairs(norman):
    same = norman.pairs[norman.pairs.gene_a == norman.pairs.gene_b]
    assert len(same) == 112
    assert norman.pairs.n_obs.max() > 1 and norman.pairs.n_obs.sum() == norman.report.n_pair_rows
    assert norman.report.n_rows == 51984


def test_bom_header_and_gzip(tmp_path):
    text = "\ufeffid1,id2,score\n" + "\n".join(f"{a},{b},{y}" for a, b, y in BASIC) + "\n"
    plain = tmp_path / "bom.csv"
    plain.write_text(text, encoding="utf-8")
    gz = tmp_path / "bom.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(text)
    for p in (plain, gz):
        s = PairScreen.from_csv(p)
        assert s.genes == ["A", "B", "C"] and s.n_pairs == 3


def test_custom_columns_tsv_and_sign(tmp_path):
    df = _frame(BASIC).rename(columns={"id1": "geneA", "id2": "geneB", "score": "lfc"})
    p = tmp_path / "s.tsv"
    df.to_csv(p, sep="\t", index=False)
    s = PairScreen.from_csv(p, id1_col="geneA", id2_col="geneB", score_col="lfc", sign=-1.0)
    np.testing.assert_allclose(s.single_effects, [0.2, 0.5, -0.2])


def test_missing_column_names_the_columns():
    df = _frame(BASIC).rename(columns={"score": "Score"})
    with pytest.raises(ScreenFormatError, match=r"missing column.*'score'.*case differs"):
        PairScreen.from_frame(df)


@pytest.mark.parametrize("bad", ["abc", "nan", "inf", "-inf", ""])
def test_invalid_scores_name_the_line(bad):
    rows = [*BASIC[:4], ("A", "B", bad), *BASIC[5:]]
    with pytest.raises(ScreenFormatError, match=r"line 6"):
        PairScreen.from_frame(_frame(rows))
    with pytest.warns(ScreenWarning, match="dropped 1 row"):
        s = PairScreen.from_frame(_frame(rows), drop_invalid_scores=True)
    assert s.report.n_rows_dropped_invalid_score == 1
    assert s.pairs.set_index(["id1", "id2"]).loc[("A", "B"), "n_obs"] == 1


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(ScreenFormatError, match="empty"):
        PairScreen.from_csv(p)
    p.write_text("id1,id2,score\n")
    with pytest.raises(ScreenFormatError, match="no data rows"):
        PairScreen.from_csv(p)


def test_gene_without_control_row_dropped_with_count_or_error():
    rows = BASIC + [("A", "D", -0.9), ("D", "B", -0.2), ("D", "D", 0.1)]
    with pytest.warns(ScreenWarning, match=r"1 gene.*\['D'\].*dropped 3 pair"):
        s = PairScreen.from_frame(_frame(rows))
    assert "D" not in s.genes and s.report.n_pairs_dropped_without_single == 3
    with pytest.raises(ScreenFormatError, match=r"'D'"):
        PairScreen.from_frame(_frame(rows), drop_genes_without_single=False)


def test_control_never_occurs():
    with pytest.raises(ScreenFormatError, match=r"control 'ctrl' never occurs.*negative"):
        PairScreen.from_frame(_frame(BASIC), control="ctrl")


def test_whitespace_and_case_variants_are_merged():
    rows = [(" A ", "negative", -0.2), ("B", "Negative ", -0.5), ("a", "B", -0.8), ("A", "b", -0.6)]
    with pytest.warns(ScreenWarning, match="differ only in case"):
        s = PairScreen.from_frame(_frame(rows))
    assert s.n_genes == 2 and s.n_pairs == 1
    assert s.pairs.y.iloc[0] == pytest.approx(-0.7)
    assert s.report.merged_name_variants


def test_empty_gene_name_is_an_error():
    with pytest.raises(ScreenFormatError, match="empty gene name on line"):
        PairScreen.from_frame(_frame([*BASIC, ("", "A", 0.1)]))


def test_gene_ids_unknown_gene(norman):
    assert norman.gene_ids(["CEBPA"])[0] == norman.genes.index("CEBPA")
    with pytest.raises(ValueError, match="unknown gene"):
        norman.gene_ids(["NOT_A_GENE"])


def test_to_csv_text_round_trip(norman):
    text = norman.to_csv()
    again = PairScreen.from_frame(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False))
    assert again.genes == norman.genes
    np.testing.assert_allclose(again.single_effects, norman.single_effects, atol=1e-9)
    np.testing.assert_allclose(again.y_values(), norman.y_values(), atol=1e-9)


def test_direction_changes_strongest(norman):
    from naiad_bo.data import load_screen

    up = load_screen("norman2019", direction="maximize")
    assert up.strongest(1).y.iloc[0] == norman.y_values().max()
    assert norman.strongest(1).y.iloc[0] == norman.y_values().min()

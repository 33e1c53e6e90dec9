"""Gene symbol normalisation on the bundled NCBI alias table."""

from __future__ import annotations

from naiad_bo.data import SymbolNormalizer, load_screen


def test_known_renames():
    res = SymbolNormalizer.bundled().normalize(
        ["SGOL1", "CARS", "TMEM173", "Ltn1", "QARS", "TAZ", "NOT_A_GENE_XYZ", "CEBPA"]
    )
    assert res.renamed["SGOL1"] == "SGO1"
    assert res.renamed["CARS"] == "CARS1"
    assert res.renamed["TMEM173"] == "STING1"
    assert res.renamed["Ltn1"] == "LTN1"
    assert res.renamed["QARS"] == "QARS1"
    assert "CEBPA" not in res.renamed
    assert set(res.ambiguous["TAZ"]) == {"TAFAZZIN", "WWTR1"}
    assert res.unresolved == ["NOT_A_GENE_XYZ"]
    assert res.names[0] == "SGO1" and res.names[-1] == "CEBPA"


def test_overrides_and_no_merging():
    norm = SymbolNormalizer.bundled()
    res = norm.normalize(["TAZ"], overrides={"TAZ": "TAFAZZIN"})
    assert res.renamed == {"TAZ": "TAFAZZIN"}
    # two spellings that map to the same current symbol are not merged silently
    res = norm.normalize(["CARS", "CARS1"])
    assert "CARS" in res.ambiguous and res.renamed == {}


def test_screen_normalisation_reports_renames():
    s = load_screen("horlbeck2018_k562", normalize_symbols=True)
    plain = load_screen("horlbeck2018_k562")
    assert s.n_genes == plain.n_genes and s.n_pairs == plain.n_pairs
    assert s.report.renamed_symbols.get("CARS") == "CARS1"
    assert "CARS1" in s.genes and "CARS" not in s.genes
    assert "TAZ" in s.report.ambiguous_symbols
    # values follow their genes through the rename
    i, j = s.genes.index("CARS1"), plain.genes.index("CARS")
    assert s.single_effects[i] == plain.single_effects[j]

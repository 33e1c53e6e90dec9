"""Bundled screens: offline loading, catalogue, name/path resolution."""

from __future__ import annotations

import pytest

import naiad_bo
from naiad_bo.data import SCREENS, list_screens, resolve_screen


def test_list_screens_sizes():
    t = list_screens().set_index("name")
    assert t.loc["norman2019", "pairs"] == 6328
    assert t.loc["horlbeck2018_k562", "pairs"] == 100576
    assert t.loc["horlbeck2018_k562", "genes"] == 448


@pytest.mark.parametrize("name", list(SCREENS))
def test_catalogue_matches_loaded(name):
    s = naiad_bo.load_screen(name)
    e = SCREENS[name]
    assert (s.n_genes, s.n_pairs, s.report.n_rows) == (e.n_genes, e.n_pairs, e.n_rows)
    assert "Horlbeck" in s.metadata["citation"] or "Norman" in s.metadata["citation"]


def test_load_returns_independent_copies():
    a = naiad_bo.load_screen("norman2019")
    a.single_effects[0] = 99.0
    a.pairs.loc[0, "y"] = 99.0
    b = naiad_bo.load_screen("norman2019")
    assert b.single_effects[0] != 99.0 and b.pairs.loc[0, "y"] != 99.0


def test_unknown_names(tmp_path):
    with pytest.raises(ValueError, match="unknown bundled screen"):
        naiad_bo.load_screen("simpson2023")
    with pytest.raises(ValueError, match="neither a bundled screen"):
        resolve_screen(str(tmp_path / "nope.csv"))


def test_resolve_path(shared_data):
    s = resolve_screen(shared_data / "screens" / "norman2019_k562_crispra_gamma.csv")
    assert s.n_pairs == 6328
    assert isinstance(s, naiad_bo.PairScreen)

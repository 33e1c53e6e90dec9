"""Every tutorial notebook runs end to end in SMOKE_TEST mode (as CI does)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.parent.name for p in TUTORIALS])
def test_tutorial_runs_in_smoke_mode(path, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("SMOKE_TEST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("NAIAD_BO_THREADS", os.environ.get("NAIAD_BO_THREADS", "1"))
    nb = nbformat.read(path, as_version=4)
    assert any(c.cell_type == "code" and "SMOKE_TEST" in c.source for c in nb.cells), (
        f"{path.name} has no SMOKE_TEST switch"
    )
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()


def test_every_tutorial_folder_has_one_notebook():
    root = Path(__file__).resolve().parents[1] / "tutorials"
    for folder in (p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        assert len(list(folder.glob("*.ipynb"))) == 1, folder

"""Where benchmark results go and what every results file records about the code behind it.

* Full runs write to ``benchmarks/results/`` (committed). ``--quick`` / smoke runs write to
  ``benchmarks/quick_results/`` (git-ignored) and refuse ``benchmarks/results/``, so a smoke
  run can never replace committed evidence (:func:`output_dir`).
* Every results file carries the provenance of the run (:func:`provenance`): the git commit,
  ``git_clean`` (no modified or untracked file outside the results folders when the run
  started; outputs themselves are excluded), the dirty files if any, the torch thread count,
  library versions, the command line. JSON files get a ``provenance`` entry
  (:func:`write_json`), CSV files ``git_commit`` / ``git_clean`` columns (:func:`write_csv`),
  PNG figures the same in their text metadata (:func:`save_png`).

Committed results are produced from a committed, clean tree: commit the code, run the
benchmark, commit the results (whose ``git_commit`` is then the parent commit).
"""

from __future__ import annotations

import functools
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
QUICK_RESULTS = ROOT / "benchmarks" / "quick_results"

__all__ = [
    "QUICK_RESULTS",
    "RESULTS",
    "append_csv",
    "output_dir",
    "png_metadata",
    "provenance",
    "save_png",
    "stamp",
    "write_csv",
    "write_json",
]


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.rstrip("\n")


@functools.cache
def provenance() -> dict[str, Any]:
    """Provenance of this run (computed once, at the first call: call it before writing)."""
    import numpy as np
    import torch

    status = _git("status", "--porcelain", "--untracked-files=all", "--", ".",
                  ":(exclude)benchmarks/results", ":(exclude)benchmarks/quick_results")
    dirty = [line[3:] for line in status.splitlines() if line.strip()]
    commit = _git("rev-parse", "HEAD").strip()
    return {
        "git_commit": commit or None,
        "git_clean": bool(commit) and not dirty,
        "git_dirty_files": dirty,
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def output_dir(quick: bool, out: str | Path | None = None) -> Path:
    """The folder a run writes to (created): ``out``, else results / quick_results.

    Raises:
        SystemExit: a quick run pointed at ``benchmarks/results``.
    """
    path = Path(out) if out is not None else (QUICK_RESULTS if quick else RESULTS)
    if quick and path.resolve() == RESULTS.resolve():
        raise SystemExit(f"--quick never writes {RESULTS} (committed results); use --out")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(path: str | Path, payload: dict, **kwargs: Any) -> Path:
    """``payload`` plus a ``provenance`` entry, as JSON."""
    path = Path(path)
    path.write_text(json.dumps({"provenance": provenance(), **payload}, **kwargs) + "\n")
    return path


def stamp(frame):
    """``frame`` with ``git_commit`` and ``git_clean`` columns (replaced if present)."""
    prov = provenance()
    return frame.assign(git_commit=prov["git_commit"], git_clean=prov["git_clean"])


def write_csv(frame, path: str | Path, **kwargs: Any) -> Path:
    """A pandas frame as CSV with ``git_commit`` and ``git_clean`` columns."""
    stamp(frame).to_csv(path, index=False, **kwargs)
    return Path(path)


def append_csv(frame, path: str | Path) -> Path:
    """Append stamped rows to a CSV; rows of an older file without provenance columns are
    kept with ``git_commit = "unrecorded"``."""
    import pandas as pd

    path = Path(path)
    new = stamp(frame)
    if path.exists():
        old = pd.read_csv(path)
        if "git_commit" not in old.columns:
            old = old.assign(git_commit="unrecorded", git_clean=pd.NA)
        new = pd.concat([old, new], ignore_index=True)
    new.to_csv(path, index=False)
    return path


def png_metadata() -> dict[str, str]:
    """PNG text metadata holding the provenance."""
    prov = provenance()
    return {
        "Description": f"git_commit={prov['git_commit']} git_clean={prov['git_clean']}",
        "Software": f"naiad_bo benchmarks ({prov['command']})",
    }


def save_png(fig, path: str | Path, dpi: int = 120) -> Path:
    """Save (and close) a matplotlib figure with the provenance in its PNG metadata."""
    from naiad_bo.plotting import save_figure

    return save_figure(fig, path, dpi=dpi, metadata=png_metadata())

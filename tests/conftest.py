"""Shared test fixtures: one torch thread (2-core CI), real bundled screens."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(int(os.environ.get("NAIAD_BO_THREADS", "1")))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ``../shared/data`` (real screens and descriptors); skip if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def norman():
    from naiad_bo import load_screen

    return load_screen("norman2019")


@pytest.fixture(scope="session")
def horlbeck():
    from naiad_bo import load_screen

    return load_screen("horlbeck2018_k562")

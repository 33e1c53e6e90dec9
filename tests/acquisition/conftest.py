"""Fixtures for acquisition tests (see acq_helpers.py for the lookup ensemble)."""

from __future__ import annotations

import pytest
from acq_helpers import LookupEnsemble, make_lookup


@pytest.fixture
def lookup() -> LookupEnsemble:
    """A 5-member ensemble over 30 genes (465 pairs with self pairs)."""
    return make_lookup()


@pytest.fixture
def lookup_factory():
    return make_lookup


@pytest.fixture(scope="session")
def norman_round(norman):
    """A NaiadEnsemble fitted on 300 uniformly drawn Norman pairs (short training), its data.

    Returns ``(model, train_X, train_Y, screen)``.
    """
    import numpy as np
    import torch

    from naiad_bo.models import NaiadEnsemble

    pairs = torch.as_tensor(np.array(norman.pair_index()))
    y = torch.as_tensor(np.array(norman.y_values())).unsqueeze(-1)
    idx = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0))[:300]
    model = NaiadEnsemble(norman.single_effects, seed=0, epochs=60)
    model.fit(pairs[idx], y[idx])
    return model, pairs[idx], y[idx], norman

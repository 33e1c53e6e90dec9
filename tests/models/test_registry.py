"""Tests for naiad_bo.models.registry."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.models import (
    AdditiveLinearModel,
    DescriptorGP,
    DescriptorNaiadEnsemble,
    EmbeddingMLPEnsemble,
    FastNaiadEnsemble,
    NaiadEnsemble,
    RecoverEnsemble,
    ReferenceNaiadEnsemble,
    SingleEffectSumModel,
)
from naiad_bo.models.registry import MODELS, UnknownModelError, get_model_class


def test_names_and_classes():
    assert MODELS == {
        "naiad": NaiadEnsemble,
        "naiad-fast": FastNaiadEnsemble,
        "naiad-reference": ReferenceNaiadEnsemble,
        "linear": AdditiveLinearModel,
        "sum": SingleEffectSumModel,
        "mlp": EmbeddingMLPEnsemble,
        "recover": RecoverEnsemble,
        "gp": DescriptorGP,
        "naiad-desc": DescriptorNaiadEnsemble,
    }
    assert get_model_class(" Linear ") is AdditiveLinearModel
    with pytest.raises(UnknownModelError, match="unknown model 'gpx'; choose one of: gp"):
        get_model_class("gpx")
    assert issubclass(UnknownModelError, ValueError) and issubclass(UnknownModelError, KeyError)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_common_surrogate_contract(name):
    """Every registered class: Cls(single_effects, seed=...), fit -> self, 1 output."""
    rng = np.random.default_rng(0)
    se = rng.normal(0, 0.2, 12)
    X = torch.combinations(torch.arange(12), with_replacement=True)[:40]
    Y = torch.from_numpy(se[X.numpy()].sum(-1)).unsqueeze(-1)
    kwargs = {} if name in ("linear", "sum", "gp") else {"epochs": 2, "ensemble_size": 2}
    model = MODELS[name](torch.from_numpy(se), seed=1, **kwargs)
    assert model.fit(X, Y) is model
    assert model.num_outputs == 1
    post = model.posterior(X[:6].double().reshape(3, 2, 2))
    assert post.mean.shape == (3, 2, 1)

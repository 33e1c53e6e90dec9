"""The typed, frozen ensemble configs and the keyword options the CLI and benchmarks pass."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from naiad_bo.models import (
    HORLBECK,
    EmbeddingMLPConfig,
    EmbeddingSchedule,
    EnsembleConfig,
    NaiadConfig,
    RecoverConfig,
)


def test_defaults_are_the_paper_recipe():
    c = EnsembleConfig()
    # epochs and lr None: resolved by the model class at fit time (resolve_epochs / resolve_lr)
    assert (c.ensemble_size, c.epochs, c.lr, c.batch_size) == (5, None, None, 1024)
    assert c.dtype is torch.float32 and c.grad_clip is None
    assert EmbeddingMLPConfig().embed_dim == 128 and RecoverConfig().bilinear_dim == 64


def test_keyword_options_map_onto_fields():
    c = NaiadConfig.from_options(
        epochs=np.int64(30), lr=np.float32(0.05), batch_size=None, embed_dim="auto",
        schedule="horlbeck", dtype="float64", ensemble_size=3,
    )
    assert c.epochs == 30 and type(c.epochs) is int and isinstance(c.lr, float)
    assert c.embed_dim is None and c.schedule is HORLBECK and c.dtype is torch.float64
    with pytest.raises(TypeError, match="unknown hyper-parameter.*'epoch'"):
        NaiadConfig.from_options(epoch=3)
    with pytest.raises(ValueError, match="unknown schedule"):
        NaiadConfig.from_options(schedule="simpson")
    with pytest.raises(ValueError, match="dtype"):
        EnsembleConfig.from_options(dtype="float16")


def test_frozen_and_replace_validates_again():
    c = NaiadConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 1.0
    d = c.replace(chunk_size=10, dtype="float64")
    assert d.chunk_size == 10 and d.dtype is torch.float64 and c.chunk_size == 8192
    with pytest.raises(ValueError, match="chunk_size"):
        c.replace(chunk_size=0)


def test_to_dict_round_trip_is_plain():
    c = NaiadConfig(schedule=HORLBECK, dtype=torch.float64, epochs=7)
    d = c.to_dict()
    assert d["schedule"] == "horlbeck" and d["dtype"] == "float64"
    assert all(isinstance(v, (int, float, str, bool, type(None))) for v in d.values())
    assert NaiadConfig.from_dict(d) == c
    custom = NaiadConfig(schedule=EmbeddingSchedule("mine", (0,), (3,)))
    with pytest.raises(NotImplementedError, match="registered"):
        custom.to_dict()


@pytest.mark.parametrize(
    ("field", "value", "err"),
    [("ensemble_size", 0, ValueError), ("epochs", 1.5, TypeError), ("lr", 0, ValueError),
     ("warmup_fraction", 1.0, ValueError), ("grad_clip", -1.0, ValueError),
     ("batch_size", True, TypeError)],
)
def test_bad_values_name_the_field(field, value, err):
    with pytest.raises(err, match=field):
        EnsembleConfig(**{field: value})


def test_naiad_fields_checked():
    with pytest.raises(ValueError, match="activation"):
        NaiadConfig(activation="tanh")
    with pytest.raises(TypeError, match="embed_dim"):
        NaiadConfig(embed_dim=2.5)
    with pytest.raises(TypeError, match="linear_skip"):
        NaiadConfig(linear_skip=1)

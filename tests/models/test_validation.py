"""The one set of input validators shared by every model, acquisition and selector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.acquisition import as_index_pairs
from naiad_bo.models import as_gene_pairs
from naiad_bo.models.validation import as_noise_variance, as_targets, check_same_device


def test_gene_pairs_accept_float_ids_and_int64():
    X = torch.tensor([[0, 1], [2, 3]])
    out = as_gene_pairs(X.double(), 4)
    assert out.dtype == torch.long and torch.equal(out, X)
    assert as_gene_pairs(np.array([[0, 3]]), 4).tolist() == [[0, 3]]
    assert as_gene_pairs(X, None).tolist() == X.tolist()  # no upper bound known


def test_gene_pairs_reject_bad_ids_with_clear_messages():
    X = torch.tensor([[0, 1], [2, 3]])
    with pytest.raises(ValueError, match="gene id 4, but the model knows 4 genes"):
        as_gene_pairs(X + 1, 4)
    with pytest.raises(ValueError, match="gene id -1 .negative"):
        as_gene_pairs(X - 1, 4)
    with pytest.raises(ValueError, match="must hold integers"):
        as_gene_pairs(X.double() + 0.5, 4)
    with pytest.raises(ValueError, match="NaN"):
        as_gene_pairs(torch.tensor([[0.0, float("nan")]]), 4)
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        as_gene_pairs(torch.zeros(3, 3), 4)
    with pytest.raises(TypeError):
        as_gene_pairs([[0, 1]], 4)
    with pytest.raises(TypeError):
        as_gene_pairs(torch.ones(2, 2, dtype=torch.bool), 4)


def test_acquisitions_use_the_same_validator():
    X = torch.tensor([[0.0, 3.0], [2.0, 2.0]], dtype=torch.float64)
    assert torch.equal(as_index_pairs(X), as_gene_pairs(X, None))
    for bad in (torch.tensor([[0.5, 1.0]]), torch.tensor([[-1, 2]])):
        with pytest.raises(ValueError) as ours:
            as_gene_pairs(bad, None, name="gene-index pairs")
        with pytest.raises(ValueError) as theirs:
            as_index_pairs(bad)
        assert str(ours.value) == str(theirs.value)


def test_meta_tensors_skip_value_checks_but_keep_shape_checks():
    X = torch.empty(7, 2, device="meta")
    assert as_gene_pairs(X, 4).device.type == "meta"
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        as_gene_pairs(torch.empty(7, 3, device="meta"), 4)


def test_targets_and_noise_variance():
    Y = as_targets(torch.arange(3.0), 3)
    assert Y.shape == (3, 1) and Y.dtype == torch.float64
    with pytest.raises(ValueError, match=r"rows \[1\]"):
        as_targets(torch.tensor([0.0, float("inf"), 1.0]), 3)
    with pytest.raises(ValueError, match="negative variance.*rows \\[2\\]"):
        as_noise_variance(torch.tensor([0.1, 0.0, -0.2]), 3)
    with pytest.raises(ValueError, match="train_Yvar has 2 values"):
        as_noise_variance(torch.ones(2), 3)


def test_device_mismatch_names_both_devices():
    with pytest.raises(ValueError, match="X is on device meta but the model is on cpu"):
        check_same_device(torch.empty(1, device="meta"), torch.device("cpu"), what="the model")

"""Input checks shared by every surrogate over gene pairs (one validator per kind of input).

Model inputs are gene-index pairs ``... x 2``: BoTorch hands float tensors (Ax float64), so
floats holding exact integers are the expected form and ``int64`` is accepted too. Every
model, acquisition and selector validates pairs with :func:`as_gene_pairs`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "NotFittedError",
    "as_gene_pairs",
    "as_noise_variance",
    "as_single_effects",
    "as_targets",
    "check_float",
    "check_int",
    "check_same_device",
]


class NotFittedError(RuntimeError):
    """Raised when a model is used before it is fitted."""


def _checks_values(X: Tensor) -> bool:
    """Value checks need real data; ``meta`` tensors (shape-only) skip them."""
    return X.device.type != "meta"


def as_gene_pairs(X: Any, n_genes: int | None = None, *, name: str = "X") -> Tensor:
    """Validate a ``... x 2`` tensor of gene ids and return it as ``int64`` (same device).

    Float inputs (what BoTorch and Ax pass) must hold exact integers; ``int64`` is accepted.
    Every id must lie in ``0 .. n_genes - 1`` (only ``>= 0`` when ``n_genes`` is None).

    Args:
        X: ``... x 2`` Tensor or ndarray of gene ids.
        n_genes: Number of genes ``M`` the ids index, or None when unknown.
        name: Argument name used in error messages.

    Returns:
        ``... x 2`` long tensor on ``X``'s device.

    Raises:
        TypeError: ``X`` is not a tensor / array of numbers.
        ValueError: wrong last dimension, non-integer or non-finite values, unknown genes.
    """
    if isinstance(X, np.ndarray):
        X = torch.from_numpy(np.array(X))  # copy: read-only arrays are fine
    if not isinstance(X, Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of gene-index pairs, got {type(X).__name__}"
        )
    if X.ndim < 1 or X.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2) (gene pairs), got {tuple(X.shape)}")
    if X.dtype == torch.bool or X.is_complex():
        raise TypeError(f"{name} must hold integer gene indices, got dtype {X.dtype}")
    check = _checks_values(X)
    if X.is_floating_point() and check:
        if not torch.isfinite(X).all():
            raise ValueError(f"{name} contains NaN or infinite gene indices")
        if not torch.equal(X, torch.round(X)):
            raise ValueError(
                f"{name} must hold integers (gene ids as floats or int64); got non-integer "
                "values (model inputs are gene ids, not features)"
            )
    X = X.long() if X.dtype != torch.long else X
    if X.numel() and check:
        lo, hi = int(X.min()), int(X.max())
        if lo < 0 or (n_genes is not None and hi >= n_genes):
            if lo < 0:
                raise ValueError(f"{name} refers to gene id {lo} (negative gene ids do not exist)")
            raise ValueError(
                f"{name} refers to gene id {hi}, but the model knows {n_genes} genes "
                f"(ids 0..{n_genes - 1})"
            )
    return X


def as_single_effects(single_effects: Any) -> Tensor:
    """Validate the ``(M,)`` single-gene effects; returns an own float64 copy.

    Raises:
        TypeError: not a Tensor / numeric ndarray.
        ValueError: wrong shape, or NaN / inf entries (named by gene id).
    """
    if isinstance(single_effects, np.ndarray):
        if not np.issubdtype(single_effects.dtype, np.number):
            raise TypeError(f"single_effects must be numeric, got dtype {single_effects.dtype}")
        se = torch.from_numpy(np.array(single_effects, dtype=np.float64))  # own copy
    elif isinstance(single_effects, Tensor):
        se = single_effects.detach().to(torch.float64)
    else:
        raise TypeError(
            f"single_effects must be a Tensor or ndarray of shape (M,), got "
            f"{type(single_effects).__name__}"
        )
    if se.ndim != 1 or se.numel() == 0:
        raise ValueError(f"single_effects must have shape (M,) with M >= 1, got {tuple(se.shape)}")
    bad = ~torch.isfinite(se)
    if _checks_values(se) and bad.any():
        ids = torch.nonzero(bad).flatten().tolist()
        shown = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
        raise ValueError(
            f"single_effects has {len(ids)} missing (NaN/inf) value(s), gene ids: {shown}; "
            "every gene needs a single-gene effect (drop those genes or impute them)"
        )
    return se.clone()


def as_targets(train_Y: Any, n: int, *, name: str = "train_Y") -> Tensor:
    """Validate ``n x 1`` (or ``(n,)``) training targets; returns an own float64 ``n x 1``.

    Raises:
        TypeError: not a Tensor / ndarray.
        ValueError: wrong shape or length, NaN / inf values (rows named).
    """
    if isinstance(train_Y, np.ndarray):
        train_Y = torch.from_numpy(np.array(train_Y))
    if not isinstance(train_Y, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(train_Y).__name__}")
    if train_Y.ndim == 1:
        train_Y = train_Y.unsqueeze(-1)
    if train_Y.ndim != 2 or train_Y.shape[-1] != 1:
        raise ValueError(f"{name} must be n x 1, got shape {tuple(train_Y.shape)}")
    if train_Y.shape[0] != n:
        raise ValueError(f"train_X has {n} pairs but {name} has {train_Y.shape[0]} values")
    Y = train_Y.detach().to(torch.float64)
    bad = ~torch.isfinite(Y.squeeze(-1))
    if _checks_values(Y) and bad.any():
        rows = torch.nonzero(bad).flatten().tolist()
        raise ValueError(
            f"{name} has {len(rows)} NaN/infinite value(s) (rows {rows[:10]}); "
            "drop unmeasured pairs before fitting"
        )
    return Y.clone()


def as_noise_variance(train_Yvar: Any, n: int) -> Tensor:
    """Validate per-pair noise variances ``n x 1`` (or ``(n,)``): finite and ``>= 0``.

    Raises:
        TypeError / ValueError: as :func:`as_targets`, plus negative values (rows named).
    """
    Yvar = as_targets(train_Yvar, n, name="train_Yvar")
    neg = Yvar.squeeze(-1) < 0
    if _checks_values(Yvar) and neg.any():
        rows = torch.nonzero(neg).flatten().tolist()
        raise ValueError(
            f"train_Yvar has {len(rows)} negative variance(s) (rows {rows[:10]}); a noise "
            "variance is sd**2 / n_obs >= 0"
        )
    return Yvar


def check_same_device(X: Tensor, device: torch.device, *, what: str, name: str = "X") -> None:
    """Raise a clear error when ``X`` lives on another device than ``device``."""
    if X.device != device:
        raise ValueError(
            f"{name} is on device {X.device} but {what} is on {device}; move one of them "
            f"(e.g. model.to({str(X.device)!r}) or {name}.to({str(device)!r}))"
        )


def check_int(name: str, value: Any, minimum: int) -> None:
    """``value`` must be an int (not bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def check_float(name: str, value: Any, positive: bool = False) -> None:
    """``value`` must be a finite number ``>= 0`` (``> 0`` if ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "> 0" if positive else ">= 0"
        raise ValueError(f"{name} must be finite and {kind}, got {value}")

"""Chunked posterior summaries of a surrogate over many gene pairs (the one helper).

Used by :mod:`naiad_bo.evaluation` (test splits), :class:`naiad_bo.campaign.Campaign` (the
``mean`` / ``std`` columns of a batch) and the campaign recorder (every pair of a screen).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from botorch.models.deterministic import DeterministicModel
from botorch.models.ensemble import EnsembleModel

__all__ = ["PREDICT_CHUNK", "predict_mean", "predict_mean_std"]

#: Default pairs per posterior call.
PREDICT_CHUNK = 16_384


def predict_mean(model: Any, X: torch.Tensor, chunk_size: int = PREDICT_CHUNK) -> np.ndarray:
    """Posterior mean of ``model`` at ``n x 2`` pairs, in chunks; float64 ``(n,)``.

    Ensembles get ``chunk x 2`` per call (one joint evaluation, members carry no
    cross-point covariance); other models get ``chunk x 1 x 2`` (marginals only, so a GP
    never builds a ``chunk x chunk`` covariance). A model with its own closed-form
    ``predict_mean(X)`` (Linear, DescriptorGP) is asked for it directly.
    """
    if callable(getattr(model, "predict_mean", None)):
        out = np.empty(X.shape[0], dtype=np.float64)
        with torch.no_grad():
            for start in range(0, X.shape[0], chunk_size):
                xb = X[start : start + chunk_size]
                out[start : start + xb.shape[0]] = (
                    model.predict_mean(xb).detach().to(torch.float64).cpu().numpy().reshape(-1)
                )
        return out
    return _chunked(model, X, chunk_size, with_std=False)[0]


def predict_mean_std(
    model: Any, X: torch.Tensor, chunk_size: int = PREDICT_CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and standard deviation at ``n x 2`` pairs; float64 ``(n,)`` each.

    The standard deviation is ``sqrt(posterior.variance)`` (for an ensemble: the spread of
    the members' means, plus observation noise if the model adds it); NaN for a
    :class:`~botorch.models.deterministic.DeterministicModel`, which has no spread.
    """
    mean, std = _chunked(model, X, chunk_size, with_std=True)
    return mean, std


def _chunked(
    model: Any, X: torch.Tensor, chunk_size: int, with_std: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    n = X.shape[0]
    mean = np.empty(n, dtype=np.float64)
    spread = not isinstance(model, DeterministicModel)
    std = np.full(n, np.nan) if with_std else None
    joint = isinstance(model, EnsembleModel)
    with torch.no_grad():
        for start in range(0, n, chunk_size):
            xb = X[start : start + chunk_size]
            post = model.posterior(xb if joint else xb.unsqueeze(-2))
            stop = start + xb.shape[0]
            mean[start:stop] = post.mean.reshape(-1).detach().to(torch.float64).cpu().numpy()
            if with_std and spread:
                var = post.variance.reshape(-1).detach().to(torch.float64).cpu().numpy()
                std[start:stop] = np.sqrt(np.clip(var, 0.0, None))
    return mean, std

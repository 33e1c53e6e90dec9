r"""Measurement noise of pair phenotypes: from replicates, or estimated from a fit.

A screen's pair value is the mean of ``n_i`` replicate measurements with sample standard
deviation ``s_i`` (the loader keeps both: ``screen.pairs["n_obs"]``, ``["sd"]``). The noise
variance of that mean is

.. math:: \mathrm{Var}[\bar y_i] = \frac{\sigma_i^2}{n_i}, \qquad
          \hat\sigma_i^2 = s_i^2 \ (n_i \ge 2), \quad
          \hat\sigma_i^2 = s_p^2 = \frac{\sum_j (n_j - 1) s_j^2}{\sum_j (n_j - 1)} \ (n_i = 1),

with ``s_p^2`` the pooled within-pair variance over the replicated pairs (a pair measured
once has no spread of its own). :func:`replicate_noise_variance` computes it; pass the result
as ``train_Yvar`` to :meth:`~naiad_bo.models.PairEnsembleModel.fit`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["replicate_noise_variance"]


def replicate_noise_variance(sd, n_obs) -> Tensor:
    r"""Noise variance ``sigma_i^2 / n_i`` of each pair mean (module formula), ``n x 1``.

    Args:
        sd: ``(n,)`` replicate standard deviations (NaN where ``n_obs == 1``).
        n_obs: ``(n,)`` replicate counts (``>= 1``).

    Returns:
        ``n x 1`` float64 tensor, finite and ``>= 0``.

    Raises:
        ValueError: mismatched lengths, counts < 1, negative or missing sd where
            ``n_obs >= 2``, or no replicated pair at all (then the noise level is unknown:
            let the model estimate it by fitting without ``train_Yvar``).
    """
    sd = np.asarray(sd, dtype=np.float64).reshape(-1)
    n = np.asarray(n_obs).reshape(-1)
    if sd.shape != n.shape:
        raise ValueError(f"sd has {sd.size} values but n_obs has {n.size}")
    if (n < 1).any():
        rows = np.flatnonzero(n < 1)[:10].tolist()
        raise ValueError(f"n_obs must be >= 1 (rows {rows})")
    rep = n >= 2
    bad = rep & ~(np.isfinite(sd) & (sd >= 0))
    if bad.any():
        rows = np.flatnonzero(bad)[:10].tolist()
        raise ValueError(f"sd must be finite and >= 0 where n_obs >= 2 (rows {rows})")
    if not rep.any():
        raise ValueError(
            "no pair has replicates (all n_obs == 1), so the measurement noise is unknown; "
            "fit without train_Yvar to let the model estimate a noise level"
        )
    pooled = float(((n[rep] - 1) * sd[rep] ** 2).sum() / (n[rep] - 1).sum())
    var = np.where(rep, np.where(rep, sd, 0.0) ** 2, pooled) / n
    return torch.as_tensor(var, dtype=torch.float64).unsqueeze(-1)

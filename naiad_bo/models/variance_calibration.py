r"""Cross-validated variance scale of a pair deep ensemble (:class:`CrossValidatedVarianceScale`).

Deep-ensemble spread is known to be over-confident and poorly scaled (Lakshminarayanan et al.
2017; Kuleshov et al. 2018 recalibrate on held-out data). Here the held-out data come from
within the training set, so no pair is wasted: ``K`` folds, one ensemble per fold trained on
the other folds, then the two-parameter predictive model

.. math:: r_i \sim \mathcal N\bigl(0,\; a\, v_i + \sigma^2\bigr), \qquad
          \hat a, \hat\sigma^2 = \arg\max_{a \ge 0,\ \sigma^2 > 0}
          \sum_i \log \mathcal N(r_i; 0, a v_i + \sigma^2),

with :math:`r_i` the held-out residual of pair ``i`` and :math:`v_i` the member variance of
its fold's ensemble (both ``(n,)``). The maximisation is over :math:`(\log a, \log \sigma^2)`
with L-BFGS-B from the moment estimate; with given noise variances :math:`\sigma^2` is fixed
at their mean and only :math:`a` is fitted.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.optimize import minimize

if TYPE_CHECKING:  # pragma: no cover
    from naiad_bo.models.pair_ensemble import PairEnsembleModel, PairTrainingData

__all__ = ["cross_validated_variance", "fit_variance_scale", "noise_standardization"]

#: Seed offset of the fold ensembles (fold k uses ``seed + FOLD_SEED_OFFSET + k``).
FOLD_SEED_OFFSET = 7919


def fit_variance_scale(
    residuals: np.ndarray,
    member_var: np.ndarray,
    noise_var: float | None = None,
    z: np.ndarray | None = None,
) -> tuple[float, float, float]:
    r"""ML :math:`(a, \sigma^2, c)`: :math:`r_i \sim N(0, a v_i + \sigma^2 e^{c z_i})`.

    Args:
        residuals: ``(n,)`` held-out residuals.
        member_var: ``(n,)`` member variances (``>= 0``) at the same pairs.
        noise_var: Fixed :math:`\sigma^2`, or None to fit it.
        z: ``(n,)`` standardised predicted means for a mean-dependent noise, or None
            (``c = 0``).

    Returns:
        ``(a, sigma2, c)`` as floats (``a >= 0``, ``sigma2 > 0``).
    """
    r2 = np.asarray(residuals, dtype=np.float64) ** 2
    v = np.clip(np.asarray(member_var, dtype=np.float64), 0.0, None)
    if r2.shape != v.shape or r2.ndim != 1 or r2.size < 2:
        raise ValueError("residuals and member_var must be aligned 1-D arrays of >= 2 values")
    zz = None if z is None else np.asarray(z, dtype=np.float64)
    if zz is not None and zz.shape != r2.shape:
        raise ValueError("z must be aligned with the residuals")
    mse = float(r2.mean())
    if mse <= 0:
        raise ValueError("held-out residuals are all zero; the variance scale is undefined")
    floor = 1e-12 * mse
    fit_s2 = noise_var is None

    def unpack(theta: np.ndarray) -> tuple[float, float, float]:
        a = math.exp(theta[0])
        s2 = math.exp(theta[1]) if fit_s2 else float(noise_var)
        c = float(theta[-1]) if zz is not None else 0.0
        return a, s2, c

    def nll(theta: np.ndarray) -> float:
        a, s2, c = unpack(theta)
        noise = s2 if zz is None else s2 * np.exp(np.clip(c * zz, -50, 50))
        tot = a * v + noise + floor
        return float(np.mean(np.log(tot) + r2 / tot))

    vbar = float(v.mean())
    # start: half the error from the members, half from noise
    a0 = max(0.5 * mse / vbar, 1e-6) if vbar > 0 else 1e-6
    x0 = [math.log(a0)]
    if fit_s2:
        x0.append(math.log(0.5 * mse))
    if zz is not None:
        x0.append(0.0)
    bounds = [(-30.0, 30.0)] * (1 + fit_s2) + ([(-10.0, 10.0)] if zz is not None else [])
    res = minimize(nll, np.array(x0), method="L-BFGS-B", bounds=bounds)
    theta = res.x if nll(res.x) <= nll(np.array(x0)) else np.array(x0)
    return unpack(theta)


def cross_validated_variance(
    model: PairEnsembleModel, data: PairTrainingData
) -> tuple[float, float, float]:
    """Fold ensembles of ``model``'s class and config on ``data``; returns ``(a, sigma2, c)``.

    ``c`` is the slope of the log noise in the standardised predicted mean
    ``(mu - mean(Y)) / std(Y)`` (0 without ``mean_dependent_noise``). The held-out data are
    kept on the model as ``variance_calibration_data_`` (dict of ``(n,)`` arrays
    ``residual``, ``member_variance``, ``z``) for diagnostics; they are not saved.

    With ``held_out_folds = h < folds`` only folds ``0 .. h - 1`` are refitted; the other
    pairs' entries in ``variance_calibration_data_`` are NaN and the fit uses the held-out
    pairs only.

    Folds are a random partition drawn from ``model.seed``; fold ``k``'s ensemble uses seed
    ``model.seed + FOLD_SEED_OFFSET + k`` and the model's config without the calibration.

    Raises:
        ValueError: fewer training pairs than ``2 * folds`` (each fold needs held-out pairs
            and a trainable complement).
    """
    spec = model.config.variance_calibration
    folds = int(spec.folds)
    n = data.n
    if n < max(2 * folds, folds * model.min_train_size):
        raise ValueError(
            f"variance_calibration with {folds} folds needs at least "
            f"{max(2 * folds, folds * model.min_train_size)} training pairs, got {n}"
        )
    gen = torch.Generator().manual_seed(model.seed + FOLD_SEED_OFFSET)
    perm = torch.randperm(n, generator=gen)
    fold_of = torch.empty(n, dtype=torch.long)
    fold_of[perm] = torch.arange(n) % folds
    config = model.config.replace(variance_calibration=None)
    residuals = np.full(n, np.nan)
    member_var = np.full(n, np.nan)
    fold_mean = np.full(n, np.nan)
    X = data.X
    n_held = folds if spec.held_out_folds is None else int(spec.held_out_folds)
    for k in range(n_held):
        held = (fold_of == k).to(X.device)
        fold_model = type(model)(
            model.single_effects,
            seed=model.seed + FOLD_SEED_OFFSET + k,
            config=config,
            outcome_transform=model._outcome_transform_spec,
            weights=model.ensemble_weights,
        )
        Yvar = None if data.Yvar is None else data.Yvar[~held]
        fold_model.fit(X[~held], data.Y[~held], Yvar)
        with torch.no_grad():
            post = fold_model.posterior(X[held].to(torch.float64))
        idx = torch.nonzero(held.cpu()).flatten().numpy()
        mu = post.mean.reshape(-1)
        fold_mean[idx] = mu.cpu().numpy()
        residuals[idx] = (data.Y[held].reshape(-1) - mu).cpu().numpy()
        member_var[idx] = post.variance.reshape(-1).cpu().numpy()
    noise = None if data.Yvar is None else float(data.Yvar.mean())
    center, scale = noise_standardization(data.Y)
    z_all = (fold_mean - center) / scale
    model.variance_calibration_data_ = {
        "residual": residuals, "member_variance": member_var, "z": z_all
    }
    if n_held < folds:  # only the held-out folds' pairs have residuals
        keep = (fold_of < n_held).cpu().numpy()
        residuals, member_var, z_all = residuals[keep], member_var[keep], z_all[keep]
    z = z_all if spec.mean_dependent_noise else None
    return fit_variance_scale(residuals, member_var, noise, z)


def noise_standardization(Y) -> tuple[float, float]:
    """``(mean, std)`` of the training targets that standardise the noise's mean input."""
    y = torch.as_tensor(Y, dtype=torch.float64).reshape(-1)
    sd = float(y.std()) if y.numel() > 1 else 0.0
    return float(y.mean()), sd if sd > 0 else 1.0

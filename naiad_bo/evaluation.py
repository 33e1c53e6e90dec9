"""Held-out accuracy of surrogates on a screen (NAIAD paper Table 1 protocol).

:func:`evaluate_model` trains a surrogate on ``N`` uniformly drawn pairs per seed and scores a
fixed test split (30% by default, 10% validation). :func:`~naiad_bo.prediction.predict_mean`
(re-exported here) is the package's one chunked posterior-mean helper; :func:`predict_mean_std`
is its predictive-distribution counterpart, used for the calibration fields of every record
(:mod:`naiad_bo.calibration`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from botorch.models.deterministic import DeterministicModel
from botorch.models.ensemble import EnsembleModel
from botorch.posteriors.ensemble import EnsemblePosterior

from naiad_bo.calibration import calibration_metrics, undefined_calibration
from naiad_bo.metrics import pearson, rmse
from naiad_bo.prediction import PREDICT_CHUNK, predict_mean
from naiad_bo.splits import pool_size, train_test_split

__all__ = [
    "PREDICT_CHUNK",
    "UndefinedPredictiveError",
    "evaluate_model",
    "predict_mean",
    "predict_mean_std",
    "summarize",
]


class UndefinedPredictiveError(ValueError):
    """The model has no predictive distribution (deterministic, one member, zero variance)."""


def predict_mean_std(
    model: Any,
    X: torch.Tensor,
    observation_noise: bool = True,
    chunk_size: int = PREDICT_CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Predictive mean and standard deviation at ``n x 2`` pairs, float64 ``(n,)`` each.

    With ``observation_noise=True`` (default) the std is that of a new *measurement*,
    :math:`\sqrt{\mathrm{Var}[f(x)] + \sigma^2}` (``posterior(X, observation_noise=True)``), which
    is what held-out measured values are compared with; ``False`` gives the epistemic std.
    Chunked like :func:`predict_mean`.

    Raises:
        UndefinedPredictiveError: a deterministic model, a one-member ensemble, or a
            predictive std that is not finite and positive for every pair (the reason is
            in the message).
    """
    name = type(model).__name__
    if isinstance(model, DeterministicModel):
        raise UndefinedPredictiveError(
            f"{name} is deterministic (no predictive distribution)"
        )
    mean = np.empty(X.shape[0], dtype=np.float64)
    var = np.empty(X.shape[0], dtype=np.float64)
    joint = isinstance(model, EnsembleModel)
    with torch.no_grad():
        for start in range(0, X.shape[0], chunk_size):
            xb = X[start : start + chunk_size]
            post = model.posterior(
                xb if joint else xb.unsqueeze(-2), observation_noise=observation_noise
            )
            if isinstance(post, EnsemblePosterior) and post.ensemble_size < 2:
                raise UndefinedPredictiveError(
                    f"{name} has {post.ensemble_size} ensemble member (no spread)"
                )
            stop = start + xb.shape[0]
            mean[start:stop] = post.mean.reshape(-1).to(torch.float64).cpu().numpy()
            var[start:stop] = post.variance.reshape(-1).to(torch.float64).cpu().numpy()
    bad = ~(np.isfinite(var) & (var > 0))
    if bad.any():
        raise UndefinedPredictiveError(
            f"{name}'s predictive variance is zero or not finite at {int(bad.sum())} of "
            f"{len(var)} pairs"
        )
    return mean, np.sqrt(var)


def _calibration(model: Any, X: torch.Tensor, y: np.ndarray) -> dict[str, Any]:
    """Calibration fields of one record (NaN with ``calibration_note`` when undefined)."""
    try:
        mean, std = predict_mean_std(model, X)
    except UndefinedPredictiveError as err:
        return undefined_calibration(str(err))
    out: dict[str, Any] = calibration_metrics(y, mean, std)
    out["mean_std"] = float(np.mean(std))
    out["calibration_note"] = None
    return out


def evaluate_model(
    screen,
    model: str | type,
    train_pairs: int | Sequence[int],
    seeds: Iterable[int] = (0, 1, 2),
    *,
    test_frac: float = 0.3,
    val_frac: float = 0.1,
    model_kwargs: dict | None = None,
    progress: bool = False,
) -> list[dict]:
    """Train ``model`` on ``N`` uniformly drawn pairs per seed and score the test split.

    Args:
        screen: a :class:`naiad_bo.data.PairScreen`.
        model: registry name (``"naiad"``, ``"linear"``, ...) or a surrogate class.
        train_pairs: one or several training-set sizes ``N``.
        seeds: split and model seeds; the test split is fixed per seed and the training
            sets for different ``N`` are nested.
        test_frac, val_frac: held-out fractions (paper: 0.3 and 0.1); the validation split is
            not used for training and is scored like the test split.
        model_kwargs: hyper-parameters passed to the model constructor.
        progress: show a progress bar over (size, seed) runs on stderr.

    Returns:
        One record per (N, seed): ``model``, ``screen``, ``seed``, ``n_train``, ``n_genes``,
        ``occurrence`` (2N/M), ``n_test``, ``rmse``, ``pearson``, ``val_rmse``,
        ``val_pearson``, ``fit_s``, ``predict_s``, and the test split's calibration
        (:mod:`naiad_bo.calibration`, predictive std of a new measurement):
        ``coverage50``, ``coverage90``, ``nll``, ``nll_homoscedastic``,
        ``calibration_spearman``, ``mean_std``, ``calibration_note`` (None, or why the
        fields are NaN, e.g. a deterministic model).

    Raises:
        ValueError: unknown model name, bad model hyper-parameters, ``N`` larger than the
            training pool, bad fractions.
    """
    if isinstance(model, str):
        from naiad_bo.models.registry import get_model_class

        cls = get_model_class(model)
    else:
        cls = model
    name = model if isinstance(model, str) else getattr(cls, "__name__", str(cls))
    sizes = [train_pairs] if np.ndim(train_pairs) == 0 else list(train_pairs)
    seeds = [int(s) for s in seeds]
    if not sizes or not seeds:
        raise ValueError("need at least one training size and one seed")
    pool = pool_size(screen.n_pairs, test_frac, val_frac)
    too_big = [int(n) for n in sizes if int(n) > pool]
    if too_big:
        raise ValueError(
            f"--train-pairs {too_big} exceeds the {pool} pairs available for training in "
            f"{screen.name!r} ({screen.n_pairs} pairs minus {test_frac:.0%} test and "
            f"{val_frac:.0%} validation)"
        )
    kwargs = dict(model_kwargs or {})
    X = torch.from_numpy(screen.pair_index().copy())
    y = screen.y_values()
    Y = torch.from_numpy(y.copy()).unsqueeze(-1)
    runs = [(int(n), s) for n in sizes for s in seeds]
    genes_arg = {"genes": tuple(screen.genes)} if getattr(cls, "requires_genes", False) else {}
    records = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(runs), desc=f"evaluate {name}", file=sys.stderr, leave=False, disable=None
        )
    try:
        for n_train, seed in runs:
            split = train_test_split(screen.n_pairs, n_train, test_frac, val_frac, seed)
            try:
                surrogate = cls(screen.single_effects, seed=seed, **genes_arg, **kwargs)
            except TypeError as err:
                raise ValueError(f"bad hyper-parameters for model {name!r}: {err}") from None
            t0 = time.perf_counter()
            surrogate.fit(X[split.train], Y[split.train])
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            pred = predict_mean(surrogate, X[split.test])
            predict_s = time.perf_counter() - t0
            rec = {
                "model": name,
                "screen": screen.name,
                "seed": seed,
                "n_train": n_train,
                "n_genes": screen.n_genes,
                "occurrence": 2.0 * n_train / screen.n_genes,
                "n_test": int(split.test.size),
                "rmse": rmse(y[split.test], pred),
                "pearson": pearson(y[split.test], pred),
                "val_rmse": float("nan"),
                "val_pearson": float("nan"),
                "fit_s": fit_s,
                "predict_s": predict_s,
            }
            rec.update(_calibration(surrogate, X[split.test], y[split.test]))
            if "mean_std" not in rec:
                rec["mean_std"] = float("nan")
            if split.val.size:
                val_pred = predict_mean(surrogate, X[split.val])
                rec["val_rmse"] = rmse(y[split.val], val_pred)
                rec["val_pearson"] = pearson(y[split.val], val_pred)
            records.append(rec)
            if bar is not None:
                bar.set_postfix(n=n_train, seed=seed, rmse=f"{rec['rmse']:.4f}")
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return records


def summarize(records: list[dict]) -> pd.DataFrame:
    """Mean, standard error and median of RMSE / Pearson / fit time per (model, n_train)."""
    df = pd.DataFrame.from_records(records)
    rows = []
    for (model, n_train), g in df.groupby(["model", "n_train"], sort=False):
        row = {"model": model, "n_train": n_train, "occurrence": g["occurrence"].iloc[0]}
        row["seeds"] = len(g)
        for col in ("rmse", "pearson", "fit_s"):
            v = g[col].to_numpy(float)
            row[f"{col}_mean"] = float(np.mean(v))
            row[f"{col}_se"] = float(np.std(v, ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
            row[f"{col}_median"] = float(np.median(v))
        rows.append(row)
    return pd.DataFrame(rows)

"""``naiad-bo evaluate``: small-sample accuracy of a surrogate on a measured screen.

For each seed: hold out a fixed test (and validation) split, train the model on ``N`` pairs
drawn uniformly from the rest (:func:`naiad_bo.splits.train_test_split`), and report test RMSE
and Pearson correlation plus the fit time. This is the protocol of the NAIAD paper's Table 1 /
Figure 3. :func:`evaluate_model` is the library entry point (the benchmark script uses it).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from naiad_bo.metrics import pearson, rmse
from naiad_bo.splits import pool_size, train_test_split

#: Pairs scored per posterior call when predicting on a test split.
PREDICT_CHUNK = 16_384


def predict_mean(model, X: torch.Tensor, chunk_size: int = PREDICT_CHUNK) -> np.ndarray:
    """Posterior mean of ``model`` at ``n x 2`` pairs, scored in chunks; returns ``(n,)``."""
    out = []
    with torch.no_grad():
        for start in range(0, X.shape[0], chunk_size):
            xb = X[start : start + chunk_size].unsqueeze(-2)  # b x 1 x 2
            mean = model.posterior(xb).mean  # b x 1 x 1
            out.append(mean.reshape(-1).detach().to(torch.float64).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


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
        ``val_pearson``, ``fit_s``, ``predict_s``.

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
                surrogate = cls(screen.single_effects, seed=seed, **kwargs)
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


def _parse_model_args(items: list[str] | None) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key.isidentifier():
            raise ValueError(f"--model-arg expects KEY=VALUE, got {item!r}")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def add_parser(subparsers) -> None:
    """Register ``evaluate``."""
    p = subparsers.add_parser(
        "evaluate",
        help="test RMSE / Pearson of a surrogate trained on N uniformly chosen pairs",
        description=(
            "Train a surrogate on N uniformly chosen pairs of a measured screen and report "
            "test RMSE and Pearson per seed (NAIAD paper Table 1 protocol)."
        ),
    )
    p.add_argument("--screen", required=True, help="bundled screen name or path to a CSV")
    p.add_argument(
        "--model", required=True, help="surrogate: naiad, linear, sum, mlp or recover"
    )
    size = p.add_mutually_exclusive_group(required=True)
    size.add_argument(
        "--train-pairs", type=int, nargs="+", metavar="N", help="training-set size(s) N"
    )
    size.add_argument(
        "--occurrence",
        type=float,
        nargs="+",
        metavar="K",
        help="average gene occurrence 2N/M instead of N (N = round(K * M / 2))",
    )
    p.add_argument("--test-frac", type=float, default=0.3, help="held-out test fraction (0.3)")
    p.add_argument("--val-frac", type=float, default=0.1, help="validation fraction (0.1)")
    p.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)"
    )
    p.add_argument(
        "--model-arg",
        action="append",
        metavar="KEY=VALUE",
        help="model hyper-parameter, repeatable (e.g. --model-arg ensemble_size=3)",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="write the per-seed records here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, print a per-seed table and a summary, optionally write JSON."""
    from naiad_bo.data import resolve_screen
    from naiad_bo.models.registry import get_model_class

    get_model_class(args.model)  # fail on a bad name before loading data
    model_kwargs = _parse_model_args(args.model_arg)
    screen = resolve_screen(args.screen)
    if args.occurrence is not None:
        if any(k <= 0 for k in args.occurrence):
            raise ValueError("--occurrence must be positive")
        sizes = [max(1, int(round(k * screen.n_genes / 2))) for k in args.occurrence]
    else:
        sizes = args.train_pairs
    if any(n < 1 for n in sizes):
        raise ValueError(f"--train-pairs must be positive, got {sizes}")
    records = evaluate_model(
        screen,
        args.model.strip().lower(),
        sizes,
        args.seeds,
        test_frac=args.test_frac,
        val_frac=args.val_frac,
        model_kwargs=model_kwargs,
        progress=not args.no_progress,
    )
    df = pd.DataFrame.from_records(records)
    cols = ["model", "n_train", "occurrence", "seed", "rmse", "pearson", "fit_s"]
    print(f"screen {screen.name}: {screen.n_genes} genes, {screen.n_pairs} pairs")
    print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print()
    summary = summarize(records)
    show = summary[
        ["model", "n_train", "seeds", "rmse_mean", "rmse_se", "rmse_median", "pearson_mean",
         "pearson_se", "fit_s_mean"]
    ]
    print(show.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(records, indent=2) + "\n")
        print(f"wrote {len(records)} records to {args.json}")
    return 0

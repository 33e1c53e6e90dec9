"""Calibration of every surrogate's predictive distribution, before and after the remedies.

Protocol (same splits as ``naiad-bo evaluate`` and ``benchmarks/small_sample.py``): per seed a
fixed 30% test split and 10% validation split, N training pairs drawn uniformly from the rest
(:func:`naiad_bo.splits.train_test_split`), N at the average gene occurrence 2N/M = 4 and 20
(the paper's Table 1 sizes). For each fitted surrogate the predictive distribution of a *new
measurement* at each test pair, mean and std (``posterior(X, observation_noise=True)``), is
scored with :func:`naiad_bo.calibration.calibration_metrics`: ``coverage50``, ``coverage90``,
``nll``, ``nll_homoscedastic`` (best constant std on the same pairs), ``calibration_spearman``
(std vs |error|), plus test RMSE, mean predictive std, mean epistemic std and fit seconds.

Variants (the NAIAD ensemble; the other surrogates at their defaults):

* ``naiad`` (before, default model): member spread + the in-sample noise level; from the
  same fit ``naiad epistemic`` (before): member spread only, what the issue measured
  (``posterior(X)`` without noise);
* ``naiad replicate-noise``: noise from the screen's replicate spread (``train_Yvar`` =
  ``sd^2 / n_obs``, pooled for unreplicated pairs; :func:`replicate_noise_variance`);
* ``naiad bootstrap``: bagged members (``bootstrap=True``);
* ``naiad 20 members``: ``ensemble_size=20``;
* ``naiad cv3``: variance scale ``a`` and a noise level that depends on the predicted mean,
  fitted by 3-fold CV inside the training data
  (``variance_calibration=CrossValidatedVarianceScale(3)``); from the same fold fits
  ``naiad cv3 constant-noise``: ``a`` and a constant noise level (what
  ``CrossValidatedVarianceScale(3, mean_dependent_noise=False)`` fits, recomputed from the
  model's ``variance_calibration_data_``); ``naiad cv3 1-fold``: the same model fitted on
  one held-out fold only (``CrossValidatedVarianceScale(3, held_out_folds=1)``: one extra
  fit on 2/3 of the pairs instead of three); ``recover cv3`` / ``mlp cv3`` apply it to the
  other ensembles (on request, ``--variants``);
* ``naiad-reference`` (the default surrogate) plain, ``cv3``, ``cv3 1-fold`` and ``cv2``
  (``CrossValidatedVarianceScale(2)``: two fold fits on half the pairs each, about one extra
  fit's work), on request only (``--variants``).

Targets (issue 11): ``coverage90`` in [0.85, 0.95] and ``nll < nll_homoscedastic`` on the mean
over seeds, at 2N/M = 4 and 20 on both screens.

Writes ``calibration.csv`` (one row per screen, N, variant, seed), ``calibration_summary.csv``,
``calibration.json`` (settings, git commit, clean-tree flag, target checks) and
``calibration.png`` (reliability diagrams) to ``benchmarks/results/``; ``--quick`` writes to
``benchmarks/quick_results/`` (git-ignored) instead; every file records the git commit and
clean-tree flag (``benchmarks/provenance.py``).

Run::

    nice python benchmarks/calibration.py            # 2 screens x 2 sizes x 3 seeds
    python benchmarks/calibration.py --quick         # smoke run (Norman, 2N/M = 4, 1 seed)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from provenance import output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

import naiad_bo  # noqa: E402
from naiad_bo.calibration import (
    CALIBRATION_FIELDS,
    calibration_curve,
    calibration_metrics,
    plot_reliability,
    undefined_calibration,
)
from naiad_bo.evaluation import UndefinedPredictiveError, predict_mean, predict_mean_std
from naiad_bo.metrics import rmse
from naiad_bo.models import CrossValidatedVarianceScale
from naiad_bo.models.noise import replicate_noise_variance
from naiad_bo.models.registry import get_model_class
from naiad_bo.models.variance_calibration import fit_variance_scale
from naiad_bo.splits import train_test_split

OCCURRENCES = (4, 20)

#: variant label -> (registry model, constructor options, noise source, before/after)
VARIANTS: dict[str, tuple[str, dict, str, str]] = {
    "sum": ("sum", {}, "model", "before"),
    "linear": ("linear", {}, "model", "before"),
    "mlp": ("mlp", {}, "model", "before"),
    "recover": ("recover", {}, "model", "before"),
    "naiad": ("naiad", {}, "model", "before"),
    "naiad replicate-noise": ("naiad", {}, "replicates", "after"),
    "naiad bootstrap": ("naiad", {"bootstrap": True}, "model", "after"),
    "naiad 20 members": ("naiad", {"ensemble_size": 20}, "model", "after"),
    "naiad cv3": (
        "naiad", {"variance_calibration": CrossValidatedVarianceScale(3)}, "model", "after"
    ),
    "naiad cv3 1-fold": (
        "naiad", {"variance_calibration": CrossValidatedVarianceScale(3, held_out_folds=1)},
        "model", "after",
    ),
    # the plain spread (its default until the 2-fold calibration became the default)
    "naiad-reference": ("naiad-reference", {"variance_calibration": None}, "model", "before"),
    "naiad-reference cv3": (
        "naiad-reference", {"variance_calibration": CrossValidatedVarianceScale(3)}, "model",
        "after",
    ),
    "naiad-reference cv3 1-fold": (
        "naiad-reference",
        {"variance_calibration": CrossValidatedVarianceScale(3, held_out_folds=1)}, "model",
        "after",
    ),
    "naiad-reference cv2": (
        "naiad-reference", {"variance_calibration": CrossValidatedVarianceScale(2)}, "model",
        "after",
    ),
    "recover cv3": (
        "recover", {"variance_calibration": CrossValidatedVarianceScale(3)}, "model", "after"
    ),
    "mlp cv3": (
        "mlp", {"variance_calibration": CrossValidatedVarianceScale(3)}, "model", "after"
    ),
}


def _score(rec: dict, yt: np.ndarray, mean: np.ndarray, std: np.ndarray | None, note=None):
    """Fill the calibration fields of ``rec``; returns the reliability curve (or None)."""
    rec["rmse"] = rmse(yt, mean)
    if std is None:
        rec.update(undefined_calibration(note))
        rec["mean_std"] = float("nan")
        return None
    rec.update(calibration_metrics(yt, mean, std))
    rec["mean_std"] = float(np.mean(std))
    rec["calibration_note"] = None
    return calibration_curve(yt, mean, std)


def run_one(screen, variant: str, n_train: int, seed: int, X, y, Yvar_all) -> list:
    """Fit one variant on one split; ``[(record, curve), ...]`` (derived variants included).

    ``naiad`` also yields ``naiad epistemic`` (same fit, no observation noise) and
    ``naiad cv3`` also yields ``naiad cv3 constant-noise`` (same fold fits, ``c = 0``).
    """
    model_name, options, noise, phase = VARIANTS[variant]
    split = train_test_split(screen.n_pairs, n_train, 0.3, 0.1, seed)
    Xt, yt = X[split.test], y[split.test]
    base = {
        "screen": screen.name, "model": model_name, "seed": seed, "n_train": n_train,
        "occurrence": 2.0 * n_train / screen.n_genes, "n_test": int(len(yt)),
    }
    if noise == "replicates" and Yvar_all is None:
        rec = {**base, "variant": variant, "phase": phase, "fit_s": float("nan"),
               "epistemic_std": float("nan"), "noise_variance": float("nan"),
               "variance_scale": float("nan")}
        rec["rmse"] = float("nan")
        rec.update(undefined_calibration(f"{screen.name} has no replicated pairs (n_obs == 1)"))
        rec["mean_std"] = float("nan")
        return [(rec, None)]
    cls = get_model_class(model_name)
    model = cls(screen.single_effects, seed=seed, **options)
    Ytr = torch.from_numpy(y[split.train]).unsqueeze(-1)
    t0 = time.perf_counter()
    if noise == "replicates":
        model.fit(X[split.train], Ytr, Yvar_all[split.train])
    else:
        model.fit(X[split.train], Ytr)
    fit_s = time.perf_counter() - t0
    rec = {**base, "variant": variant, "phase": phase, "fit_s": fit_s,
           "noise_variance": float(getattr(model, "noise_variance_", float("nan"))),
           "variance_scale": float(getattr(model, "variance_scale_", float("nan")))}
    out = []
    try:
        mean_e, std_e = predict_mean_std(model, Xt, observation_noise=False)
        rec["epistemic_std"] = float(np.mean(std_e))
    except UndefinedPredictiveError as err:
        rec["epistemic_std"] = float("nan")
        curve = _score(rec, yt, predict_mean(model, Xt), None, str(err))
        return [(rec, curve)]
    mean, std = predict_mean_std(model, Xt, observation_noise=noise != "none")
    out.append((rec, _score(rec, yt, mean, std)))
    if variant == "naiad":
        epi = {**rec, "variant": "naiad epistemic", "noise_variance": 0.0}
        out.append((epi, _score(epi, yt, mean_e, std_e)))
    if variant == "naiad cv3":
        d = model.variance_calibration_data_
        a, s2, _ = fit_variance_scale(d["residual"], d["member_variance"], None, None)
        # member variance of the uncalibrated spread: the model's is scaled by variance_scale_
        v_raw = std_e**2 / model.variance_scale_
        const = {**rec, "variant": "naiad cv3 constant-noise", "noise_variance": s2,
                 "variance_scale": a, "epistemic_std": float(np.mean(np.sqrt(a * v_raw)))}
        out.append((const, _score(const, yt, mean_e, np.sqrt(a * v_raw + s2))))
    return out


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    cols = [*CALIBRATION_FIELDS, "rmse", "mean_std", "epistemic_std", "fit_s", "variance_scale"]
    rows = []
    for (screen, n, variant), g in df.groupby(["screen", "n_train", "variant"], sort=False):
        row = {"screen": screen, "n_train": n, "occurrence": g.occurrence.iloc[0],
               "variant": variant, "phase": g.phase.iloc[0], "seeds": len(g)}
        for c in cols:
            v = g[c].to_numpy(float)
            row[f"{c}_mean"] = float(np.mean(v)) if np.isfinite(v).any() else float("nan")
            row[f"{c}_se"] = (
                float(np.std(v, ddof=1) / np.sqrt(len(v)))
                if len(v) > 1 and np.isfinite(v).all() else float("nan")
            )
        row["nll_below_homoscedastic_seeds"] = int((g.nll < g.nll_homoscedastic).sum())
        rows.append(row)
    return pd.DataFrame(rows)


def check_targets(summary: pd.DataFrame) -> list[dict]:
    out = []
    for _, r in summary.iterrows():
        if not np.isfinite(r.coverage90_mean):
            continue
        cov_ok = 0.85 <= r.coverage90_mean <= 0.95
        nll_ok = r.nll_mean < r.nll_homoscedastic_mean
        out.append({
            "screen": r.screen, "n_train": int(r.n_train), "occurrence": r.occurrence,
            "variant": r.variant, "coverage90": r.coverage90_mean, "coverage90_ok": bool(cov_ok),
            "nll": r.nll_mean, "nll_homoscedastic": r.nll_homoscedastic_mean,
            "nll_ok": bool(nll_ok), "met": bool(cov_ok and nll_ok),
        })
    return out


def plot(curves: dict, path: Path, variants: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({(s, n) for (s, n, _v) in curves})
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 4.2), squeeze=False)
    for ax, (screen, n) in zip(axes[0], keys, strict=True):
        lines = {}
        for v in variants:
            cs = curves.get((screen, n, v))
            if cs:
                lines[v] = (cs[0][0], np.mean([c[1] for c in cs], axis=0))
        plot_reliability(lines, ax=ax, title=f"{screen}, N = {n}")
    fig.tight_layout()
    save_png(fig, path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", nargs="+", default=["norman2019", "horlbeck2018_k562"])
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS),
        default=[v for v in VARIANTS if v not in ("mlp cv3", "recover cv3")
                 and not v.startswith("naiad-reference")],
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--subsets", type=int, nargs="+", default=None,
                        help="gene-subsample seeds: run on these random subsets of each "
                        "screen (naiad_bo.data.subsample_genes) instead of the full screens")
    parser.add_argument("--subset-fraction", type=float, default=0.6)
    parser.add_argument("--occurrences", type=float, nargs="+", default=list(OCCURRENCES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="Norman, 2N/M = 4, seed 0")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--stem", default="calibration",
                        help="file name stem (e.g. calibration_reference for an extra study)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.screens, args.seeds, args.occurrences = ["norman2019"], [0], [4]
    out_dir = output_dir(args.quick, args.out)
    provenance()  # at the start: the code that produced these numbers
    t_start = time.perf_counter()
    records, curves = [], {}
    screens = [naiad_bo.load_screen(name) for name in args.screens]
    if args.subsets is not None:
        screens = [naiad_bo.data.subsample_genes(full, args.subset_fraction, seed=s)
                   for full in screens for s in args.subsets]
    for screen in screens:
        screen_name = screen.name
        X = torch.from_numpy(screen.pair_index().copy())
        y = screen.y_values()
        try:
            Yvar = replicate_noise_variance(
                screen.pairs["sd"].to_numpy(), screen.pairs["n_obs"].to_numpy()
            )
        except ValueError:  # no replicated pair: that variant is reported as NaN
            Yvar = None
        for occ in args.occurrences:
            n_train = int(round(occ * screen.n_genes / 2))
            for variant in args.variants:
                t0 = time.perf_counter()
                for seed in args.seeds:
                    for rec, curve in run_one(screen, variant, n_train, seed, X, y, Yvar):
                        records.append(rec)
                        if curve is not None:
                            key = (screen_name, n_train, rec["variant"])
                            curves.setdefault(key, []).append(curve)
                g = [r for r in records if r["variant"] == variant and r["n_train"] == n_train
                     and r["screen"] == screen_name]
                print(
                    f"{screen_name:18s} N={n_train:5d} {variant:22s} "
                    f"cov90 {np.mean([r['coverage90'] for r in g]):.3f} "
                    f"nll {np.mean([r['nll'] for r in g]):7.3f} "
                    f"homo {np.mean([r['nll_homoscedastic'] for r in g]):7.3f} "
                    f"rho {np.mean([r['calibration_spearman'] for r in g]):6.3f} "
                    f"rmse {100 * np.mean([r['rmse'] for r in g]):.2f}e-2 "
                    f"({time.perf_counter() - t0:.1f} s)",
                    flush=True,
                )
    total_s = time.perf_counter() - t_start
    df = pd.DataFrame.from_records(records)
    summary = summarize(df)
    checks = check_targets(summary)
    write_csv(df, out_dir / f"{args.stem}.csv")
    write_csv(summary, out_dir / f"{args.stem}_summary.csv")
    meta = {
        "settings": {
            "screens": args.screens, "seeds": args.seeds, "occurrences": args.occurrences,
            "subsets": args.subsets, "subset_fraction": args.subset_fraction,
            "variants": {v: {"model": VARIANTS[v][0], "options": repr(VARIANTS[v][1]),
                             "noise": VARIANTS[v][2], "phase": VARIANTS[v][3]}
                         for v in args.variants},
            "test_frac": 0.3, "val_frac": 0.1,
        },
        "total_s": total_s,
        "targets": "coverage90 in [0.85, 0.95] and nll < nll_homoscedastic (mean over seeds)",
        "target_checks": checks,
        "issue_measured_before": {
            "norman_member_sd_vs_rmse": "0.020 / 0.016 / 0.026 vs 0.047 / 0.046 / 0.043 at "
            "N = 300 / 500 / 2000",
            "spearman_sd_abs_error": "0.12 Norman, 0.03-0.05 K562 (N = 2500)",
        },
    }
    write_json(out_dir / f"{args.stem}.json", meta, indent=2, default=str)
    shown = [v for v in ("linear", "recover", "naiad epistemic", "naiad", "naiad bootstrap",
                         "naiad 20 members", "naiad cv3 constant-noise", "naiad cv3",
                         "naiad-reference", "naiad-reference cv3",
                         "naiad-reference cv3 1-fold", "naiad-reference cv2")
             if any(k[2] == v for k in curves)]
    plot(curves, out_dir / f"{args.stem}.png", shown)
    print(f"torch threads {torch.get_num_threads()}, total {total_s:.0f} s; wrote {out_dir}")
    for c in checks:
        print(
            f"  {c['screen']:18s} N={c['n_train']:5d} {c['variant']:22s} cov90 "
            f"{c['coverage90']:.3f} nll {c['nll']:.3f} vs {c['nll_homoscedastic']:.3f} "
            f"{'MET' if c['met'] else 'missed'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

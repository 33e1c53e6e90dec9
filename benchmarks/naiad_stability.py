"""Small-data accuracy and stability of NaiadEnsemble, with ablations of the stabilisers.

Protocol (anchors.md, Table 1 "each gene seen ~4 times"): N = 2M training pairs
(2N/M = 4; Norman N = 224, Horlbeck K562 N = 896), a random 10% of the remaining pairs as
test set, 10 seeds. Reports the test RMSE (x 1e-2) of the ensemble mean for each variant,
the 3-parameter linear model on the same split, and how often a variant loses to it.

Variants (all else = NaiadEnsemble defaults: ReLU, read-out init scale 1, no linear skip,
no gradient clipping, paper epochs / widths / adaptive embedding):
    default         NaiadEnsemble() as shipped
    gelu            activation="gelu"
    linear_skip     linear_skip=True (c0 + c1 (y_a + y_b) initialised at its LS fit)
    grad_clip_1     grad_clip=1.0 (per member)
    small_init      output_init_scale=0.1 (members start near the additive fit)
    all_guards      gelu + linear_skip + small_init + grad_clip_1: the "start near linear,
                    clip everything" recipe one would guess for small-data stability
    single_dim_64   (K562 only) single-gene branch width 64 instead of the paper's 256

Usage: python benchmarks/naiad_stability.py [--seeds 10] [--screens norman2019 ...]
Writes benchmarks/results/naiad_stability.{csv,json,png}. One torch thread.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

import naiad_bo  # noqa: E402
from naiad_bo.models import NaiadEnsemble  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py
from provenance import output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

VARIANTS = {
    "default": {},
    "gelu": {"activation": "gelu"},
    "linear_skip": {"linear_skip": True},
    "grad_clip_1": {"grad_clip": 1.0},
    "small_init": {"output_init_scale": 0.1},
    "all_guards": {
        "activation": "gelu",
        "linear_skip": True,
        "output_init_scale": 0.1,
        "grad_clip": 1.0,
    },
    "single_dim_64": {"single_dim": 64},
}


def linear_rmse(se: np.ndarray, pairs: np.ndarray, y: np.ndarray, tr, te) -> float:
    """3-parameter linear model y ~ b0 + b1 min(y_a, y_b) + b2 max(y_a, y_b) (symmetric)."""

    def design(idx):
        ya, yb = se[pairs[idx, 0]], se[pairs[idx, 1]]
        return np.c_[np.ones(len(idx)), np.minimum(ya, yb), np.maximum(ya, yb)]

    beta = np.linalg.lstsq(design(tr), y[tr], rcond=None)[0]
    return float(np.sqrt(np.mean((design(te) @ beta - y[te]) ** 2)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--screens", nargs="+", default=["norman2019", "horlbeck2018_k562"])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    provenance()  # the code's state when the run starts

    rows = []
    for name in args.screens:
        screen = naiad_bo.load_screen(name)
        pairs, y, se = screen.pair_index(), screen.y_values(), screen.single_effects
        P, Y = torch.as_tensor(pairs.copy()), torch.as_tensor(y.copy())
        n_train = 2 * screen.n_genes
        for seed in range(args.seeds):
            perm = np.random.default_rng(seed).permutation(len(pairs))
            tr = perm[:n_train]
            rest = perm[n_train:]
            te = rest[: len(pairs) // 10]
            lin = linear_rmse(se, pairs, y, tr, te)
            rows.append(dict(screen=name, variant="linear", seed=seed, rmse=lin, fit_cpu_s=0.0))
            for variant in args.variants:
                if variant == "single_dim_64" and screen.n_genes <= 200:
                    continue  # already 64 on small screens
                model = NaiadEnsemble(se, seed=seed, **VARIANTS[variant])
                t0 = time.process_time()
                try:
                    model.fit(P[tr], Y[tr].unsqueeze(-1))
                    mean = model.posterior(P[te]).mean.squeeze(-1).numpy()
                    rmse = float(np.sqrt(np.mean((mean - y[te]) ** 2)))
                except FloatingPointError:
                    rmse = float("nan")
                cpu = time.process_time() - t0
                rows.append(
                    dict(screen=name, variant=variant, seed=seed, rmse=rmse, fit_cpu_s=cpu)
                )
                print(f"{name} seed {seed} {variant:14s} rmse {rmse * 100:.2f} "
                      f"(linear {lin * 100:.2f}) cpu {cpu:.1f}s", flush=True)

    df = pd.DataFrame(rows)
    lin = df[df.variant == "linear"].set_index(["screen", "seed"]).rmse
    df["loses_to_linear"] = [
        r.rmse > lin[(r.screen, r.seed)] if r.variant != "linear" else False
        for r in df.itertuples()
    ]
    summary = (
        df.groupby(["screen", "variant"])
        .agg(
            rmse_mean=("rmse", "mean"),
            rmse_se=("rmse", lambda v: v.std(ddof=1) / np.sqrt(len(v))),
            rmse_max=("rmse", "max"),
            losses_to_linear=("loses_to_linear", "sum"),
            n=("rmse", "size"),
            fit_cpu_s=("fit_cpu_s", "mean"),
        )
        .reset_index()
    )
    for col in ("rmse_mean", "rmse_se", "rmse_max"):
        summary[col] *= 100
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))

    results = output_dir(False)
    write_csv(df, results / "naiad_stability.csv")
    meta = {
        "protocol": "N = 2M training pairs (2N/M = 4), 10% random test, test RMSE x 1e-2",
        "threads": torch.get_num_threads(),
        "seeds": args.seeds,
        "summary": summary.to_dict(orient="records"),
    }
    write_json(results / "naiad_stability.json", meta, indent=2)

    screens = list(dict.fromkeys(df.screen))
    fig, axes = plt.subplots(1, len(screens), figsize=(5.5 * len(screens), 4), squeeze=False)
    for ax, name in zip(axes[0], screens, strict=True):
        sub = df[df.screen == name]
        order = ["linear", *[v for v in VARIANTS if v in set(sub.variant)]]
        data = [sub[sub.variant == v].rmse.to_numpy() * 100 for v in order]
        ax.boxplot(data, tick_labels=order, showmeans=True)
        ax.set_title(f"{name}: N = 2M, {args.seeds} seeds")
        ax.set_ylabel("test RMSE (x 1e-2)")
        ax.tick_params(axis="x", rotation=35)
    save_png(fig, results / "naiad_stability.png")
    print(f"wrote {results / 'naiad_stability.csv'} (+ .json, .png)")


if __name__ == "__main__":
    main()

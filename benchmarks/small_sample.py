"""Small-sample accuracy benchmark (NAIAD paper Table 1, Table 4 and Figure 3).

Protocol: 30% of a screen's pairs are a fixed test split per seed, 10% validation (held out,
not trained on), and each model is trained on N pairs drawn uniformly from the remaining 60%
(:func:`naiad_bo.splits.train_test_split`; training sets are nested across N for a seed).
N covers the average gene occurrence 2N/M = 4, 10, 20 (Table 1 / Table 4), 8 (the reference
implementation's N = 4M anchor) and the paper's
Figure-3 sizes. Reports test RMSE and Pearson per seed, and mean, standard error and median
over seeds.

Writes to ``benchmarks/results/``:
``small_sample.csv`` (one row per screen, model, N, seed), ``small_sample_summary.csv``,
``small_sample.json`` (settings, environment, target checks), ``small_sample.png``.

Run (about 20-25 min on one thread)::

    nice python benchmarks/small_sample.py            # full benchmark
    python benchmarks/small_sample.py --quick         # smoke run (< 1 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import naiad_bo
from naiad_bo.evaluation import evaluate_model, summarize

sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py
from provenance import output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

#: Average gene occurrences 2N/M of the paper's Table 1 (4, 20) and Table 4 (10), and the
#: reference implementation's second anchor N = 4M (2N/M = 8, anchors.md).
OCCURRENCES = (4, 8, 10, 20)
#: Training sizes of the paper's Figure 3 (section 4.2).
FIGURE3_SIZES = {
    "norman2019": (100, 200, 350, 500, 750, 1000, 1250, 1500),
    "horlbeck2018_k562": (100, 500, 1000, 2000, 3000, 4000, 5000, 6000),
}
#: Paper Table 1 / Table 4, RMSE x 1e-2 (mean over 3 folds), keyed by (screen, occurrence).
PAPER = {
    ("norman2019", 4): {"linear": 6.2, "mlp": 7.7, "recover": 7.1, "naiad": 5.1},
    ("norman2019", 10): {"linear": 6.1, "mlp": 5.7, "recover": 5.9, "naiad": 4.7},
    ("norman2019", 20): {"linear": 6.1, "mlp": 5.0, "recover": 4.7, "naiad": 4.7},
    ("horlbeck2018_k562", 4): {"linear": 6.4, "mlp": 7.8, "recover": 7.9, "naiad": 6.1},
    ("horlbeck2018_k562", 10): {"linear": 6.4, "mlp": 6.3, "recover": 6.1, "naiad": 5.7},
    ("horlbeck2018_k562", 20): {"linear": 6.4, "mlp": 5.9, "recover": 5.6, "naiad": 5.4},
}
#: The reference implementation measured here (anchors.md), RMSE x 1e-2, 2N/M = 4 and N = 4M.
REFERENCE = {
    ("norman2019", 4): {"linear": 6.22, "naiad": 5.13},
    ("horlbeck2018_k562", 4): {"linear": 6.43, "naiad": 6.57},
    ("norman2019", 8): {"linear": 6.18, "naiad": 4.97},
    ("horlbeck2018_k562", 8): {"linear": 6.43, "naiad": 5.66},
}
#: Targets at 2N/M = 4 (RMSE x 1e-2): NAIAD at or below these.
TARGETS = {"norman2019": 5.0, "horlbeck2018_k562": 6.0}
MODEL_ORDER = ("sum", "linear", "mlp", "recover", "naiad")


def sizes_for(screen_name: str, n_genes: int, quick: bool) -> dict[int, str]:
    """N -> label ("2N/M=4" or "fig3") for one screen."""
    out: dict[int, str] = {}
    for k in OCCURRENCES:
        out[int(round(k * n_genes / 2))] = f"2N/M={k}"
    if not quick:
        for n in FIGURE3_SIZES.get(screen_name, ()):
            out.setdefault(int(n), "fig3")
    return dict(sorted(out.items()))


def linear_designs(screen, sizes: dict[int, str], seeds: list[int]) -> list[dict]:
    """Three 3-or-fewer-parameter least-squares designs on the same splits (RMSE x 1e-2).

    ``b1=b2``: b0 + b1 (y_a + y_b), what a linear model fitted on randomly ordered single
    effects converges to (the paper's / reference's "Linear" numbers); ``min/max``:
    :class:`~naiad_bo.models.linear.AdditiveLinearModel`; ``sum+product``: b0 + b1 (y_a + y_b)
    + b2 y_a y_b, a linear fit of the Bliss-like expectation.
    """
    from naiad_bo.splits import train_test_split

    idx = screen.pair_index()
    y = screen.y_values()
    ya, yb = screen.single_effects[idx[:, 0]], screen.single_effects[idx[:, 1]]
    one = np.ones_like(ya)
    designs = {
        "b1=b2": np.c_[one, ya + yb],
        "min/max": np.c_[one, np.minimum(ya, yb), np.maximum(ya, yb)],
        "sum+product": np.c_[one, ya + yb, ya * yb],
    }
    out = []
    for n, label in sizes.items():
        if not label.startswith("2N/M"):
            continue
        for design, F in designs.items():
            vals = []
            for seed in seeds:
                sp = train_test_split(screen.n_pairs, n, 0.3, 0.1, seed)
                coef = np.linalg.lstsq(F[sp.train], y[sp.train], rcond=None)[0]
                vals.append(100 * float(np.sqrt(np.mean((F[sp.test] @ coef - y[sp.test]) ** 2))))
            out.append({
                "screen": screen.name, "n_train": n, "label": label, "design": design,
                "rmse_x100_mean": float(np.mean(vals)),
                "rmse_x100_se": float(np.std(vals, ddof=1) / np.sqrt(len(vals))),
            })
    return out


def check_targets(summary: pd.DataFrame, per_seed: pd.DataFrame) -> list[dict]:
    """The issue's acceptance checks at 2N/M = 4, per screen."""
    checks = []
    for screen, g in per_seed[per_seed["label"] == "2N/M=4"].groupby("screen"):
        nai = g[g.model == "naiad"].set_index("seed")["rmse"]
        lin = g[g.model == "linear"].set_index("seed")["rmse"]
        if nai.empty or lin.empty:
            continue
        common = nai.index.intersection(lin.index)
        wins = int((nai[common] < lin[common]).sum())
        target = TARGETS.get(screen)
        checks.append(
            {
                "screen": screen,
                "n_train": int(g.n_train.iloc[0]),
                "naiad_rmse_mean_x100": 100 * float(nai.mean()),
                "linear_rmse_mean_x100": 100 * float(lin.mean()),
                "naiad_beats_linear_on_mean": bool(nai.mean() < lin.mean()),
                "naiad_wins_seeds": f"{wins}/{len(common)}",
                "naiad_beats_linear_every_seed": bool(wins == len(common)),
                "target_x100": target,
                "naiad_meets_target": bool(target is not None and 100 * nai.mean() <= target),
            }
        )
    return checks


def plot(summary: pd.DataFrame, path: Path) -> None:
    """RMSE and Pearson against N, one column per screen, error bars = s.e. over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    screens = list(dict.fromkeys(summary.screen))
    fig, axes = plt.subplots(2, len(screens), figsize=(5.2 * len(screens), 7.5), squeeze=False)
    for j, screen in enumerate(screens):
        s = summary[summary.screen == screen]
        n_genes = int(s.n_genes.iloc[0])
        for i, (metric, label) in enumerate((("rmse", "test RMSE"), ("pearson", "test Pearson"))):
            ax = axes[i, j]
            for k, model in enumerate(m for m in MODEL_ORDER if m in set(s.model)):
                g = s[s.model == model].sort_values("n_train")
                if metric == "rmse" and model == "sum":
                    # no-training baseline: one number, often far off the other curves' scale
                    ax.text(0.97, 0.72, f"sum (y_a + y_b): RMSE {g.rmse_mean.iloc[0]:.3f}",
                            transform=ax.transAxes, fontsize=7, color=f"C{k}", ha="right")
                    continue
                ax.errorbar(
                    g.n_train, g[f"{metric}_mean"], yerr=g[f"{metric}_se"], marker="o", ms=3,
                    capsize=2, lw=1.3, color=f"C{k}", label=model,
                )
            for occ in OCCURRENCES:
                ax.axvline(occ * n_genes / 2, color="0.8", lw=0.8, ls=":", zorder=0)
            if metric == "rmse":
                for occ in OCCURRENCES:
                    ax.text(occ * n_genes / 2, 1.0, f" 2N/M={occ}", fontsize=7, color="0.4",
                            transform=ax.get_xaxis_transform(), va="top", rotation=90)
                for table, marker, lab in ((PAPER, "k*", "paper NAIAD"),
                                           (REFERENCE, "kx", "reference NAIAD (anchors.md)")):
                    pts = [(occ * n_genes / 2, table[(screen, occ)]["naiad"] / 100)
                           for occ in OCCURRENCES if (screen, occ) in table]
                    if pts:
                        xs, ys = zip(*pts, strict=True)
                        ax.plot(xs, ys, marker, ms=7, label=lab, zorder=5)
            ax.set_xscale("log")
            ax.set_xlabel("training pairs N")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3, which="both")
            if i == 0:
                ax.set_title(f"{screen} (M = {n_genes})")
            ax.legend(fontsize=7)
    fig.suptitle("Small-sample accuracy on a 30% test split (mean ± s.e. over seeds)")
    save_png(fig, path)


def markdown_table(summary: pd.DataFrame) -> str:
    """RMSE x 1e-2 at 2N/M = 4, 10, 20: ours (mean ± s.e., median) next to paper / reference."""
    lines = [
        "| screen | 2N/M (N) | model | RMSE ×1e-2 mean ± s.e. | median | Pearson "
        "| paper | reference |",
        "|---|---|---|---|---|---|---|---|",
    ]
    occ_rows = summary[summary.label.str.startswith("2N/M")]
    for (screen, n_train), g in occ_rows.groupby(["screen", "n_train"], sort=False):
        occ = int(g.label.iloc[0].split("=")[1])
        for model in MODEL_ORDER:
            r = g[g.model == model]
            if r.empty:
                continue
            r = r.iloc[0]
            paper = PAPER.get((screen, occ), {}).get(model)
            ref = REFERENCE.get((screen, occ), {}).get(model)
            lines.append(
                f"| {screen} | {occ} ({n_train}) | {model} | "
                f"{100 * r.rmse_mean:.2f} ± {100 * r.rmse_se:.2f} | {100 * r.rmse_median:.2f} | "
                f"{r.pearson_mean:.3f} | {'' if paper is None else paper} | "
                f"{'' if ref is None else ref} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", nargs="+", default=["norman2019", "horlbeck2018_k562"])
    parser.add_argument("--models", nargs="+", default=["sum", "linear", "mlp", "recover", "naiad"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="2N/M sizes only, 2 seeds")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default benchmarks/results, or "
                        "benchmarks/quick_results for --quick)")
    parser.add_argument("--tag", default="small_sample", help="output file stem")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep rows of other (screen, model) runs from an existing <tag>.csv and replace "
        "only the ones rerun here (e.g. rerun --models naiad after a model change)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    provenance()  # the code's state when the run starts
    args.out = output_dir(args.quick, args.out)
    seeds = args.seeds[:2] if args.quick else args.seeds

    records = []
    designs = []
    timing = {}
    t_start = time.perf_counter()
    t_wall = time.time()
    for screen_name in args.screens:
        screen = naiad_bo.load_screen(screen_name)
        sizes = sizes_for(screen_name, screen.n_genes, args.quick)
        print(f"{screen_name}: M = {screen.n_genes}, {screen.n_pairs} pairs, N = {list(sizes)}")
        designs.extend(linear_designs(screen, sizes, seeds))
        for model in args.models:
            t0 = time.perf_counter()
            recs = evaluate_model(
                screen, model, list(sizes), seeds, test_frac=0.3, val_frac=0.1, progress=True
            )
            for r in recs:
                r["label"] = sizes[r["n_train"]]
            records.extend(recs)
            timing[f"{screen_name}/{model}"] = time.perf_counter() - t0
            occ4 = [r["rmse"] for r in recs if r["label"] == "2N/M=4"]
            print(
                f"  {model:8s} {timing[f'{screen_name}/{model}']:7.1f} s   "
                f"RMSE@2N/M=4 = {100 * np.mean(occ4):.2f}e-2 "
                f"({', '.join(f'{100 * v:.2f}' for v in occ4)})",
                flush=True,
            )
    total_s = time.perf_counter() - t_start

    per_seed = pd.DataFrame.from_records(records)
    runs = [
        {
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(t_wall)),
            "screens": args.screens,
            "models": args.models,
            "seeds": seeds,
            "total_s": total_s,
            "code": {k: provenance()[k] for k in ("git_commit", "git_clean", "git_dirty_files")},
        }
    ]
    old_csv = args.out / f"{args.tag}.csv"
    if args.merge and old_csv.exists():
        old = pd.read_csv(old_csv).drop(columns=["git_commit", "git_clean"], errors="ignore")
        rerun = set(zip(per_seed.screen, per_seed.model, strict=True))
        keep = [(sc, m) not in rerun for sc, m in zip(old.screen, old.model, strict=True)]
        per_seed = pd.concat([old[keep], per_seed], ignore_index=True)
        old_meta = args.out / f"{args.tag}.json"
        if old_meta.exists():
            old = json.loads(old_meta.read_text())
            timing = {**old.get("seconds_per_screen_model", {}), **timing}
            runs = [r for r in old.get("runs", []) if {*r["models"]} - {*args.models}] + runs
            if not args.quick:
                done = {(d["screen"], d["n_train"], d["design"]) for d in designs}
                designs = [
                    d for d in old.get("linear_designs_rmse_x100", [])
                    if (d["screen"], d["n_train"], d["design"]) not in done
                ] + designs
    parts = []
    for (screen, label), g in per_seed.groupby(["screen", "label"], sort=False):
        s = summarize(g.to_dict("records"))
        s.insert(0, "screen", screen)
        s["label"] = label
        s["n_genes"] = int(g.n_genes.iloc[0])
        parts.append(s)
    summary = pd.concat(parts, ignore_index=True)
    screen_order = ["norman2019", "horlbeck2018_k562", *args.screens]
    summary["_s"] = summary.screen.map(lambda s: screen_order.index(s))
    summary["_m"] = summary.model.map({m: i for i, m in enumerate(MODEL_ORDER)})
    summary = summary.sort_values(["_s", "n_train", "_m"]).drop(columns=["_s", "_m"])
    checks = check_targets(summary, per_seed)

    write_csv(per_seed, args.out / f"{args.tag}.csv")
    write_csv(summary, args.out / f"{args.tag}_summary.csv")
    plot(summary, args.out / f"{args.tag}.png")
    table = markdown_table(summary)
    meta = {
        "protocol": "30% test fixed per seed, 10% validation held out, N uniform from the rest",
        "screens": sorted(set(per_seed.screen)),
        "models": [m for m in MODEL_ORDER if m in set(per_seed.model)],
        "seeds": seeds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "runs": runs,
        "seconds_per_screen_model": timing,
        "target_checks": checks,
        "linear_designs_rmse_x100": designs,
        "paper_rmse_x100": {f"{k[0]}@{k[1]}": v for k, v in PAPER.items()},
        "reference_rmse_x100": {f"{k[0]}@{k[1]}": v for k, v in REFERENCE.items()},
        "markdown_table": table,
    }
    write_json(args.out / f"{args.tag}.json", meta, indent=2)

    print()
    print(table)
    print()
    for d in designs:
        if d["label"] == "2N/M=4":
            print(f"{d['screen']} 2N/M=4 linear design {d['design']:12s} "
                  f"{d['rmse_x100_mean']:.2f} ± {d['rmse_x100_se']:.2f}")
    for c in checks:
        print(
            f"{c['screen']} 2N/M=4 (N={c['n_train']}): NAIAD {c['naiad_rmse_mean_x100']:.2f} vs "
            f"Linear {c['linear_rmse_mean_x100']:.2f}; NAIAD wins {c['naiad_wins_seeds']} seeds; "
            f"target <= {c['target_x100']}: {'met' if c['naiad_meets_target'] else 'MISSED'}"
        )
    print(f"total {total_s:.0f} s on {torch.get_num_threads()} thread(s); "
          f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

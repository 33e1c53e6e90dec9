"""NAIAD vs NAIAD with descriptor-initialised gene embeddings (issue 10, item 5's hybrid).

Table-1 protocol (:func:`naiad_bo.evaluation.evaluate_model`: 30% test, 10% validation,
uniformly drawn training pairs, nested per seed) at 2N/M = 4 and 10 on the two bundled screens
and on two random 60% gene subsets of each (so the verdict is not tuned on one screen), seeds
0-2, paired (same split, same seed, same random draws for every weight the descriptor does not
set). Models:

* ``naiad``: the default NAIAD ensemble;
* ``naiad-desc:string+go+depmap`` (primary hybrid, declared before running; the same
  combination as ``benchmarks/surrogates.py``'s ``gp+combo``);
* ``naiad-desc:string`` (secondary).

Writes ``benchmarks/results/hybrid.{csv,json,png}`` (``--quick``: a tiny smoke run into
``benchmarks/quick_results``). One torch thread (``NAIAD_BO_THREADS``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

import naiad_bo  # noqa: E402
from naiad_bo.evaluation import evaluate_model  # noqa: E402

SCREENS = ("norman2019", "horlbeck2018_k562")
OCCURRENCES = (4, 10)
SEEDS = (0, 1, 2)
SUBSETS = 2
SUBSET_FRACTION = 0.6
PRIMARY = "naiad-desc:string+go+depmap"
MODELS = {
    "naiad": ("naiad", {}),
    PRIMARY: ("naiad-desc", {"embedding_init": "string+go+depmap"}),
    "naiad-desc:string": ("naiad-desc", {"embedding_init": "string"}),
}
#: NAIAD paper Table 1, NAIAD test RMSE x 1e-2 (full screens only).
PAPER = {("norman2019", 4): 5.1, ("norman2019", 10): 4.7,
         ("horlbeck2018_k562", 4): 6.1, ("horlbeck2018_k562", 10): 5.7}


def screens(quick: bool):
    """(label, base screen name, screen): the full screens and their seeded gene subsets."""
    out = []
    for name in SCREENS[:1] if quick else SCREENS:
        screen = naiad_bo.load_screen(name)
        out.append((name, name, screen))
        for k in range(1 if quick else SUBSETS):
            rng = np.random.default_rng(1000 + k)
            m = int(round(SUBSET_FRACTION * screen.n_genes))
            keep = np.sort(rng.choice(screen.n_genes, m, replace=False))
            sub = screen.subset_genes([screen.genes[i] for i in keep])
            out.append((f"{name}/sub60-{k}", name, sub))
    return out


def run(quick: bool) -> pd.DataFrame:
    rows = []
    seeds = SEEDS[:1] if quick else SEEDS
    for label, base, screen in screens(quick):
        sizes = [int(round(o * screen.n_genes / 2)) for o in OCCURRENCES]
        for model_label, (model, kw) in MODELS.items():
            kw = dict(kw, **({"epochs": 5, "ensemble_size": 2} if quick else {}))
            for rec in evaluate_model(screen, model, sizes, seeds, model_kwargs=kw):
                rows.append({**rec, "model": model_label, "screen": label, "base_screen": base,
                             "occurrence": int(round(rec["occurrence"]))})
            print(f"  {label:28s} {model_label:28s} done", flush=True)
    return pd.DataFrame(rows)


def paired(df: pd.DataFrame) -> pd.DataFrame:
    """Per (screen, 2N/M, hybrid): mean +- s.e. of RMSE and of the paired difference."""
    base = df[df.model == "naiad"].set_index(["screen", "occurrence", "seed"]).rmse
    out = []
    for (screen, occ, model), g in df.groupby(["screen", "occurrence", "model"], sort=False):
        row = {"screen": screen, "occurrence": occ, "model": model, "seeds": len(g),
               "rmse_mean": g.rmse.mean(), "rmse_sem": g.rmse.sem(),
               "paper_naiad_rmse": PAPER.get((screen, occ), np.nan) / 100}
        if model != "naiad":
            d = g.set_index(["screen", "occurrence", "seed"]).rmse - base
            row.update(diff_vs_naiad_mean=d.mean(), diff_vs_naiad_sem=d.sem(),
                       wins=int((d < 0).sum()))
        out.append(row)
    return pd.DataFrame(out)


def verdict(df: pd.DataFrame) -> dict:
    """Over all paired runs: mean relative RMSE change +- s.e., wins, per hybrid."""
    base = df[df.model == "naiad"].set_index(["screen", "occurrence", "seed"]).rmse
    out = {}
    for model in MODELS:
        if model == "naiad":
            continue
        r = df[df.model == model].set_index(["screen", "occurrence", "seed"]).rmse
        rel = (r - base) / base
        out[model] = {"runs": int(rel.size), "rel_change_mean": float(rel.mean()),
                      "rel_change_sem": float(rel.sem()), "wins": int((rel < 0).sum()),
                      "better": bool(rel.mean() + 2 * rel.sem() < 0)}
    return out


def figure(summary: pd.DataFrame, path: Path) -> None:
    import matplotlib.pyplot as plt

    hyb = summary[summary.model != "naiad"]
    labels = list(dict.fromkeys(hyb.screen))
    fig, axes = plt.subplots(1, len(OCCURRENCES), figsize=(11, 4), sharey=True)
    for ax, occ in zip(np.atleast_1d(axes), OCCURRENCES):
        for j, model in enumerate([m for m in MODELS if m != "naiad"]):
            g = hyb[(hyb.occurrence == occ) & (hyb.model == model)].set_index("screen")
            g = g.reindex(labels)
            y = np.arange(len(labels)) + 0.2 * (j - 0.5)
            ax.errorbar(100 * g.diff_vs_naiad_mean, y, xerr=100 * g.diff_vs_naiad_sem,
                        fmt="o", label=model, capsize=3)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(np.arange(len(labels)), labels)
        ax.set_title(f"2N/M = {occ}")
        ax.set_xlabel("test RMSE - NAIAD's (x1e-2; < 0 = hybrid better)")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.suptitle("Descriptor-initialised NAIAD embeddings vs NAIAD (paired, mean +- s.e., 3 seeds)")
    fig.tight_layout()
    save_png(fig, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run (benchmarks/quick_results)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("NAIAD_BO_THREADS", "1")))
    out = output_dir(args.quick, args.out)
    prov = provenance()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    df = run(args.quick)
    summary = paired(df)
    result = verdict(df)
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("verdict:", result)
    write_csv(df, out / "hybrid.csv")
    write_json(out / "hybrid.json", {
        "settings": {"screens": list(SCREENS), "occurrences": list(OCCURRENCES),
                     "seeds": list(SEEDS[:1] if args.quick else SEEDS), "subsets": SUBSETS,
                     "subset_fraction": SUBSET_FRACTION, "subset_rng_seeds": "1000 + k",
                     "models": {k: {"model": m, **kw} for k, (m, kw) in MODELS.items()},
                     "primary": PRIMARY, "quick": args.quick,
                     "better_rule": "mean relative change + 2 s.e. < 0 over all paired runs"},
        "torch_threads": prov["torch_threads"],
        "cpu_s_total": time.process_time() - cpu0, "wall_s_total": time.perf_counter() - wall0,
        "summary": summary.to_dict(orient="records"), "verdict": result,
    }, indent=1, default=float)
    figure(summary, out / "hybrid.png")
    print(f"wrote {out}/hybrid.* ({(time.process_time() - cpu0) / 60:.1f} CPU-min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

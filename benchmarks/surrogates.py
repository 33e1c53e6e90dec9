"""GP surrogates on gene descriptors vs NAIAD and Linear (issue 10).

Protocols (3 seeds each; one torch thread):

1. **Accuracy and calibration** (NAIAD paper Table 1 protocol, :func:`evaluate`-style splits:
   30% test, 10% validation, N uniform training pairs): test RMSE, Pearson, 90%-interval
   coverage with each model's own predictive variance (GP / Linear: latent + fitted noise;
   NAIAD: ensemble spread only, it has no noise model), and the Spearman correlation of
   predictive s.d. with |error| (does uncertainty rank errors?). Calibration is computed on a
   fixed random 3,000 test pairs. 2N/M = 4 on both screens and 2N/M = 10 on Norman for every
   model; Norman 2N/M = 20 for Linear, NAIAD, GP and GP+combination; Horlbeck 2N/M = 10 only
   for Linear, NAIAD and GP+combination and 2N/M = 20 only for Linear and NAIAD (CPU budget).
2. **Discovery** (paper Table 2 protocol, :class:`naiad_bo.campaign.CampaignSimulator`, paper
   split, 100 initial + 4 x 100 pairs, top-200 discovered / true top-200 measured) with MPE
   and UCB, Norman only (CPU budget), for NAIAD, GP (single effects) and GP+combination.
3. **Unseen genes** (``naiad-bo evaluate --unseen-genes 0.2`` protocol,
   :func:`naiad_bo.unseen.evaluate_unseen`, 2N/M = 4): Linear, NAIAD, GP+combination.
4. **Timing**: exact GP on 2,000 Horlbeck pairs (fit; posterior mean of 100k pairs;
   posterior mean + variance of 10k pairs); the scalable path at 10,000 training pairs.
5. **Coverage** of each descriptor on each screen.

Writes ``benchmarks/results/surrogates.{json,csv}``, ``surrogates_unseen.csv``,
``surrogates_discovery.csv`` and ``surrogates.png``. ``--quick`` (smoke run, ~2 min) writes to
a temporary directory instead.

Run::

    nice python benchmarks/surrogates.py          # full run (~20-30 CPU-min on one thread)
    python benchmarks/surrogates.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import norm, spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import naiad_bo  # noqa: E402
from naiad_bo.cli.executor_args import add_executor_arguments, executor_from_args  # noqa: E402
from naiad_bo.evaluation import predict_mean  # noqa: E402
from naiad_bo.metrics import pearson, rmse  # noqa: E402
from naiad_bo.models import AdditiveLinearModel, DescriptorGP, NaiadEnsemble  # noqa: E402
from naiad_bo.splits import train_test_split  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SCREENS = ("norman2019", "horlbeck2018_k562")
SEEDS = (0, 1, 2)
COMBO = "string+go+depmap"
#: label -> (class, kwargs). "gp" = GP on single effects only (mean, effect RBF, identity).
MODELS = {
    "linear": (AdditiveLinearModel, {}),
    "naiad": (NaiadEnsemble, {}),
    "gp": (DescriptorGP, {}),
    "gp+string": (DescriptorGP, {"descriptors": "string"}),
    "gp+go": (DescriptorGP, {"descriptors": "go"}),
    "gp+depmap": (DescriptorGP, {"descriptors": "depmap"}),
    "gp+combo": (DescriptorGP, {"descriptors": COMBO}),
}
#: (screen, 2N/M) -> model labels run there.
GRID = {
    ("norman2019", 4): tuple(MODELS), ("norman2019", 10): tuple(MODELS),
    ("norman2019", 20): ("linear", "naiad", "gp", "gp+combo"),
    ("horlbeck2018_k562", 4): tuple(MODELS),
    ("horlbeck2018_k562", 10): ("linear", "naiad", "gp+combo"),
    ("horlbeck2018_k562", 20): ("linear", "naiad"),
}
#: NAIAD paper Table 1, RMSE x 1e-2 (GPs are not in the paper).
PAPER = {
    ("norman2019", 4): {"linear": 6.2, "naiad": 5.1},
    ("norman2019", 10): {"linear": 6.1, "naiad": 4.7},
    ("norman2019", 20): {"linear": 6.1, "naiad": 4.7},
    ("horlbeck2018_k562", 4): {"linear": 6.4, "naiad": 6.1},
    ("horlbeck2018_k562", 10): {"linear": 6.4, "naiad": 5.7},
    ("horlbeck2018_k562", 20): {"linear": 6.4, "naiad": 5.4},
}
#: NAIAD paper Table 2, top-200 discovered after 4 rounds with NAIAD.
PAPER_DISCOVERED = {"norman2019": {"mpe": 144, "ucb": 97}}
CALIB_PAIRS = 3000


def _build(label, screen, seed, quick):
    cls, kw = MODELS[label]
    kw = dict(kw)
    if cls is DescriptorGP:
        kw["genes"] = tuple(screen.genes)
    if cls is NaiadEnsemble and quick:
        kw.update(epochs=5, ensemble_size=2)
    return cls(torch.from_numpy(screen.single_effects.copy()), seed=seed, **kw)


def _predictive(model, X):
    """Mean and predictive variance (incl. the model's noise estimate if it has one)."""
    means, vars_ = [], []
    with torch.no_grad():
        for s in range(0, X.shape[0], 1000):
            xb = X[s : s + 1000].double().unsqueeze(-2)
            noise = isinstance(model, (DescriptorGP, AdditiveLinearModel))
            post = model.posterior(xb, observation_noise=noise) if noise else model.posterior(xb)
            means.append(post.mean.reshape(-1).double())
            vars_.append(post.variance.reshape(-1).double())
    return torch.cat(means).numpy(), torch.cat(vars_).numpy()


def accuracy(screens, grid, seeds, quick):
    rows = []
    for name in screens:
        screen = naiad_bo.load_screen(name)
        X = torch.from_numpy(screen.pair_index().copy())
        y = screen.y_values()
        Y = torch.from_numpy(y.copy()).unsqueeze(-1)
        for (sname, occ), labels in grid.items():
            if sname != name:
                continue
            n = int(round(occ * screen.n_genes / 2))
            for seed in seeds:
                split = train_test_split(screen.n_pairs, n, 0.3, 0.1, seed)
                rng = np.random.default_rng(seed)
                calib = rng.choice(split.test, min(CALIB_PAIRS, split.test.size), replace=False)
                for label in labels:
                    model = _build(label, screen, seed, quick)
                    t0 = time.process_time()
                    model.fit(X[split.train], Y[split.train])
                    fit_s = time.process_time() - t0
                    t0 = time.process_time()
                    pred = predict_mean(model, X[split.test])
                    pred_s = time.process_time() - t0
                    mu, var = _predictive(model, X[calib])
                    sd = np.sqrt(np.maximum(var, 1e-300))
                    err = y[calib] - mu
                    rows.append({
                        "screen": name, "model": label, "occurrence": occ, "n_train": n,
                        "seed": seed, "rmse": rmse(y[split.test], pred),
                        "pearson": pearson(y[split.test], pred),
                        "coverage90": float(np.mean(np.abs(err) <= norm.ppf(0.95) * sd)),
                        "sd_error_spearman": float(spearmanr(sd, np.abs(err)).statistic),
                        "fit_cpu_s": fit_s, "predict_cpu_s": pred_s,
                    })
                    print(f"{name:18s} 2N/M={occ:<3} {label:10s} seed {seed}: rmse "
                          f"{rows[-1]['rmse']:.4f} cov90 {rows[-1]['coverage90']:.2f} "
                          f"fit {fit_s:.1f}s", flush=True)
    return pd.DataFrame(rows)


def discovery(seeds, quick, executor=None):
    from naiad_bo.campaign import CampaignSimulator

    screen = naiad_bo.load_screen("norman2019")
    frames = []
    factories = {
        "naiad": (NaiadEnsemble, {"epochs": 5, "ensemble_size": 2} if quick else {}),
        "gp": (partial(DescriptorGP, genes=tuple(screen.genes)), {}),
        "gp+combo": (partial(DescriptorGP, genes=tuple(screen.genes), descriptors=COMBO), {}),
    }
    rounds = 1 if quick else 4
    for label, (factory, opts) in factories.items():
        sim = CampaignSimulator(screen, factory, initial=100, batch=100, rounds=rounds,
                                protocol="paper", surrogate_options=opts, surrogate_label=label)
        t0 = time.perf_counter()
        frame = sim.run_many(["mpe", "ucb"], list(seeds), executor=executor).to_frame()
        frames.append(frame)
        last = frame[frame["round"] == rounds].groupby("acquisition")[
            ["top200_discovered", "measured_top200"]].mean()
        print(f"discovery {label:9s} ({time.perf_counter() - t0:.0f} s):\n{last}", flush=True)
    return pd.concat(frames, ignore_index=True), rounds


def unseen(screens, seeds, quick):
    from naiad_bo.unseen import evaluate_unseen

    rows = []
    for name in screens:
        screen = naiad_bo.load_screen(name)
        n = int(round(4 * screen.n_genes / 2))
        for label in ("linear", "naiad", "gp+combo"):
            cls, kw = MODELS[label]
            kw = dict(kw)
            if cls is NaiadEnsemble and quick:
                kw.update(epochs=5, ensemble_size=2)
            recs = evaluate_unseen(screen, cls, 0.2, n, seeds, descriptors=COMBO,
                                   model_kwargs=kw, name=label)
            rows += recs
            df = pd.DataFrame(recs)
            print(f"unseen {name:18s} {label:9s}: one {df.rmse_one_unseen.mean():.4f} vs base "
                  f"{df.rmse_one_unseen_baseline.mean():.4f}; two {df.rmse_two_unseen.mean():.4f} "
                  f"vs base {df.rmse_two_unseen_baseline.mean():.4f}; spearman "
                  f"{df.spearman_unseen_single_effects.mean():.2f}", flush=True)
    return pd.DataFrame(rows)


def timing(quick):
    screen = naiad_bo.load_screen("horlbeck2018_k562")
    X = torch.from_numpy(screen.pair_index().copy())
    Y = torch.from_numpy(screen.y_values().copy()).unsqueeze(-1)
    perm = torch.from_numpy(np.random.default_rng(0).permutation(X.shape[0]))
    out = {}
    sizes = (300, 1000) if quick else (2000, 10_000)
    score = X[perm[-100_000:]]
    for n in sizes:
        gp = DescriptorGP(screen.single_effects, seed=0, genes=tuple(screen.genes),
                          descriptors=COMBO)
        t0, c0 = time.perf_counter(), time.process_time()
        gp.fit(X[perm[:n]], Y[perm[:n]])
        fit, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        mean = predict_mean(gp, score)
        mean_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with torch.no_grad():
            var = gp.posterior(score[:10_000].double().unsqueeze(-2)).variance
        assert torch.isfinite(var).all()
        var_s = time.perf_counter() - t0
        out[str(n)] = {
            "n_train": n, "fit_s": fit, "fit_cpu_s": fit_cpu, "mean_100k_pairs_s": mean_s,
            "mean_and_variance_10k_pairs_s": var_s, "path": gp.fit_info_,
            "rmse_on_scored_pairs": rmse(screen.y_values()[perm[-100_000:].numpy()], mean),
        }
        print(f"timing n={n}: fit {fit:.1f} s ({fit_cpu:.1f} CPU-s), mean of 100k pairs "
              f"{mean_s:.2f} s, mean+variance of 10k pairs {var_s:.1f} s, "
              f"cg iterations {gp.fit_info_['cg_iterations']}",
              flush=True)
    return out


def coverage():
    from naiad_bo.descriptors import load_descriptors

    out = {}
    for name in SCREENS:
        screen = naiad_bo.load_screen(name)
        out[name] = {d.name: {"covered": d.report.n_covered, "genes": d.report.n_genes,
                              "coverage": d.report.coverage, "uncovered": d.report.uncovered}
                     for d in load_descriptors(COMBO, screen.genes)}
    return out


def environment() -> dict:
    root = Path(__file__).resolve().parents[1]

    def git(*cmd):
        try:
            return subprocess.run(["git", *cmd], cwd=root, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {"git_head": git("rev-parse", "HEAD"), "clean_tree": git("status", "--porcelain") == "",
            "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "python": platform.python_version(), "machine": platform.machine(),
            "load_average_start": os.getloadavg()}


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["screen", "occurrence", "model"], sort=False)
    s = g[["rmse", "pearson", "coverage90", "sd_error_spearman", "fit_cpu_s"]].agg(["mean", "sem"])
    s.columns = [f"{a}_{b}" for a, b in s.columns]
    s = s.reset_index()
    s["paper_rmse"] = [PAPER.get((r.screen, r.occurrence), {}).get(r.model, np.nan) / 100
                       for r in s.itertuples()]
    lin = s[s.model == "linear"].set_index(["screen", "occurrence"])["rmse_mean"]
    s["rmse_vs_linear"] = [r.rmse_mean / lin.get((r.screen, r.occurrence), np.nan) - 1
                           for r in s.itertuples()]
    return s


def figure(summary, unseen_df, path):
    import matplotlib.pyplot as plt

    from naiad_bo.plotting import save_figure

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, name in zip(axes[:2], SCREENS):
        sub = summary[(summary.screen == name) & (summary.occurrence == 4)]
        ax.bar(sub.model, sub.rmse_mean, yerr=sub.rmse_sem, color="C0")
        lin = sub[sub.model == "linear"].rmse_mean.iloc[0]
        ax.axhline(lin * 1.02, ls="--", c="k", lw=0.8, label="Linear + 2%")
        ax.set_ylim(0.9 * sub.rmse_mean.min(), 1.05 * sub.rmse_mean.max())
        ax.set_title(f"{name}, 2N/M = 4, test RMSE ({len(SEEDS)} seeds)", fontsize=9)
        ax.tick_params(axis="x", rotation=45, labelsize=8)
        ax.legend(fontsize=8)
    ax = axes[2]
    if len(unseen_df):
        g = unseen_df.groupby(["screen", "model"])[
            ["rmse_one_unseen", "rmse_one_unseen_baseline"]].mean().reset_index()
        lab = [f"{s[:7]}\n{m}" for s, m in zip(g.screen, g.model)]
        x = np.arange(len(g))
        ax.bar(x - 0.2, g.rmse_one_unseen, 0.4, label="predicted single effects")
        ax.bar(x + 0.2, g.rmse_one_unseen_baseline, 0.4, label="mean imputed")
        ax.set_xticks(x, lab, fontsize=7)
        ax.set_title("pairs with one unseen gene (F = 0.2), RMSE", fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run into a temporary directory")
    p.add_argument("--out", type=Path, default=None)
    add_executor_arguments(p)  # the discovery campaigns: one job per seed, same records
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("NAIAD_BO_THREADS", "1")))
    out = args.out or (Path(tempfile.gettempdir()) / "naiad_bo_surrogates_quick"
                       if args.quick else RESULTS)
    out.mkdir(parents=True, exist_ok=True)
    env = environment()
    start = time.process_time()
    wall = time.perf_counter()
    seeds = SEEDS[:1] if args.quick else SEEDS
    grid = {("norman2019", 4): tuple(MODELS)} if args.quick else GRID
    cov = coverage()
    acc = accuracy(SCREENS[:1] if args.quick else SCREENS, grid, seeds, args.quick)
    summ = summarize(acc)
    un = unseen(SCREENS[:1] if args.quick else SCREENS, seeds, args.quick)
    with executor_from_args(args) as executor:
        disc, rounds = discovery(seeds, args.quick, executor)
    tim = timing(args.quick)
    last = disc[disc["round"] == rounds]
    dsum = last.groupby(["surrogate", "acquisition"])[["top200_discovered", "measured_top200",
                                                       "fit_s"]].agg(["mean", "sem"])
    dsum.columns = [f"{a}_{b}" for a, b in dsum.columns]
    dsum = dsum.reset_index()
    dsum["paper_top200_naiad"] = [PAPER_DISCOVERED["norman2019"].get(a) for a in dsum.acquisition]
    usum = un.groupby(["screen", "model"])[[
        "rmse_seen", "rmse_one_unseen", "rmse_one_unseen_baseline", "rmse_two_unseen",
        "rmse_two_unseen_baseline", "spearman_unseen_single_effects", "fit_s"]].agg(["mean", "sem"])
    usum.columns = [f"{a}_{b}" for a, b in usum.columns]
    usum = usum.reset_index()
    at4 = summ[summ.occurrence == 4]
    gps = at4[at4.model.str.startswith("gp")]
    targets = {
        "every_descriptor_gp_within_2pct_of_linear_at_4": bool((gps.rmse_vs_linear <= 0.02).all()),
        "one_unseen_below_baseline": {
            f"{r.screen}/{r.model}": bool(r.rmse_one_unseen_mean < r.rmse_one_unseen_baseline_mean)
            for r in usum.itertuples() if r.model in ("gp+combo", "naiad")},
        "exact_gp_2000_fit_le_30s": tim[min(tim)]["fit_s"] <= 30 if not args.quick else None,
        "exact_gp_2000_score_100k_le_5s": tim[min(tim)]["mean_100k_pairs_s"] <= 5
        if not args.quick else None,
    }
    print("\n", summ.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("\n", usum.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print("\n", dsum.to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print("\ntargets:", json.dumps(targets, indent=1))
    acc.to_csv(out / "surrogates.csv", index=False)
    un.to_csv(out / "surrogates_unseen.csv", index=False)
    disc.to_csv(out / "surrogates_discovery.csv", index=False)
    payload = {
        "settings": {"seeds": list(seeds), "grid": {f"{k[0]}@{k[1]}": v for k, v in grid.items()},
                     "combo": COMBO, "calibration_pairs": CALIB_PAIRS, "unseen_fraction": 0.2,
                     "discovery": {"screen": "norman2019", "initial": 100, "batch": 100,
                                   "rounds": rounds, "acquisitions": ["mpe", "ucb"]}},
        "environment": {**env, "load_average_end": os.getloadavg()},
        "cpu_s_total": time.process_time() - start, "wall_s_total": time.perf_counter() - wall,
        "coverage": cov, "accuracy_summary": summ.to_dict(orient="records"),
        "unseen_summary": usum.to_dict(orient="records"),
        "discovery_summary": dsum.to_dict(orient="records"), "timing": tim, "targets": targets,
    }
    (out / "surrogates.json").write_text(json.dumps(payload, indent=1, default=float) + "\n")
    figure(summ, un, out / "surrogates.png")
    print(f"wrote {out}/surrogates.* ({(time.process_time() - start) / 60:.1f} CPU-min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

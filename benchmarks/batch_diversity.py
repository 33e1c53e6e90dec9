"""Does a per-gene cap (hub diversity) or Thompson sampling improve top-200 discovery?

The strongest pairs of both bundled screens concentrate on a few hub genes (Norman: one gene
is in 53 of the true top-200 pairs; Horlbeck K562: 48), and MPE batches follow the hubs the
model believes in. This script runs the paper's campaign protocol (NAIAD section 5.3: 30%
never-acquirable test split; Norman 100 + 4 x 100 pairs, Horlbeck 500 + 4 x 500; NaiadEnsemble
refitted every round; round 0 shared by all variants of a seed) for

* ``mpe``: exact top-q of the ensemble-mean strength (the paper's best acquisition);
* ``mpe:max_per_gene=c``: the same scores, greedy with at most ``c`` pairs per gene per batch
  (``c`` = 5%, 10%, 20%, 30% of the batch);
* ``thompson``: batch Thompson sampling over ensemble members,

and reports, at round 4, top-200 discovered (paper's definition), true top-200 actually
measured (lab's view), both with paired differences to ``mpe`` (same seed, same round 0),
and the hub concentration of the acquired batches (largest number of pairs of one gene).

Usage::

    nice python benchmarks/batch_diversity.py                 # both screens, seeds 0-4
    python benchmarks/batch_diversity.py --screens norman2019 --seeds 0 1 --quick

Writes ``benchmarks/results/batch_diversity.csv`` (every round), ``batch_diversity.json``
(summary, threads, timings) and ``batch_diversity.png``.

``--speed`` instead times batch selection itself (``batch_selection_speed.json``): exact
top-q by :func:`~naiad_bo.acquisition.select_batch` against BoTorch's sequential greedy
``optimize_acqf_discrete`` on the same fitted ensemble (Norman, q = 100), one pass over
Horlbeck K562, and a bounded-memory pass over a 20,000-gene space (2 x 10^8 pairs) with the
no-training ``y_a + y_b`` model (peak traced memory).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py

from provenance import output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

SIZES = {"norman2019": (100, 100), "horlbeck2018_k562": (500, 500)}
CAP_FRACTIONS = (0.05, 0.10, 0.20, 0.30)


def variants(batch: int) -> list[str]:
    caps = [max(1, round(f * batch)) for f in CAP_FRACTIONS]
    return ["mpe", *[f"mpe:max_per_gene={c}" for c in caps], "thompson"]


def hub_stats(acquired: pd.DataFrame) -> dict[str, float]:
    """Mean over acquisition rounds of the largest per-gene pair count in the round's batch."""
    out = []
    for _, batch in acquired[acquired["round"] > 0].groupby("round"):
        a, b = batch["gene_a"].to_numpy(), batch["gene_b"].to_numpy()
        genes = np.concatenate([a, b[a != b]])
        out.append(np.bincount(genes).max())
    return {"batch_max_gene_pairs": float(np.mean(out)) if out else float("nan")}


def run_screen(name: str, seeds: list[int], rounds: int, surrogate_options: dict) -> pd.DataFrame:
    import naiad_bo
    from naiad_bo.campaign.simulator import run_campaigns

    screen = naiad_bo.load_screen(name)
    initial, batch = SIZES[name]
    frames = []
    for seed in seeds:
        t0 = time.perf_counter()
        results = run_campaigns(
            screen,
            "naiad",
            variants(batch),
            seeds=[seed],
            initial=initial,
            batch=batch,
            rounds=rounds,
            protocol="paper",
            progress=False,
            surrogate_options=surrogate_options,
        )
        frame = results.to_frame()
        hubs = {
            res.to_frame()["acquisition"].iloc[0]: hub_stats(res.acquired_pairs(screen))
            for res in results
        }
        for acq, stats in hubs.items():
            for key, value in stats.items():
                frame.loc[frame["acquisition"] == acq, key] = value
        frames.append(frame)
        last = frame[frame["round"] == rounds].set_index("acquisition")
        print(
            f"{name} seed {seed} ({time.perf_counter() - t0:.0f} s): "
            + ", ".join(
                f"{a}: {int(r['top200_discovered'])}/{int(r['measured_top200'])}"
                for a, r in last.iterrows()
            ),
            flush=True,
        )
    return pd.concat(frames, ignore_index=True)


def summarize(frame: pd.DataFrame, rounds: int) -> list[dict]:
    last = frame[frame["round"] == rounds]
    rows = []
    for screen, sub in last.groupby("screen", sort=False):
        base = sub[sub["acquisition"] == "mpe"].set_index("seed")
        for acq, g in sub.groupby("acquisition", sort=False):
            g = g.set_index("seed")
            n = len(g)
            row = {"screen": screen, "acquisition": acq, "n_seeds": n}
            for col in ("top200_discovered", "measured_top200", "batch_max_gene_pairs"):
                vals = g[col].to_numpy(float)
                row[f"{col}_mean"] = float(vals.mean())
                row[f"{col}_se"] = float(vals.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
            for col in ("top200_discovered", "measured_top200"):
                diff = (g[col] - base[col]).dropna().to_numpy(float)
                row[f"{col}_diff_vs_mpe"] = float(diff.mean())
                row[f"{col}_diff_se"] = (
                    float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
                )
                row[f"{col}_wins_vs_mpe"] = int((diff > 0).sum())
                row[f"{col}_losses_vs_mpe"] = int((diff < 0).sum())
            row["round_s_mean"] = float(
                frame[(frame["screen"] == screen) & (frame["acquisition"] == acq)]["round_s"].mean()
            )
            rows.append(row)
    return rows


def plot(summary: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = pd.DataFrame(summary)
    screens = list(dict.fromkeys(df["screen"]))
    fig, axes = plt.subplots(1, len(screens), figsize=(6 * len(screens), 4.2), squeeze=False)
    for ax, screen in zip(axes[0], screens, strict=True):
        sub = df[df["screen"] == screen]
        x = np.arange(len(sub))
        for offset, col, label in ((-0.2, "top200_discovered", "top-200 discovered"),
                                   (0.2, "measured_top200", "true top-200 measured")):
            ax.bar(x + offset, sub[f"{col}_mean"], 0.4, yerr=sub[f"{col}_se"], label=label,
                   capsize=3)
        ax.set_xticks(
            x, [a.replace("mpe:max_per_gene=", "cap ") for a in sub["acquisition"]], rotation=20
        )
        ax.set_title(f"{screen}: round 4 ({int(sub['n_seeds'].iloc[0])} seeds, mean ± s.e.)")
        ax.set_ylabel("pairs")
        ax.legend(loc="lower right")
    save_png(fig, path)


def selection_speed(threads: int) -> dict:
    """Time select_batch vs optimize_acqf_discrete, and one pass over 2e8 pairs."""
    import tracemalloc

    from botorch.optim.optimize import optimize_acqf_discrete

    import naiad_bo
    from naiad_bo.acquisition import MaxPredictedEffect, select_batch
    from naiad_bo.models import NaiadEnsemble
    from naiad_bo.models.single_sum import SingleEffectSumModel
    from naiad_bo.space import PairSet, PairSpace

    out: dict = {"threads": threads}
    for name, n_train, q in (("norman2019", 500, 100), ("horlbeck2018_k562", 2500, 500)):
        screen = naiad_bo.load_screen(name)
        pairs = torch.as_tensor(np.array(screen.pair_index()))
        y = torch.as_tensor(np.array(screen.y_values())).unsqueeze(-1)
        idx = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0))[:n_train]
        model = NaiadEnsemble(screen.single_effects, seed=0, epochs=20).fit(pairs[idx], y[idx])
        space = PairSpace(screen.n_genes)
        acqf = MaxPredictedEffect(model)
        measured = PairSet(space, pairs[idx])
        t = time.perf_counter()
        model.posterior(pairs)
        posterior_s = time.perf_counter() - t
        t = time.perf_counter()
        sel = select_batch(acqf, space, q, exclude=measured)
        exact_s = time.perf_counter() - t
        rec = {
            "n_candidates": sel.n_scored,
            "q": q,
            "posterior_all_pairs_s": posterior_s,
            "select_batch_s": exact_s,
        }
        avail = pairs[~measured.contains(pairs)].double()
        q_greedy = q if name == "norman2019" else 10
        t = time.perf_counter()
        cand, _ = optimize_acqf_discrete(acqf, q=q_greedy, choices=avail)
        greedy_s = time.perf_counter() - t
        rec.update(
            {
                "optimize_acqf_discrete_q": q_greedy,
                "optimize_acqf_discrete_s": greedy_s,
                "optimize_acqf_discrete_s_per_point": greedy_s / q_greedy,
                "greedy_extrapolated_to_q_s": greedy_s / q_greedy * q,
            }
        )
        exact = select_batch(acqf, space, q_greedy, exclude=measured).pairs
        rec["same_batch_as_greedy"] = {tuple(p) for p in cand.long().tolist()} == {
            tuple(p) for p in exact.tolist()
        }
        out[name] = rec
        print(name, rec, flush=True)
    big = PairSpace(20_000)
    se = torch.as_tensor(np.random.default_rng(0).normal(size=20_000))
    acqf = MaxPredictedEffect(SingleEffectSumModel(se))
    tracemalloc.start()
    t = time.perf_counter()
    sel = select_batch(acqf, big, 500, chunk_size=2**18, progress=False)
    big_s = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    out["space_20000_genes"] = {
        "n_candidates": sel.n_scored,
        "q": 500,
        "select_batch_s": big_s,
        "tracemalloc_peak_mb": peak / 2**20,
        "ns_per_candidate": big_s / sel.n_scored * 1e9,
    }
    print(out["space_20000_genes"], flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screens", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="50 epochs (smoke run)")
    parser.add_argument("--out", default="batch_diversity")
    parser.add_argument("--speed", action="store_true", help="time batch selection instead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    provenance()  # the code's state when the run starts
    results = output_dir(args.quick)
    if args.speed:
        out = selection_speed(torch.get_num_threads())
        out["torch"] = torch.__version__
        write_json(results / "batch_selection_speed.json", out, indent=1)
        return
    surrogate_options = {"epochs": 50} if args.quick else {}

    t0 = time.perf_counter()
    frame = pd.concat(
        [run_screen(s, args.seeds, args.rounds, surrogate_options) for s in args.screens],
        ignore_index=True,
    )
    summary = summarize(frame, args.rounds)
    write_csv(frame, results / f"{args.out}.csv")
    meta = {
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "seeds": args.seeds,
        "rounds": args.rounds,
        "sizes": {s: SIZES[s] for s in args.screens},
        "surrogate": "naiad",
        "surrogate_options": surrogate_options,
        "protocol": "paper (30% test split never acquirable)",
        "total_s": time.perf_counter() - t0,
        "summary": summary,
    }
    write_json(results / f"{args.out}.json", meta, indent=1)
    plot(summary, results / f"{args.out}.png")
    cols = [
        "screen",
        "acquisition",
        "top200_discovered_mean",
        "top200_discovered_se",
        "top200_discovered_diff_vs_mpe",
        "measured_top200_mean",
        "measured_top200_se",
        "measured_top200_diff_vs_mpe",
        "batch_max_gene_pairs_mean",
    ]
    print(pd.DataFrame(summary)[cols].round(1).to_string(index=False))
    print(f"threads={torch.get_num_threads()} total {meta['total_s']:.0f} s")


if __name__ == "__main__":
    main()

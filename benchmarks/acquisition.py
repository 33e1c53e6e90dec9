"""Acquisition campaigns benchmark (NAIAD paper Tables 2-3 and Figure 4).

Protocol (paper section 5.3, appendix D; :mod:`naiad_bo.campaign`): 30% of a screen's pairs
are a never-acquirable test split; round 0 measures ``initial`` pairs drawn uniformly from the
rest (the same pairs for every acquisition of a seed); each of 4 acquisition rounds refits a
fresh surrogate on everything measured and acquires ``batch`` pairs (exact top-q). Norman:
100 + 4 x 100; Horlbeck K562: 500 + 4 x 500; 5 seeds. After every round we record top-200
discovered (the paper's definition: measured values for measured pairs, predictions for all
others, true top-200 over *all* pairs incl. the test split), the true top-200 actually
measured (the lab's view), test RMSE and the time of the round (fit + score every pair +
select).

Grid: the NAIAD ensemble with uniform / MPE / UCB (|NAIAD - linear| + std, the paper's row) /
variance, Thompson sampling over members, probability of hit (``hit:estimate_cutoff=True``:
the probability of entering the estimated top-200, threshold = 200th strongest of measured
values and predicted means of every unmeasured pair) and batch probability of optimality
(``qpo``, Fromer et al. 2024); the 3-parameter linear surrogate with
uniform / MPE / variance; the no-model baseline "rank by y_a + y_b" (surrogate ``sum`` with
MPE); and NAIAD + MPE **without same-gene pairs** (``naiad_noself``: two guides against one
gene are not a genetic interaction, so those pairs are neither candidates nor counted in the
true top-200, which is then the top-200 of distinct-gene pairs; 21 of K562's true top-200
with self pairs are same-gene pairs). The paper counts them, so every other row keeps them.
Numbers are put next to the paper (Tables 2-3) and the reference implementation measured on
this kind of machine (anchors.md). ``naiad_refrecipe`` is the reference implementation's
recipe (anchors.md): 5 members, full-batch Adam lr 1e-2, 200 (Norman) / 100 (Horlbeck)
epochs, single-gene width 64 / 256 and its fixed embedding dims per round (2, 4, 4, 8, 16 /
2, 8, 8, 16, 32; :func:`naiad_bo.models.embedding_schedule.round_schedule`). Not in the
default grid: ``naiad_cv3`` (hit and qPO on the posterior with the CV variance scale,
``--surrogates naiad_cv3``) and ``naiad_fast`` (:class:`naiad_bo.models.FastNaiadEnsemble`,
the faster recipe of issue 12; ``results/acquisition_fast_recipe/`` holds its run, made at
commit ``c1b69b8`` when it was briefly the default and so labelled ``naiad`` there).

``--subsets S ...`` runs the grid on 60% gene subsets of each screen instead
(:func:`naiad_bo.data.subsample_genes` with subset seeds ``S``; round sizes scaled by the
share of genes kept, so 2N/M per round is the paper campaign's, and the top-k by the share of
pairs, k = 72; as in ``robust_defaults.py``), written under the stem
``acquisition_subsampled`` so the full-screen records stay as they are.

Writes ``benchmarks/results/acquisition_records.csv`` (every seed and round),
``acquisition_summary.csv`` (mean +- s.e. per round), ``acquisition.json`` (settings, round-4
table, marginal gains, timings, target checks) and ``acquisition.png`` /
``acquisition_timing.png``; every file records the git commit and whether the tree was clean
(:mod:`provenance`). ``--quick`` writes to ``benchmarks/quick_results/`` instead.

Run (about 25 min on one thread on a quiet 2-core machine)::

    nice python benchmarks/acquisition.py                 # full grid, 5 seeds
    python benchmarks/acquisition.py --quick              # smoke run (< 2 min)
    python benchmarks/acquisition.py --subsets 0 1 --seeds 0 1 2   # gene-subsampled screens
    python benchmarks/acquisition.py --executor process --workers 2   # same records, 2 CPUs

``tests/test_committed_results.py`` re-runs Norman seed 0 NAIAD + MPE and one K562 round and
asserts equality with ``acquisition_records.csv``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo this script lives in
sys.path.insert(0, str(Path(__file__).resolve().parent))

from provenance import (  # noqa: E402
    output_dir,
    png_metadata,
    provenance,
    save_png,
    stamp,
    write_csv,
    write_json,
)

from naiad_bo.campaign.result import CampaignResults  # noqa: E402
from naiad_bo.cli.executor_args import add_executor_arguments, executor_from_args  # noqa: E402

#: (initial, batch) per screen: the paper's schedule.
SIZES = {"norman2019": (100, 100), "horlbeck2018_k562": (500, 500)}
#: The reference implementation's training recipe in its campaigns (anchors.md): full-batch
#: steps, 200 epochs (Norman) / 100 epochs (Horlbeck). Our default is the paper's recipe
#: (mini-batches of 1024, 500 / 200 epochs), i.e. up to 6x more optimiser steps per fit.
REF_RECIPE = {
    "norman2019": {"epochs": 200, "batch_size": None, "lr": 1e-2, "ensemble_size": 5,
                   "single_dim": 64},
    "horlbeck2018_k562": {"epochs": 100, "batch_size": None, "lr": 1e-2, "ensemble_size": 5,
                          "single_dim": 256},
}
#: Table 5 family of each screen (for the reference's per-round embedding dims).
TABLE = {"norman2019": "norman", "horlbeck2018_k562": "horlbeck"}
HIT = "hit:estimate_cutoff=True"


def ref_recipe(base: str, n_genes: int, initial: int, batch: int) -> dict:
    """The reference implementation's recipe on a screen of ``n_genes`` genes whose campaign
    measures ``initial + r * batch`` pairs in round ``r`` (embedding dims fixed per round)."""
    from naiad_bo.models.embedding_schedule import REFERENCE_ROUND_DIMS, round_schedule

    dims = REFERENCE_ROUND_DIMS[TABLE[base]]
    return {**REF_RECIPE[base], "schedule": round_schedule(dims, initial, batch, n_genes)}


def uncalibrated(base: str, n_genes: int, initial: int, batch: int) -> dict:
    """``naiad-reference`` as its committed rows were made: no variance calibration."""
    return {"variance_calibration": None}


def cv3_options(base: str, n_genes: int, initial: int, batch: int) -> dict:
    from naiad_bo.models import CrossValidatedVarianceScale

    return {"variance_calibration": CrossValidatedVarianceScale(3)}


#: Label -> (registry name, options per screen or a function of the campaign design,
#: acquisitions run with it).
GRID = {
    "naiad": ("naiad", {}, ("uniform", "mpe", "ucb", "variance", "thompson", HIT, "qpo")),
    "linear": ("linear", {}, ("uniform", "mpe", "variance")),
    "sum": ("sum", {}, ("mpe",)),
    "naiad_refrecipe": ("naiad", ref_recipe, ("mpe",)),
    "naiad_noself": ("naiad", {}, ("mpe",)),
}
#: Labels that run only when asked for (``--surrogates``).
EXTRA_GRID = {
    "naiad_cv3": ("naiad", cv3_options, (HIT, "qpo")),
    # issue 12's faster recipe (60 epochs at lr 3e-2 on > 200 genes; opt-in, not the default):
    # results/acquisition_fast_recipe/ was run at the commit where it briefly was the default
    "naiad_fast": ("naiad-fast", {}, GRID["naiad"][2]),
    # the same with 10 members on K562 (robust_defaults' fast10; --out acquisition_fast10)
    "naiad_fast10": ("naiad-fast", {"horlbeck2018_k562": {"ensemble_size": 10}}, ("mpe",)),
    # the reference implementation's member network (issue 11; --out acquisition_reference),
    # as committed: without its default variance calibration (MPE records are the same
    # either way, the mean is unchanged)
    "naiad_reference": ("naiad-reference", uncalibrated, ("mpe",)),
    # hit-targeting acquisitions on it (--out acquisition_reference --reuse), uncalibrated
    "naiad_reference_hit": ("naiad-reference", uncalibrated, (HIT, "qpo")),
    # the same on the default surrogate as it is now (2-fold variance calibration)
    "naiad_reference_cal_hit": ("naiad-reference", {}, (HIT, "qpo")),
    # issue 11's question: do spread-based acquisitions leave uniform once the spread is
    # calibrated? the same three on the uncalibrated and on the calibrated default
    "naiad_reference_spread": ("naiad-reference", uncalibrated, ("ucb", "variance", "thompson")),
    "naiad_reference_cal_spread": ("naiad-reference", {}, ("ucb", "variance", "thompson")),
}
#: Grid labels run without same-gene pairs (neither candidates nor in the true top-200).
NO_SELF_PAIRS = {"naiad_noself"}
#: Configurations drawn in the discovery figure (all are in the tables).
PLOTTED = {("naiad", a.split(":")[0]) for a in GRID["naiad"][2]} | {
    ("linear", "mpe"), ("sum", "mpe"), ("naiad_refrecipe", "mpe"), ("naiad_noself", "mpe")}
SEEDS = (0, 1, 2, 3, 4)
ROUNDS = 4
#: Paper Table 2 (top-200 discovered at round 4) and Table 3 (marginal gain).
PAPER_DISCOVERED = {
    "norman2019": {"uniform": 92, "mpe": 144, "ucb": 97, "variance": 92},
    "horlbeck2018_k562": {"uniform": 39, "mpe": 94, "ucb": 55, "variance": 45},
}
PAPER_GAIN = {
    "norman2019": {"uniform": 1, "mpe": 14, "ucb": 2.25, "variance": 1},
    "horlbeck2018_k562": {"uniform": 0.5, "mpe": 14.25, "ucb": 4.5, "variance": 2},
}
#: Reference implementation measured here (anchors.md), mean and s.e. over 5 seeds.
REFERENCE_DISCOVERED = {
    "norman2019": {"mpe": (138.8, 1.5), "uniform": (90.8, 1.7), "variance": (95.8, 2.3),
                   "ucb": (102.4, 3.5), "optimistic": (139.8, 1.8)},
    "horlbeck2018_k562": {"mpe": (100.2, 2.7), "uniform": (39.4, 0.7), "variance": (51.0, 2.5),
                          "ucb": (62.0, 1.4), "optimistic": (100.8, 3.6)},
}
REFERENCE_MEASURED = {"norman2019": {"mpe": 108.4, "uniform": 16.0},
                      "horlbeck2018_k562": {"mpe": 93.4, "uniform": 5.4}}
#: Reference seconds per MPE round at round 4 (5 members one after another + scoring), 1 thread.
REFERENCE_ROUND_S = {"norman2019": 1.0, "horlbeck2018_k562": 14.5}
#: Targets (issue): round-4 MPE top-200 discovered >= reference; aims; speed-up >= 10x on K562.
TARGET_MIN = {"norman2019": 138.8, "horlbeck2018_k562": 100.2}
TARGET_AIM = {"norman2019": 155, "horlbeck2018_k562": 115}
TARGET_SPEEDUP = 10.0


#: Gene fraction of the ``--subsets`` screens.
SUBSET_FRACTION = 0.6


def campaign_design(name: str):
    """``(screen, base, initial, batch, top_k)`` of a bundled screen or ``BASE/sub60-S``.

    On a subset (:func:`naiad_bo.data.subsample_genes`, subset seed ``S``) the round sizes
    are scaled by the share of genes kept (2N/M per round as in the paper's campaign) and
    ``k`` by the share of pairs kept (``robust_defaults.load_design``).
    """
    import naiad_bo

    if "/sub" not in name:
        return naiad_bo.load_screen(name), name, *SIZES[name], 200
    from robust_defaults import load_design

    base, tail = name.split("/sub", 1)
    design, screen = load_design(base, int(tail.split("-", 1)[1]))
    return screen, base, design.initial, design.batch, design.top_k


def acquisition_spec(acq: str, top_k: int):
    """The grid's acquisition ``acq`` on a screen whose discovery metric is the top-``k``
    (probability of hit then targets that top-``k``; recorded as ``hit``)."""
    if acq != HIT:
        return acq
    from naiad_bo.specs import AcquisitionSpec

    return AcquisitionSpec("hit", {"estimate_cutoff": True, "k": int(top_k)}, {}, "hit")


def run_grid(screens, seeds, rounds, quick_options, grid, out_csv, budget_s,
             existing: pd.DataFrame | None = None, executor=None) -> pd.DataFrame:
    """Run every (screen, seed, surrogate, acquisition); saves records as it goes.

    Seeds are the outer loop of each screen, so a time budget cuts whole seeds (every
    surrogate and acquisition of a seed is run or none); the cut is reported. Configurations
    already in ``existing`` (same screen, surrogate label, seed and acquisition) are not run
    again; their rows keep their own ``git_commit`` / ``git_clean``, new rows are stamped with
    this run's. With a worker ``executor`` (:mod:`naiad_bo.campaign.executors`) every
    (seed, surrogate) job of a screen is submitted at once (the budget is then checked
    between screens only); the records are the same, in the same order.
    """
    from naiad_bo.campaign import CampaignSimulator
    from naiad_bo.campaign.executors import CampaignJob, SerialExecutor
    from naiad_bo.specs import AcquisitionSpec

    frames: list[pd.DataFrame] = [] if existing is None else [existing]
    done = set() if existing is None else set(
        zip(existing["screen"], existing["surrogate"], existing["seed"],
            existing["acquisition"]))
    start = time.perf_counter()
    for i, name in enumerate(screens):
        screen, base, initial, batch, top_k = campaign_design(name)
        sims, acquisitions = {}, {}
        for label, (registry_name, options, acqs) in grid.items():
            opts = (options(base, screen.n_genes, initial, batch) if callable(options)
                    else dict(options.get(base, {})))
            if registry_name == "naiad":
                opts.update(quick_options)
            sims[label] = CampaignSimulator(
                screen, registry_name, initial=initial, batch=batch, rounds=rounds,
                protocol="paper", top_k=top_k, surrogate_options=opts, surrogate_label=label,
                self_pairs=label not in NO_SELF_PAIRS,
            )
            acquisitions[label] = [acquisition_spec(a, top_k) for a in acqs]
        if executor is not None and not isinstance(executor, SerialExecutor):
            if i > 0 and time.perf_counter() - start > budget_s * i / len(screens):
                print(f"{name}: time budget reached; screen skipped", flush=True)
                continue
            keys, jobs = [], []
            for seed in seeds:
                for label in sims:
                    todo = [a for a in acquisitions[label]
                            if (name, label, seed, AcquisitionSpec.parse(a).name) not in done]
                    if todo:
                        keys.append((seed, label))
                        jobs.append(CampaignJob(sims[label], tuple(
                            AcquisitionSpec.parse(a) for a in todo), seed))
            t0 = time.perf_counter()
            for (seed, label), res in zip(keys, executor.run(jobs, progress=True, desc=name)):
                frames.append(stamp(CampaignResults(res).to_frame()))
                _print_seed(name, label, seed, frames[-1], rounds, None)
            print(f"{name}: {len(jobs)} jobs on {executor!r} in "
                  f"{time.perf_counter() - t0:.1f} s", flush=True)
            pd.concat(frames, ignore_index=True).to_csv(out_csv, index=False)
            continue
        for j, seed in enumerate(seeds):
            elapsed = time.perf_counter() - start
            # keep some budget for the screens still to come (>= 1 seed each)
            if j > 0 and elapsed > budget_s * (i + 1) / len(screens):
                print(f"{name}: time budget reached after {j} seed(s) "
                      f"({elapsed / 60:.1f} min); remaining seeds skipped", flush=True)
                break
            for label, sim in sims.items():
                todo = [a for a in acquisitions[label]
                        if (name, label, seed, AcquisitionSpec.parse(a).name) not in done]
                if not todo:
                    continue
                t0 = time.perf_counter()
                frame = stamp(sim.run_many(todo, [seed]).to_frame())
                frames.append(frame)
                _print_seed(name, label, seed, frame, rounds, time.perf_counter() - t0)
                pd.concat(frames, ignore_index=True).to_csv(out_csv, index=False)
    return pd.concat(frames, ignore_index=True)


def _print_seed(name, label, seed, frame, rounds, seconds) -> None:
    last = frame[frame["round"] == rounds].set_index("acquisition")
    took = f" ({seconds:5.1f} s)" if seconds is not None else ""
    print(f"{name:18s} {label:15s} seed {seed}{took} top-k discovered / measured: "
          + ", ".join(f"{a} {int(r['top_k_discovered'])}/{int(r['measured_top_k'])}"
                      for a, r in last.iterrows()), flush=True)


def round_table(frame: pd.DataFrame, rounds: int) -> list[dict]:
    """Round-R discovered / measured (mean +- s.e.) with paper and reference next to it."""
    from naiad_bo.campaign import marginal_gains, summarize

    summ = summarize(frame)
    last = summ[summ["round"] == rounds]
    gains = marginal_gains(frame).set_index(["screen", "surrogate", "acquisition"])
    rows = []
    for _, r in last.iterrows():
        key = (r["screen"], r["surrogate"], r["acquisition"])
        g = gains.loc[key]
        acq = r["acquisition"]
        naiad = r["surrogate"] == "naiad"  # the paper's setting (same-gene pairs counted)
        ref = REFERENCE_DISCOVERED.get(r["screen"], {}).get(acq) if naiad else None
        rows.append({
            "screen": r["screen"],
            "surrogate": r["surrogate"],
            "acquisition": acq,
            "n_seeds": int(r["n_seeds"]),
            "top200_discovered_mean": r["top_k_discovered_mean"],
            "top200_discovered_se": r["top_k_discovered_se"],
            "paper_top200": PAPER_DISCOVERED.get(r["screen"], {}).get(acq) if naiad else None,
            "reference_top200": ref[0] if ref else None,
            "reference_top200_se": ref[1] if ref else None,
            "measured_top200_mean": r["measured_top_k_mean"],
            "measured_top200_se": r["measured_top_k_se"],
            "reference_measured_top200": (
                REFERENCE_MEASURED.get(r["screen"], {}).get(acq) if naiad else None),
            "marginal_gain_mean": g["gain_mean"],
            "marginal_gain_se": g["gain_se"],
            "paper_marginal_gain": PAPER_GAIN.get(r["screen"], {}).get(acq) if naiad else None,
            "test_rmse_mean": r["test_rmse_mean"],
            "round_s_mean": r["round_s_mean"],
        })
    return rows


def timing_table(frame: pd.DataFrame, rounds: int) -> list[dict]:
    """Seconds per NAIAD + MPE round at round R (fit + score all pairs + select)."""
    rows = []
    sub = frame[frame["surrogate"].isin(["naiad", "naiad_refrecipe"])
                & (frame["acquisition"] == "mpe") & (frame["round"] == rounds)]
    for (screen, label), g in sub.groupby(["screen", "surrogate"], sort=False):
        n = len(g)
        total = g["round_s"].to_numpy(float)
        cpu = g["round_cpu_s"].to_numpy(float)
        ref = REFERENCE_ROUND_S.get(screen)
        rows.append({
            "screen": screen,
            "surrogate": label,
            "recipe": (REF_RECIPE.get(screen) if label == "naiad_refrecipe"
                       else "paper: batch 1024, 500 (<= 200 genes) / 200 epochs"),
            "round": rounds,
            "n_train": int(g["n_measured"].iloc[0]),
            "fit_s_mean": float(g["fit_s"].mean()),
            "score_s_mean": float(g["score_s"].mean()),
            "select_s_mean": float(g["select_s"].mean()),
            "round_s_mean": float(total.mean()),
            "round_s_se": float(total.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            "fit_cpu_s_mean": float(g["fit_cpu_s"].mean()),
            "round_cpu_s_mean": float(cpu.mean()),
            "round_cpu_s_se": float(cpu.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan"),
            "reference_round_s": ref,
            "speedup_vs_reference": float(ref / total.mean()) if ref else None,
            "speedup_vs_reference_cpu": float(ref / cpu.mean()) if ref else None,
        })
    return rows


def check_targets(table: list[dict], timing: list[dict]) -> list[dict]:
    checks = []
    for row in table:
        if row["surrogate"] != "naiad" or row["acquisition"] != "mpe":
            continue
        s = row["screen"]
        if s in TARGET_MIN:
            m = row["top200_discovered_mean"]
            checks.append({"check": f"{s}: MPE round-4 top-200 >= reference {TARGET_MIN[s]}",
                           "value": m, "pass": bool(m >= TARGET_MIN[s])})
            checks.append({"check": f"{s}: MPE round-4 top-200 >= aim {TARGET_AIM[s]}",
                           "value": m, "pass": bool(m >= TARGET_AIM[s])})
    for row in timing:
        if row["screen"] == "horlbeck2018_k562":
            checks.append({"check": f"horlbeck2018_k562 {row['surrogate']}: round "
                           f"{row['round']} >= {TARGET_SPEEDUP:.0f}x faster than the "
                           f"reference's {row['reference_round_s']} s (process CPU seconds)",
                           "value": row["speedup_vs_reference_cpu"],
                           "pass": bool(row["speedup_vs_reference_cpu"] >= TARGET_SPEEDUP)})
    return checks


def plot_timing(frame: pd.DataFrame, path: Path) -> None:
    """Stacked CPU seconds per MPE round (fit, score, select) and the wall-clock total, for
    the paper's training recipe and the reference's (matched work)."""
    from naiad_bo.plotting import _pyplot

    plt = _pyplot()
    labels = {"naiad": "paper recipe", "naiad_refrecipe": "reference recipe",
              "naiad_reference": "reference network"}
    sub = frame[frame["surrogate"].isin(list(labels)) & (frame["acquisition"] == "mpe")]
    if sub.empty:
        return
    screens = list(dict.fromkeys(sub["screen"]))
    fig, axes = plt.subplots(1, len(screens), figsize=(6 * len(screens), 4), squeeze=False)
    parts = (("fit_cpu_s", "fit"), ("score_cpu_s", "score"), ("select_cpu_s", "select"))
    for ax, screen in zip(axes[0], screens):
        present = [lab for lab in labels if lab in set(sub["surrogate"])][:2]
        offsets = (0.0,) if len(present) == 1 else (-0.2, 0.2)
        for offset, label, hatch in zip(offsets, present, ("", "//")):
            g = sub[(sub["screen"] == screen) & (sub["surrogate"] == label)].groupby("round")
            if not len(g):
                continue
            mean = g[[c for c, _ in parts] + ["round_s"]].mean()
            x = mean.index.to_numpy() + offset
            bottom = np.zeros(len(mean))
            for (col, name), color in zip(parts, ("C0", "C1", "C2")):
                ax.bar(x, mean[col], 0.38, bottom=bottom, color=color, hatch=hatch,
                       edgecolor="white", label=f"{name} CPU s, {labels[label]}")
                bottom += mean[col].to_numpy()
            ax.plot(x, mean["round_s"], "k_", ms=12, mew=2,
                    label=f"wall s, {labels[label]} (shared machine)")
        ref = REFERENCE_ROUND_S.get(screen)
        if ref:
            ax.axhline(ref, color="C3", ls="--", lw=1, label=f"reference MPE round 4 ({ref} s)")
        ax.set_title(f"{screen}: NAIAD + MPE s/round, {torch.get_num_threads()} thread\n"
                     "left: paper recipe, right (hatched): reference recipe", fontsize=8)
        ax.set_xlabel("round")
        ax.set_ylabel("seconds")
        ax.legend(fontsize=6)
    save_png(fig, path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screens", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--surrogates", nargs="+", default=list(GRID),
                        choices=list(GRID) + list(EXTRA_GRID))
    parser.add_argument("--subsets", nargs="+", type=int, default=None,
                        help="run on 60%% gene subsets of each screen with these subset seeds "
                        "(stem acquisition_subsampled)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 seeds, 2 rounds, 30 epochs (numbers not comparable)")
    parser.add_argument("--budget-min", type=float, default=28.0,
                        help="stop starting new seeds after this many minutes (per-screen "
                        "share); the cut is reported")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the configurations already in the records CSV (screen, "
                        "surrogate, seed, acquisition), run the rest")
    parser.add_argument("--rerun", nargs="+", default=[], metavar="LABEL",
                        help="with --reuse: drop these surrogate labels' records and rerun them")
    parser.add_argument("--out", default="acquisition", help="file name stem")
    add_executor_arguments(parser)
    parser.add_argument("--out-dir", default=None,
                        help="output folder (default benchmarks/results, or "
                        "benchmarks/quick_results for --quick)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    provenance()  # the code's state when the run starts
    seeds, rounds, opts = args.seeds, args.rounds, {}
    if args.quick:
        seeds, rounds, opts = seeds[:2], min(rounds, 2), {"epochs": 30}
    grid = {s: (GRID | EXTRA_GRID)[s] for s in args.surrogates}
    screens = args.screens
    if args.subsets is not None:
        screens = [f"{b}/sub{round(100 * SUBSET_FRACTION)}-{k}" for b in args.screens
                   for k in args.subsets]
        if args.out == "acquisition":
            args.out = "acquisition_subsampled"

    from naiad_bo.campaign import plot_campaigns, summarize

    results = output_dir(args.quick, args.out_dir)
    out_csv = results / f"{args.out}_records.csv"
    existing = pd.read_csv(out_csv) if args.reuse and out_csv.exists() else None
    if existing is not None:
        if "git_commit" not in existing.columns:
            existing = existing.assign(git_commit="unrecorded", git_clean=pd.NA)
        existing = existing[~existing["surrogate"].isin(args.rerun)]
    out_json = results / f"{args.out}.json"
    previous_runs = []
    if existing is not None and out_json.exists():  # keep the cost of the runs reused here
        prev = json.loads(out_json.read_text())
        previous_runs = prev.get("previous_runs", []) + [
            {k: prev.get(k) for k in ("total_s_this_invocation", "peak_rss_mb", "threads",
                                      "seeds_run")}]
    t0 = time.perf_counter()
    with executor_from_args(args) as executor:
        frame = run_grid(screens, seeds, rounds, opts, grid, out_csv,
                         args.budget_min * 60, existing, executor)
    total_s = time.perf_counter() - t0
    frame.to_csv(out_csv, index=False)  # every row stamped by the run that computed it
    frame = frame.drop(columns=["git_commit", "git_clean"])
    write_csv(summarize(frame), results / f"{args.out}_summary.csv")

    table = round_table(frame, rounds)
    timing = timing_table(frame, rounds)
    checks = check_targets(table, timing) if not args.quick else []
    refs = {
        s: {f"paper {a}": v for a, v in PAPER_DISCOVERED[s].items() if a in ("mpe", "uniform")}
        | {f"reference {a}": REFERENCE_DISCOVERED[s][a][0] for a in ("mpe", "uniform")}
        for s in screens if s in PAPER_DISCOVERED
    }
    plotted = frame[[(s, a) in PLOTTED for s, a in zip(frame["surrogate"], frame["acquisition"])]]
    if plotted.empty:  # a run of extra labels only (e.g. --surrogates naiad_reference)
        plotted = frame
    plot_campaigns(plotted, results / f"{args.out}.png", references=refs,
                   title=f"Acquisition campaigns, paper protocol, {len(seeds)} seeds "
                   "(markers: paper / reference at the last round)", metadata=png_metadata())
    plot_timing(frame, results / f"{args.out}_timing.png")
    meta = {
        "protocol": "paper: 30% test split never acquirable; round 0 uniform, shared by the "
                    "acquisitions of a seed; fresh surrogate per round",
        "sizes": {s: dict(zip(("initial", "batch", "top_k"), campaign_design(s)[2:]))
                  for s in screens},
        "rounds": rounds,
        "seeds_requested": seeds,
        "seeds_run": {s: sorted(int(x) for x in frame.loc[frame["screen"] == s, "seed"].unique())
                      for s in screens},
        "budget_min": args.budget_min,
        "grid": {k: (r, o if isinstance(o, dict) else f"{o.__name__}(screen)", a)
                 for k, (r, o, a) in grid.items()},
        "no_self_pairs": sorted(NO_SELF_PAIRS & set(grid)),
        "quick_naiad_options": opts,
        "quick": args.quick,
        "threads": torch.get_num_threads(),
        "executor": args.executor,
        "workers": executor.workers,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "total_s_this_invocation": total_s,
        "previous_runs": previous_runs,
        "sum_of_round_wall_s": float(frame["round_s"].sum()),
        "sum_of_round_cpu_s": float(frame["round_cpu_s"].sum()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "round_table": table,
        "timing": timing,
        "checks": checks,
    }
    write_json(out_json, meta, indent=1, default=float)

    print(f"\ntotal {total_s / 60:.1f} min, {torch.get_num_threads()} thread(s), peak RSS "
          f"{meta['peak_rss_mb']:.0f} MB")
    print(f"\nround {rounds}: top-200 discovered | true top-200 measured | marginal gain "
          "(mean ± s.e.)  [paper / reference]")
    for row in table:
        paper = row["paper_top200"]
        ref = row["reference_top200"]
        print(f"  {row['screen']:18s} {row['surrogate']:15s} {row['acquisition']:9s} "
              f"{row['top200_discovered_mean']:6.1f} ± {row['top200_discovered_se']:4.1f} | "
              f"{row['measured_top200_mean']:6.1f} ± {row['measured_top200_se']:4.1f} | "
              f"{row['marginal_gain_mean']:6.2f} ± {row['marginal_gain_se']:4.2f}"
              f"   [{paper if paper is not None else '-'} / {ref if ref is not None else '-'}]")
    for row in timing:
        print(f"  {row['screen']} {row['surrogate']}: MPE round {row['round']} "
              f"{row['round_s_mean']:.2f} s wall (fit {row['fit_s_mean']:.2f}, score "
              f"{row['score_s_mean']:.2f}, select "
              f"{row['select_s_mean']:.2f}), {row['round_cpu_s_mean']:.2f} s CPU"
              + (f"; reference {row['reference_round_s']} s: "
                 f"{row['speedup_vs_reference']:.1f}x wall, "
                 f"{row['speedup_vs_reference_cpu']:.1f}x CPU"
                 if row["reference_round_s"] else ""))
    for c in checks:
        print(f"  [{'PASS' if c['pass'] else 'FAIL'}] {c['check']}: {c['value']:.2f}")


if __name__ == "__main__":
    main()

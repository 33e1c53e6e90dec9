"""Small-scale comparison of hit-targeting acquisitions with MPE and UCB (standalone loop).

A standalone campaign loop (the shared campaign simulator is being refactored on another
branch; fold this into ``benchmarks/acquisition.py`` once that lands), on the NAIAD paper's
protocol: a fixed 30% test split per seed is never acquirable, round 0 measures ``initial``
uniformly drawn pairs of the rest, then 4 rounds add ``batch`` pairs each, chosen by the
acquisition from the unmeasured non-test pairs with exact top-``q`` of its per-pair score;
after each round the surrogate (``NaiadEnsemble`` at its defaults, optionally with the
cross-validated variance scale) is refitted. Norman: 100 + 4 x 100; Horlbeck K562:
500 + 4 x 500. Metrics at every round: top-200 discovered (measured values + predictions,
:func:`naiad_bo.metrics.top_k_discovered`) and true top-200 measured
(:func:`naiad_bo.metrics.measured_recall`).

Acquisitions: ``mpe`` (:class:`MaxPredictedEffect`), ``ucb`` (:class:`RecoverUCB`, the paper's
UCB row), ``hit`` (:class:`ProbabilityOfHit`, threshold = the estimated top-200 cut-off: the 200th
strongest of measured values and predicted means of the unmeasured candidates), ``qpo``
(:class:`BatchProbabilityOfOptimality`, Gaussian marginals over the unmeasured non-test
pairs). ``--cv`` fits the surrogate with
``variance_calibration=CrossValidatedVarianceScale(3)`` (the mean, so MPE, is unchanged).
``--gene-frac F`` runs on a random ``F`` gene subset of the screen (seeded by the campaign seed),
to test on screens whose hub genes and top pairs differ from the visible ones.

Writes ``hit_acquisitions.csv`` (one row per screen, acquisition, seed, round) and
``hit_acquisitions.json`` (settings, git commit, clean-tree flag, summary) and
``hit_acquisitions.png`` to ``benchmarks/results/`` (``--quick``:
``benchmarks/quick_results/hit_acquisitions/``).

Run::

    nice python benchmarks/hit_acquisitions.py --seeds 200 201 202
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import naiad_bo
from naiad_bo.acquisition import (
    BatchProbabilityOfOptimality,
    MaxPredictedEffect,
    ProbabilityOfHit,
    RecoverUCB,
)
from naiad_bo.evaluation import predict_mean
from naiad_bo.metrics import measured_recall, top_k_discovered
from naiad_bo.models import CrossValidatedVarianceScale, NaiadEnsemble

RESULTS = Path(__file__).resolve().parent / "results"
QUICK = Path(__file__).resolve().parent / "quick_results" / "hit_acquisitions"
PROTOCOL = {"norman2019": (100, 100), "horlbeck2018_k562": (500, 500)}
#: Paper Table 2 and the reference implementation (anchors.md), round-4 top-200 discovered.
PAPER = {"norman2019": {"mpe": 144, "ucb": 97}, "horlbeck2018_k562": {"mpe": 94, "ucb": 55}}
REFERENCE = {
    "norman2019": {"mpe": 138.8, "ucb": 102.4},
    "horlbeck2018_k562": {"mpe": 100.2, "ucb": 62.0},
}
K = 200


def code_state() -> dict:
    root = Path(__file__).resolve().parents[1]

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(
                ["git", *cmd], cwd=root, capture_output=True, text=True, timeout=30
            ).stdout.rstrip("\n")
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = [
        line[3:]
        for line in git("status", "--porcelain", "naiad_bo", "benchmarks/hit_acquisitions.py")
        .splitlines()
    ]
    return {"git_head": git("rev-parse", "HEAD").strip(), "clean_tree": not dirty,
            "uncommitted_files": dirty}


def build(name: str, model, X_meas, Y_meas, X_cand, single_effects):
    if name == "mpe":
        return MaxPredictedEffect(model)
    if name == "ucb":
        return RecoverUCB.from_training_data(model, X_meas, Y_meas, single_effects)
    if name == "hit":
        return ProbabilityOfHit.from_training_data(model, X_meas, Y_meas, k=K, candidates=X_cand)
    if name == "qpo":
        return BatchProbabilityOfOptimality(model, X_cand, grid_size=256)
    raise ValueError(f"unknown acquisition {name!r}")


def campaign(screen, acq: str, seed: int, rounds: int, cv: bool) -> list[dict]:
    initial, batch = PROTOCOL.get(screen.name.split("@")[0], (100, 100))
    X = torch.from_numpy(screen.pair_index().copy())
    y = screen.y_values()
    Y = torch.from_numpy(y.copy()).unsqueeze(-1)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(screen.n_pairs)
    n_test = int(round(0.3 * screen.n_pairs))
    pool = np.sort(perm[n_test:])
    measured = np.zeros(screen.n_pairs, dtype=bool)
    measured[rng.choice(pool, size=initial, replace=False)] = True
    acquirable = np.zeros(screen.n_pairs, dtype=bool)
    acquirable[pool] = True
    options = {"variance_calibration": CrossValidatedVarianceScale(3)} if cv else {}
    out = []
    for r in range(rounds + 1):
        idx = np.flatnonzero(measured)
        t0 = time.process_time()
        model = NaiadEnsemble(screen, seed=seed * 100 + r, **options).fit(X[idx], Y[idx])
        pred = predict_mean(model, X)
        out.append({
            "screen": screen.name, "acquisition": acq, "cv": cv, "seed": seed, "round": r,
            "n_measured": int(measured.sum()),
            "discovered": top_k_discovered(y, pred, measured, K),
            "measured_recall": measured_recall(y, measured, K),
            "fit_cpu_s": time.process_time() - t0,
        })
        if r == rounds:
            break
        cand = np.flatnonzero(acquirable & ~measured)
        acqf = build(acq, model, X[idx], Y[idx], X[cand], screen.single_effects)
        with torch.no_grad():
            scores = acqf.score(X[cand]).double()
        order = torch.argsort(scores, descending=True, stable=True)[:batch].numpy()
        measured[cand[order]] = True
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", nargs="+", default=list(PROTOCOL))
    parser.add_argument("--acquisitions", nargs="+", default=["mpe", "ucb", "hit", "qpo"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[200, 201, 202])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cv", action="store_true", help="CV variance scale on the surrogate")
    parser.add_argument("--gene-frac", type=float, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="Norman, 1 seed, 2 rounds")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--tag", default="hit_acquisitions")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.quick:
        args.screens, args.seeds, args.rounds = ["norman2019"], args.seeds[:1], 2
    out_dir = args.out or (QUICK if args.quick else RESULTS)
    code = code_state()
    t0 = time.perf_counter()
    rows = []
    for name in args.screens:
        full = naiad_bo.load_screen(name)
        for seed in args.seeds:
            screen = full
            if args.gene_frac is not None:
                g = np.random.default_rng(10_000 + seed).permutation(full.n_genes)
                keep = np.sort(g[: int(round(args.gene_frac * full.n_genes))])
                screen = full.subset_genes([full.genes[i] for i in keep])
                screen.name = f"{name}@{args.gene_frac:g}"
            for acq in args.acquisitions:
                recs = campaign(screen, acq, seed, args.rounds, args.cv)
                rows.extend(recs)
                last = recs[-1]
                print(f"{screen.name:22s} seed {seed} {acq:4s} round {last['round']}: "
                      f"discovered {last['discovered']:3d}, measured {last['measured_recall']:3d}",
                      flush=True)
    df = pd.DataFrame(rows)
    last = df[df["round"] == args.rounds]
    summary = []
    for (screen, acq), g in last.groupby(["screen", "acquisition"], sort=False):
        base = name_of(screen)
        mpe = last[(last.screen == screen) & (last.acquisition == "mpe")].set_index("seed")
        paired = g.set_index("seed").discovered - mpe.discovered if len(mpe) else None
        summary.append({
            "screen": screen, "acquisition": acq, "seeds": len(g),
            "discovered_mean": g.discovered.mean(),
            "discovered_se": g.discovered.std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else 0.0,
            "measured_mean": g.measured_recall.mean(),
            "measured_se": g.measured_recall.std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else 0,
            "minus_mpe_mean": None if paired is None else float(paired.mean()),
            "minus_mpe_se": None if paired is None or len(paired) < 2
            else float(paired.std(ddof=1) / np.sqrt(len(paired))),
            "paper": PAPER.get(base, {}).get(acq), "reference": REFERENCE.get(base, {}).get(acq),
        })
    out_dir.mkdir(parents=True, exist_ok=True)
    df.to_csv(out_dir / f"{args.tag}.csv", index=False)
    meta = {
        "settings": vars(args) | {"out": str(out_dir)}, "torch_threads": torch.get_num_threads(),
        "python": sys.version.split()[0], "torch": torch.__version__,
        "platform": platform.platform(), "total_s": time.perf_counter() - t0, "code": code,
        "summary": summary,
    }
    (out_dir / f"{args.tag}.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
    plot(df, out_dir / f"{args.tag}.png")
    print(pd.DataFrame(summary).to_string(index=False))
    print(f"torch threads {torch.get_num_threads()}, {meta['total_s']:.0f} s; wrote {out_dir}")
    return 0


def name_of(screen: str) -> str:
    return screen.split("@")[0]


def plot(df: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    screens = list(dict.fromkeys(df.screen))
    fig, axes = plt.subplots(1, len(screens), figsize=(4.5 * len(screens), 3.8), squeeze=False)
    for ax, screen in zip(axes[0], screens, strict=True):
        for acq, g in df[df.screen == screen].groupby("acquisition", sort=False):
            m = g.groupby("round").discovered.agg(["mean", "sem"])
            ax.errorbar(m.index, m["mean"], yerr=m["sem"].fillna(0), marker="o", label=acq,
                        capsize=2)
        ax.set_title(screen)
        ax.set_xlabel("round")
        ax.set_ylabel(f"top-{K} discovered")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())

"""Exact-GP scoring time: posterior mean and variance of every Horlbeck K562 pair (issue 10).

Target (issue 10): exact GP on 2,000 training pairs, scoring 100k pairs <= 5 s on one thread.
For each seed (the training split), ``DescriptorGP`` (``gp:string+go+depmap``) is fitted on
2,000 random Horlbeck K562 pairs, then the posterior mean and variance of all 100,576 pairs
are computed through :func:`naiad_bo.prediction.predict_mean_std` (chunks of ``n x 1 x 2``
marginals, as the acquisitions call it; the first chunk builds the per-fit variance table,
:meth:`DescriptorGP.posterior_variance_table`). For comparison, the direct blocked triangular
solve (the only path before the table) scores 10,000 pairs, and its variances are compared with
the table's. CPU seconds (``time.process_time``) are the fair number on a shared machine; wall
seconds are reported beside them.

Writes ``benchmarks/results/gp_scoring.json`` (``--quick``: 300 training pairs, one seed,
``benchmarks/quick_results/``).

Run::

    OMP_NUM_THREADS=1 python benchmarks/gp_scoring.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo this script lives in
sys.path.insert(0, str(Path(__file__).resolve().parent))

from provenance import output_dir, provenance, write_json  # noqa: E402

import naiad_bo  # noqa: E402
from naiad_bo.models import DescriptorGP  # noqa: E402
from naiad_bo.prediction import predict_mean_std  # noqa: E402

DESCRIPTORS = "string+go+depmap"
TARGET_S = 5.0


def run_seed(screen, seed: int, n_train: int, n_direct: int) -> dict:
    X = torch.from_numpy(screen.pair_index().copy())
    Y = torch.from_numpy(screen.y_values().copy()).unsqueeze(-1)
    perm = torch.from_numpy(np.random.default_rng(seed).permutation(X.shape[0]))
    gp = DescriptorGP(screen.single_effects, seed=seed, genes=tuple(screen.genes),
                      descriptors=DESCRIPTORS)
    t0, c0 = time.perf_counter(), time.process_time()
    gp.fit(X[perm[:n_train]], Y[perm[:n_train]])
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    mean, std = predict_mean_std(gp, X)
    score_s, score_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert np.isfinite(mean).all() and np.isfinite(std).all()
    sub = X[perm[-n_direct:]].double().unsqueeze(-2)
    t0, c0 = time.perf_counter(), time.process_time()
    with torch.no_grad():
        direct = torch.cat([gp._joint_covariance(sub[s : s + 2048])
                            for s in range(0, n_direct, 2048)]).reshape(-1) * gp.y_std_**2
    direct_s, direct_cpu = time.perf_counter() - t0, time.process_time() - c0
    table = std[perm[-n_direct:].numpy()] ** 2
    rel = np.abs(table - direct.numpy()) / np.abs(direct.numpy())
    rec = {
        "seed": seed, "n_train": n_train, "n_scored": int(X.shape[0]), "n_genes": screen.n_genes,
        "fit_s": fit_s, "fit_cpu_s": fit_cpu,
        "mean_and_variance_all_pairs_s": score_s, "mean_and_variance_all_pairs_cpu_s": score_cpu,
        "direct_variance_pairs": n_direct, "direct_variance_s": direct_s,
        "direct_variance_cpu_s": direct_cpu,
        "direct_variance_cpu_s_per_100k": direct_cpu * 100_000 / n_direct,
        "max_rel_diff_table_vs_direct": float(rel.max()),
        "median_rel_diff_table_vs_direct": float(np.median(rel)),
    }
    print(f"seed {seed}: fit {fit_cpu:.1f} CPU-s ({fit_s:.1f} s wall); mean+variance of "
          f"{X.shape[0]} pairs {score_cpu:.2f} CPU-s ({score_s:.2f} s wall); direct solve "
          f"{direct_cpu:.2f} CPU-s per {n_direct} pairs; max rel diff {rel.max():.1e}", flush=True)
    return rec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run (quick_results/)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    prov = provenance()
    screen = naiad_bo.load_screen("horlbeck2018_k562")
    n_train, seeds, n_direct = (300, 1, 2000) if args.quick else (2000, args.seeds, 10_000)
    recs = [run_seed(screen, s, n_train, n_direct) for s in range(seeds)]

    def stat(key):
        v = np.array([r[key] for r in recs])
        return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if v.size > 1 else None,
                "min": float(v.min()), "max": float(v.max())}

    summary = {k: stat(k) for k in ("fit_cpu_s", "fit_s", "mean_and_variance_all_pairs_cpu_s",
                                    "mean_and_variance_all_pairs_s",
                                    "direct_variance_cpu_s_per_100k",
                                    "max_rel_diff_table_vs_direct")}
    payload = {
        "screen": "horlbeck2018_k562", "descriptors": DESCRIPTORS, "torch_threads":
        torch.get_num_threads(), "quick": args.quick, "records": recs, "summary": summary,
        "target_score_100k_s": TARGET_S,
        "score_all_pairs_le_5_cpu_s": summary["mean_and_variance_all_pairs_cpu_s"]["max"]
        <= TARGET_S,
        "fit_le_30_cpu_s": summary["fit_cpu_s"]["max"] <= 30.0,
    }
    path = write_json(output_dir(args.quick, args.out) / "gp_scoring.json", payload, indent=1)
    print(f"wrote {path} (git {prov['git_commit'][:7]}, clean={prov['git_clean']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

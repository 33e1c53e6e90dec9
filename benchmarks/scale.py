"""Benchmark: one campaign round (fit / score / select) against genes M and training pairs N.

Each cell is one :func:`naiad_bo.campaign.scale.run_scale_round` on a semi-synthetic screen
(:class:`naiad_bo.data.synthetic.SyntheticPairScreen`, statistics of Horlbeck K562; the
Norman-like reference cell uses Norman's) in a fresh spawned process, so the peak RSS
(``ru_maxrss``, imports included) belongs to that cell alone: the default NAIAD ensemble
(5 members, paper recipe: 200 epochs, embedding dim from 2N/M, single branch 256) is fitted on
N uniformly drawn pairs, every other pair of the M (M + 1) / 2 is scored with MPE and the exact
top-q is selected (q = 10,000 from M = 2,000 on; 500 at M = 448, the K562 round's q; 100 on the
Norman-like cell). After the round (not timed, not in the peak), the batch is checked
against the screen's true top-q, streamed over all pairs.

Targets (issue 12): the M = 20,000, N = 50,000, q = 10,000 round within 15 min on 2 CPU cores
and 4 GB peak memory. Reference per-round times (anchors.md, issue 12): the public NAIAD code
takes 12.5 s (measured side by side, issue 12) / ~14.5 s (anchors.md) per K562 round 4 and
2.20 s per Norman round; they are printed beside our M = 448 (K562-like) and M = 112
(Norman-like) cells, which are synthetic screens of the same size, not the bundled screens
(the side-by-side run on the real screens belongs to the round-speed benchmark).

Run: ``python benchmarks/scale.py [--threads 2] [--device cpu|cuda|auto] [--quick]``.
Writes ``benchmarks/results/scale.csv``, ``scale.json``, ``scale.png`` (``--quick``: a tiny
grid to ``benchmarks/quick_results/``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py

from provenance import output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

TARGET_WALL_S = 15 * 60
TARGET_PEAK_MB = 4 * 1024
#: (label, reference seconds per round, source) of the public reference implementation.
REFERENCE = [
    ("K562 round 4 (fit 2,500, score 100,576, pick 500)", 12.5, "issue 12, side by side"),
    ("K562 round 4 (anchors.md)", 14.5, "anchors.md"),
    ("Norman round 4 (fit 500, pick 100)", 2.20, "issue 12, side by side"),
]

K562 = "horlbeck2018_k562"
FULL_GRID = [  # (source, M, N, q, seeds); N = 50,000 cells one seed (time)
    ("norman2019", 112, 500, 100, (0, 1)),
    *[(K562, m, n, 500 if m == 448 else 10_000, (0, 1) if n < 50_000 and m < 20_000 else (0,))
      for m in (448, 2000, 5000, 20_000) for n in (2500, 10_000, 50_000)],
]
QUICK_GRID = [
    ("norman2019", 112, 500, 100, (0,)),
    (K562, 448, 2500, 500, (0,)),
    (K562, 2000, 2500, 1000, (0,)),
]
TARGET_GRID = [  # the reference-sized rounds and the target cell only
    ("norman2019", 112, 500, 100, (0, 1)),
    (K562, 448, 2500, 500, (0, 1)),
    (K562, 20_000, 50_000, 10_000, (0,)),
]
#: (threads, workers) compared on one cell: intra-op threads vs forked scoring processes.
PARALLEL = [(1, 1), (2, 1), (1, 2)]
PARALLEL_CELL = (K562, 5000, 2500, 10_000, 0)
PARALLEL_CELL_QUICK = (K562, 2000, 2500, 1000, 0)
#: The target grid compares serial and 2 workers at genome scale (2 threads: see the full grid).
PARALLEL_TARGET = [(1, 1), (1, 2)]
PARALLEL_CELL_TARGET = (K562, 20_000, 2500, 10_000, 0)


def measure(source: str, m: int, n: int, q: int, seed: int, threads: int, workers: int,
            device: str, epochs: int | None, discovery: bool) -> dict:
    """One cell, in a child process."""
    import torch

    torch.set_num_threads(threads)
    from naiad_bo.campaign.scale import peak_rss_mb, run_scale_round
    from naiad_bo.data import load_screen
    from naiad_bo.data.synthetic import SyntheticPairScreen, SyntheticScreenConfig

    rss_start = peak_rss_mb()
    t0 = time.perf_counter()
    screen = SyntheticPairScreen(SyntheticScreenConfig(n_genes=m, seed=seed),
                                 source=load_screen(source))
    build_s = time.perf_counter() - t0
    surrogate = "naiad" if epochs is None else f"naiad:epochs={epochs}"
    result = run_scale_round(screen, n, q, surrogate=surrogate, acquisition="mpe", seed=seed,
                             device=device, threads=threads, workers=workers)
    row = {"source": source, "seed": seed, "n_pairs": screen.n_pairs, "screen_build_s": build_s,
           "rss_after_import_mb": rss_start, **result.as_dict()}
    row["cpu_s"] = result.fit_cpu_s + result.score_cpu_s + result.select_cpu_s
    if discovery:
        t0 = time.perf_counter()
        truth = screen.top_k(q)
        top = set(zip(truth["gene_a"].tolist(), truth["gene_b"].tolist()))
        batch = set(zip(result.batch["gene_a"].tolist(), result.batch["gene_b"].tolist()))
        row["batch_in_true_top_q"] = len(top & batch)
        row["uniform_expected_in_true_top_q"] = q * q / screen.n_pairs
        row["true_top_q_s"] = time.perf_counter() - t0
    return row


def _child(args, queue) -> None:
    try:
        queue.put(measure(*args))
    except BaseException as err:  # report, never hang the parent
        queue.put({"error": f"{type(err).__name__}: {err}"})
        raise


def run_cell(args: tuple) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(args, queue))
    proc.start()
    row = queue.get()
    proc.join()
    if "error" in row:
        raise RuntimeError(f"cell {args[:5]} failed: {row['error']}")
    return row


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    keys = ["source", "n_genes", "n_train", "q", "threads", "workers", "device"]
    cols = ["fit_s", "score_s", "select_s", "total_s", "cpu_s", "fit_cpu_s", "score_cpu_s",
            "peak_rss_mb", "footprint_mb"]
    if "batch_in_true_top_q" in rows:
        cols.append("batch_in_true_top_q")
    agg = rows.groupby(keys, sort=False)[cols].agg(["mean", "std", "count"])
    agg.columns = [f"{c}_{s}" for c, s in agg.columns]
    return agg.reset_index()


def plot(summary: pd.DataFrame, path: Path, threads: int, workers: int, device: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k562 = summary[summary["source"] == "horlbeck2018_k562"]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    for n, part in k562.groupby("n_train"):
        ax_t.errorbar(part["n_genes"], part["total_s_mean"], yerr=part["total_s_std"].fillna(0),
                      marker="o", capsize=3, label=f"round, N = {n:,}")
        ax_t.plot(part["n_genes"], part["score_s_mean"], ":", marker=".", c="grey")
        ax_m.plot(part["n_genes"], part["footprint_mb_mean"], marker="o", label=f"N = {n:,}")
    ax_t.axhline(TARGET_WALL_S, ls="--", c="r", label="target 15 min (M = 20,000, N = 50,000)")
    ax_t.set(xscale="log", yscale="log", xlabel="genes M", ylabel="wall seconds per round",
             title=f"fit + score + select ({device}, {threads} thread(s), {workers} worker(s);"
                   " dotted: score)")
    ax_t.legend(fontsize=8)
    ax_m.axhline(TARGET_PEAK_MB, ls="--", c="r", label="target 4 GB")
    ax_m.set(xscale="log", xlabel="genes M", ylabel="MiB",
             title="peak RSS, scoring workers included (upper bound)")
    ax_m.legend(fontsize=8)
    fig.tight_layout()
    save_png(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads while scoring")
    parser.add_argument("--workers", type=int, default=2,
                        help="forked scoring processes (CPU; 1 = serial scan)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, or auto (cuda if present)")
    parser.add_argument("--quick", action="store_true", help="tiny grid to quick_results/")
    parser.add_argument("--grid", choices=("full", "target"), default="full",
                        help="target: the reference-sized rounds, the M = 20,000 target cell "
                        "and serial vs workers at M = 20,000 (writes scale_target.*)")
    parser.add_argument("--epochs", type=int, default=None, help="override the paper recipe")
    parser.add_argument("--no-discovery", action="store_true",
                        help="skip the (untimed) check of the batch against the true top-q")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    provenance()  # the code's state when the run starts
    target_grid = args.grid == "target" and not args.quick
    grid = QUICK_GRID if args.quick else TARGET_GRID if target_grid else FULL_GRID
    par_cell = (PARALLEL_CELL_QUICK if args.quick else PARALLEL_CELL_TARGET if target_grid
                else PARALLEL_CELL)
    par_configs = PARALLEL_TARGET if target_grid else PARALLEL
    out = output_dir(args.quick, args.out)

    cells = [((source, m, n, q, seed, args.threads, args.workers), True)
             for source, m, n, q, seeds in grid for seed in seeds]
    if device == "cpu":  # threads vs processes on one cell (discovery check not repeated)
        have = {c for c, _ in cells}
        cells += [((*par_cell, t, w), False) for t, w in par_configs
                  if (*par_cell, t, w) not in have]
    rows = []
    for (source, m, n, q, seed, threads, workers), check in cells:
        if device != "cpu":
            workers = 1
        row = run_cell((source, m, n, q, seed, threads, workers, device, args.epochs,
                        check and not args.no_discovery))
        rows.append(row)
        hits = (f"  batch in true top-{q}: {row['batch_in_true_top_q']:,} "
                f"(uniform: {row['uniform_expected_in_true_top_q']:.1f})"
                if "batch_in_true_top_q" in row else "")
        print(f"{source:>18} M={m:>6,} N={n:>6,} q={q:>6,} seed={seed} threads={threads} "
              f"workers={workers}: fit "
              f"{row['fit_s']:7.1f} s  score {row['score_s']:7.1f} s ({row['n_scored']:,} "
              f"pairs)  select {row['select_s']:5.2f} s  total {row['total_s']:7.1f} s "
              f"(CPU {row['cpu_s']:7.1f} s)  peak RSS {row['peak_rss_mb']:5.0f} MiB "
              f"(+ workers: <= {row['footprint_mb']:5.0f} MiB){hits}",
              flush=True)
    frame = pd.DataFrame(rows)

    main_rows = (frame["threads"] == args.threads) & (frame["workers"] == (
        args.workers if device == "cpu" else 1))
    summary = summarise(frame[main_rows])
    in_cell = (frame["n_genes"] == par_cell[1]) & (frame["n_train"] == par_cell[2])
    parallel = summarise(frame[in_cell])
    print("\nthreads vs scoring processes (one cell, same seed):")
    for _, r in parallel.iterrows():
        print(f"  threads={r['threads']} workers={r['workers']}: score "
              f"{r['score_s_mean']:6.1f} s wall, {r['score_cpu_s_mean']:6.1f} s CPU")
    print("\ntargets (issue 12) beside ours:")
    target = frame[(frame["n_genes"] == 20_000) & (frame["n_train"] == 50_000) & main_rows]
    if len(target):
        t = target.iloc[0]
        print(f"  M = 20,000, N = 50,000, q = 10,000: {t['total_s']:.0f} s wall (target "
              f"{TARGET_WALL_S} s), {t['cpu_s']:.0f} s CPU, peak {t['peak_rss_mb']:.0f} MiB "
              f"(workers included <= {t['footprint_mb']:.0f} MiB; target {TARGET_PEAK_MB} "
              f"MiB), {args.threads} thread(s), {args.workers} worker(s), {device}")
    print("reference implementation per round beside our rounds (synthetic screens of the "
          "same size):")
    ours = {"K562": summary[(summary["n_genes"] == 448) & (summary["n_train"] == 2500)],
            "Norman": summary[summary["n_genes"] == 112]}
    reference_rows = []
    for label, ref_s, src in REFERENCE:
        mine = ours["Norman" if label.startswith("Norman") else "K562"]
        value = float(mine["total_s_mean"].iloc[0]) if len(mine) else float("nan")
        cpu = float(mine["cpu_s_mean"].iloc[0]) if len(mine) else float("nan")
        reference_rows.append({"reference": label, "reference_s": ref_s, "source": src,
                               "ours_wall_s": value, "ours_cpu_s": cpu,
                               "speedup_wall": ref_s / value})
        print(f"  {label:<52} reference {ref_s:6.2f} s   ours {value:6.2f} s wall "
              f"({cpu:.2f} s CPU)")

    stem = "scale_target" if target_grid else "scale"
    write_csv(frame.drop(columns=[c for c in frame.columns if c == "batch"]), out / f"{stem}.csv")
    write_json(out / f"{stem}.json", {
        "benchmark": "scale",
        "threads": args.threads,
        "workers": args.workers,
        "device": device,
        "epochs": args.epochs,
        "targets": {"wall_s": TARGET_WALL_S, "peak_rss_mb": TARGET_PEAK_MB},
        "reference": reference_rows,
        "note": "shared, loaded 2-core machine: wall times inflated; CPU seconds recorded",
        "summary": summary.to_dict(orient="records"),
        "parallel": parallel.to_dict(orient="records"),
        "rows": frame.to_dict(orient="records"),
    }, indent=1, default=float)
    plot(summary[summary["workers"] == args.workers], out / f"{stem}.png", args.threads,
         args.workers, device)
    print(f"wrote {out / stem}.csv / .json / .png")


if __name__ == "__main__":
    main()

"""Executor speed-up on the acquisition grid: serial vs local processes vs Ray workers.

The Norman rows of the acquisition grid (``benchmarks/acquisition.py``: NAIAD with uniform /
MPE / UCB / variance / Thompson, linear with uniform / MPE / variance, ``sum`` with MPE;
paper schedule 100 + 4 x 100) over ``--seeds``, one job per (seed, surrogate), run on each
executor in turn (:mod:`naiad_bo.campaign.executors`: ``SerialExecutor``,
``ProcessExecutor(workers)``, ``RayExecutor(num_cpus=workers)`` on a local cluster it starts).
Every executor's records are asserted equal to the serial ones (all columns but the ``*_s``
timings, same order). Wall time includes starting the workers / the Ray cluster.

CPU time, so that a loaded machine can be read: ``driver_cpu_s`` (this process),
``children_cpu_s`` (joined worker processes; Ray's workers are the raylet's children and are
not counted) and ``records_cpu_s`` (sum of the per-round process CPU seconds recorded inside
the jobs: the campaign work itself, wherever it ran). The load average before and after each
run is recorded, and ``projected_idle_speedup``: the jobs' measured CPU seconds
list-scheduled in submission order onto ``workers`` idle workers (total / makespan; start-up
not included), which a loaded machine cannot distort. Target (issue 12): >= 1.7x faster than
serial on 2 workers (wall, checked on the measured run).

Writes ``benchmarks/results/executor_speed.{json,csv,png}`` with provenance (``--quick``:
``benchmarks/quick_results/``). About 3-4 min on a quiet 2-core machine::

    python benchmarks/executor_speed.py                    # 4 seeds, 4 rounds, 2 workers
    python benchmarks/executor_speed.py --quick            # smoke run (< 1 min)
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo this script lives in
sys.path.insert(0, str(Path(__file__).resolve().parent))

from acquisition import GRID, SIZES  # noqa: E402
from provenance import output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

SCREEN = "norman2019"
LABELS = ("naiad", "linear", "sum")
TARGET_SPEEDUP = 1.7
TIMING = ("fit_s", "score_s", "select_s", "round_s", "fit_cpu_s", "score_cpu_s", "select_cpu_s",
          "round_cpu_s")


def build_jobs(seeds, rounds, naiad_options):
    """One job per (seed, surrogate label), seed-major as in ``acquisition.run_grid``."""
    import naiad_bo
    from naiad_bo.campaign import CampaignSimulator
    from naiad_bo.campaign.executors import CampaignJob
    from naiad_bo.specs import AcquisitionSpec

    screen = naiad_bo.load_screen(SCREEN)
    initial, batch = SIZES[SCREEN]
    sims = {}
    for label in LABELS:
        registry_name, _, _ = GRID[label]
        opts = dict(naiad_options) if registry_name == "naiad" else {}
        sims[label] = CampaignSimulator(screen, registry_name, initial=initial, batch=batch,
                                        rounds=rounds, surrogate_options=opts,
                                        surrogate_label=label)
    return [CampaignJob(sims[label], tuple(AcquisitionSpec.parse(a) for a in GRID[label][2]),
                        seed) for seed in seeds for label in LABELS]


def make(kind: str, workers: int):
    from naiad_bo.campaign.executors import make_executor

    return make_executor(kind, None if kind == "serial" else workers)


def timed_run(kind: str, workers: int, jobs) -> tuple[dict, pd.DataFrame]:
    from naiad_bo.campaign import CampaignResults

    load0 = os.getloadavg()[0]
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu0, t0 = time.process_time(), time.perf_counter()
    with make(kind, workers) as ex:
        out = ex.run(jobs, progress=True, desc=kind)
        name = repr(ex)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    results = CampaignResults()
    for res in out:
        results.extend(res)
    frame = results.to_frame()
    row = {
        "executor": kind, "executor_repr": name, "workers": 1 if kind == "serial" else workers,
        "jobs": len(jobs), "campaigns": len(results), "records": len(frame),
        "wall_s": wall, "driver_cpu_s": cpu,
        "children_cpu_s": (children.ru_utime + children.ru_stime)
        - (children0.ru_utime + children0.ru_stime),
        "records_cpu_s": _work(frame, "round_cpu_s"),
        "records_wall_s": _work(frame, "round_s"),
        "load_before": load0, "load_after": os.getloadavg()[0],
    }
    return row, frame


def _work(frame: pd.DataFrame, col: str) -> float:
    """Sum of ``col`` over the rounds run: round 0 is shared by a job's acquisitions (its
    record repeats per acquisition), so it counts once per (surrogate, seed)."""
    r0 = frame[frame["round"] == 0].drop_duplicates(["surrogate", "seed"])
    return float(frame.loc[frame["round"] > 0, col].sum() + r0[col].sum())


def job_cpu(frame: pd.DataFrame, jobs) -> list[float]:
    """Process CPU seconds of each job (its rounds, round 0 once), in job order."""
    out = []
    for job in jobs:
        f = frame[(frame["surrogate"] == job.simulator.surrogate_name)
                  & (frame["seed"] == job.seed)]
        out.append(_work(f, "round_cpu_s"))
    return out


def projected_makespan(costs: list[float], workers: int) -> float:
    """Makespan of ``costs`` list-scheduled in order onto ``workers`` idle workers (how the
    process pool and the Ray executor hand out jobs: next job to the first free worker)."""
    free = [0.0] * workers
    for c in costs:
        i = min(range(workers), key=free.__getitem__)
        free[i] += c
    return max(free)


def plot(table: pd.DataFrame, path: Path, title: str) -> None:
    from naiad_bo.plotting import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    g = table.groupby("executor", sort=False)
    mean = g[["wall_s", "records_cpu_s"]].mean()
    x = range(len(mean))
    ax.bar([i - 0.2 for i in x], mean["wall_s"], 0.38, label="wall s (incl. worker start)")
    ax.bar([i + 0.2 for i in x], mean["records_cpu_s"], 0.38,
           label="CPU s of the campaign work (all workers)")
    serial = mean.loc["serial", "wall_s"] if "serial" in mean.index else float("nan")
    for i, (_, r) in enumerate(mean.iterrows()):
        ax.text(i - 0.2, r["wall_s"], f"{serial / r['wall_s']:.2f}x", ha="center",
                va="bottom", fontsize=8)
    ax.set_xticks(list(x), [f"{k}\n({int(table.loc[table['executor'] == k, 'workers'].iloc[0])}"
                            " worker(s))" for k in mean.index])
    ax.axhline(serial / TARGET_SPEEDUP, color="C3", ls="--", lw=1,
               label=f"target: serial / {TARGET_SPEEDUP}")
    proj = g["projected_idle_makespan_s"].mean()
    ax.plot(list(x), proj.to_numpy(), "k_", ms=14, mew=2,
            label="projected wall on idle cores (from job CPU s)")
    ax.set_ylabel("seconds")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)
    save_png(fig, path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executors", nargs="+", default=["serial", "process", "ray"],
                        choices=["serial", "process", "ray"])
    parser.add_argument("--repeats", type=int, default=1,
                        help="interleaved repeats of the executor sequence")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 seeds, 2 rounds, 30 epochs")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    provenance()
    seeds, rounds, opts = args.seeds, args.rounds, {}
    if args.quick:
        seeds, rounds, opts = seeds[:2], min(rounds, 2), {"epochs": 30}
    jobs = build_jobs(seeds, rounds, opts)
    print(f"{len(jobs)} jobs ({SCREEN}, {', '.join(LABELS)}; seeds {seeds}, {rounds} rounds) "
          f"on {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)

    rows, reference = [], None
    for rep in range(args.repeats):
        for kind in args.executors:
            row, full = timed_run(kind, args.workers, jobs)
            row["repeat"] = rep
            costs = job_cpu(full, jobs)
            span = projected_makespan(costs, row["workers"])
            row["projected_idle_makespan_s"] = span
            row["projected_idle_speedup"] = sum(costs) / span
            frame = full.drop(columns=list(TIMING))
            if reference is None:
                reference = frame
            pd.testing.assert_frame_equal(frame, reference)  # same records, same order
            row["records_identical_to_first"] = True
            rows.append(row)
            print(f"  {kind:8s} {row['workers']} worker(s): {row['wall_s']:6.1f} s wall, "
                  f"{row['records_cpu_s']:6.1f} s CPU in jobs, driver {row['driver_cpu_s']:.1f}"
                  f" s, load {row['load_before']:.1f} -> {row['load_after']:.1f}; projected on "
                  f"idle cores {row['projected_idle_speedup']:.2f}x", flush=True)
    table = pd.DataFrame(rows)
    mean = table.groupby("executor", sort=False)["wall_s"].mean()
    speedups = {k: float(mean["serial"] / v) for k, v in mean.items()} if "serial" in mean \
        else {}
    checks = [{"check": f"{k} ({args.workers} workers) >= {TARGET_SPEEDUP}x faster than serial "
                        "(wall, incl. start-up)", "value": s, "pass": bool(s >= TARGET_SPEEDUP)}
              for k, s in speedups.items() if k != "serial"]
    results = output_dir(args.quick, args.out_dir)
    write_csv(table, results / "executor_speed.csv")
    load = max(table["load_before"].max(), table["load_after"].max())
    title = (f"{SCREEN} acquisition grid ({', '.join(LABELS)}), {len(seeds)} seeds x "
             f"{rounds} rounds, {len(jobs)} jobs, {os.cpu_count()} CPUs, max load {load:.1f}")
    plot(table, results / "executor_speed.png", title)
    write_json(results / "executor_speed.json", {
        "screen": SCREEN, "grid": {k: GRID[k][2] for k in LABELS}, "seeds": seeds,
        "rounds": rounds, "sizes": SIZES[SCREEN], "naiad_options": opts, "quick": args.quick,
        "workers": args.workers, "repeats": args.repeats, "jobs": len(jobs),
        "records_identical": True, "speedup_wall": speedups, "checks": checks,
        "rows": rows, "cpus": os.cpu_count(), "torch": torch.__version__,
        "python": platform.python_version(), "machine": platform.machine(),
        "projected_idle_speedup": {
            k: float(v) for k, v in
            table.groupby("executor", sort=False)["projected_idle_speedup"].mean().items()},
        "note": "wall includes starting the workers / Ray cluster; on a machine shared with "
                "other work (load_before / load_after) the wall-clock speed-up is bounded by "
                "the idle cores",
    }, indent=1, default=float)
    for c in checks:
        print(f"  [{'PASS' if c['pass'] else 'FAIL'}] {c['check']}: {c['value']:.2f}x")


if __name__ == "__main__":
    main()

"""Benchmark: one chunked pass over every pair of M genes, up to M = 20,000 (2 x 10^8 pairs).

For each M, a fresh subprocess (so that peak RSS belongs to that M alone) builds a
``PairSpace``, excludes 100,000 random "measured" pairs through a ``PairSet``, and then
  * times one full ``iter_chunks`` pass (default chunk size 2**18), touching every chunk;
  * repeats the pass under ``tracemalloc`` for the peak of traced (numpy) allocations;
  * times ``sample(10_000)`` (round-0 draw) and ``from_flat`` on 10^6 random flat indices;
  * records the peak RSS of the process (``ru_maxrss``, mostly the torch import) and its
    growth over the RSS after setup.
The point to check: memory stays flat in N while a materialised pair table (three int64
columns: flat, a, b) would need 24 bytes per pair (4.8 GB at M = 20,000).

Run: ``python benchmarks/pair_space.py [--genes 2000 5000 10000 20000] [--threads 1]``.
Writes ``benchmarks/results/pair_space.json`` and ``pair_space.png``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py

from provenance import output_dir, provenance, save_png, write_json  # noqa: E402

N_EXCLUDED = 100_000


def _one_pass(space, exclude, chunk_size) -> tuple[int, int]:
    n, checksum = 0, 0
    for flat, pairs in space.iter_chunks(chunk_size, exclude=exclude):
        n += len(flat)
        checksum += int(pairs[-1, 1])  # touch the data
    return n, checksum


def measure(n_genes: int, chunk_size: int, threads: int) -> dict:
    """Run in a child process; returns the numbers for one M."""
    torch.set_num_threads(threads)
    from naiad_bo.space import PairSet, PairSpace

    space = PairSpace(n_genes)
    rng = np.random.default_rng(0)
    exclude = PairSet(space, rng.choice(space.n_pairs, N_EXCLUDED, replace=False))

    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    t0 = time.perf_counter()
    n_yielded, _ = _one_pass(space, exclude, chunk_size)
    t_pass = time.perf_counter() - t0
    assert n_yielded == space.n_pairs - N_EXCLUDED, (n_yielded, space.n_pairs)

    tracemalloc.start()
    _one_pass(space, exclude, chunk_size)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    t0 = time.perf_counter()
    sample = space.sample(10_000, seed=1, exclude=exclude)
    t_sample = time.perf_counter() - t0
    assert len(np.unique(space.to_flat(sample.numpy()))) == 10_000

    flat = rng.integers(0, space.n_pairs, 1_000_000)
    t0 = time.perf_counter()
    pairs = space.from_flat(flat)
    t_from_flat = time.perf_counter() - t0
    assert np.array_equal(space.to_flat(pairs), flat)

    rss_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n_genes": n_genes,
        "n_pairs": space.n_pairs,
        "n_excluded": N_EXCLUDED,
        "chunk_size": chunk_size,
        "pass_seconds": t_pass,
        "pairs_per_second": n_yielded / t_pass,
        "traced_peak_mb": traced_peak / 2**20,
        "rss_before_pass_mb": rss_before_mb,
        "rss_peak_mb": rss_peak_mb,
        "rss_growth_mb": rss_peak_mb - rss_before_mb,
        "materialised_table_mb": space.n_pairs * 24 / 2**20,
        "sample_10k_seconds": t_sample,
        "from_flat_1e6_seconds": t_from_flat,
        "torch_threads": torch.get_num_threads(),
    }


def _child(args, queue):
    queue.put(measure(*args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, nargs="+", default=[2000, 5000, 10_000, 20_000])
    parser.add_argument("--chunk-size", type=int, default=2**18)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    provenance()  # the code's state when the run starts

    ctx = mp.get_context("spawn")
    rows = []
    for m in args.genes:
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=((m, args.chunk_size, args.threads), queue))
        proc.start()
        row = queue.get()
        proc.join()
        rows.append(row)
        print(
            f"M={m:>6,} pairs={row['n_pairs']:>12,}  pass {row['pass_seconds']:7.2f} s "
            f"({row['pairs_per_second'] / 1e6:6.1f} M pairs/s)  traced peak "
            f"{row['traced_peak_mb']:6.1f} MB  RSS peak {row['rss_peak_mb']:4.0f} MB "
            f"(+{row['rss_growth_mb']:3.0f} over setup)  "
            f"(materialised: {row['materialised_table_mb']:8.0f} MB)  sample(10k) "
            f"{row['sample_10k_seconds'] * 1e3:6.1f} ms  from_flat(1e6) "
            f"{row['from_flat_1e6_seconds'] * 1e3:6.1f} ms",
            flush=True,
        )

    meta = {
        "benchmark": "pair_space",
        "torch_threads": args.threads,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": mp.cpu_count(),
        "note": "wall times on a shared machine are noisy; memory is the robust number",
    }
    results = output_dir(False)
    out = write_json(results / "pair_space.json", {"meta": meta, "results": rows}, indent=2)
    print(f"threads={args.threads}; wrote {out}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = np.array([r["n_pairs"] for r in rows], dtype=float)
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
    ax_t.loglog(n, [r["pass_seconds"] for r in rows], "o-", label="one chunked pass")
    ax_t.loglog(n, n / (n[-1] / rows[-1]["pass_seconds"]), ":", c="grey", label="linear in N")
    ax_t.set(xlabel="pairs N", ylabel="seconds", title=f"iter_chunks, {args.threads} thread(s)")
    ax_t.legend()
    ax_m.loglog(n, [r["traced_peak_mb"] for r in rows], "o-", label="traced peak (numpy)")
    ax_m.loglog(n, [r["rss_peak_mb"] for r in rows], "s-", label="process RSS peak")
    ax_m.loglog(n, [r["materialised_table_mb"] for r in rows], "--", label="materialised table")
    ax_m.set(xlabel="pairs N", ylabel="MB", title="peak memory")
    ax_m.legend()
    png = save_png(fig, results / "pair_space.png")
    print(f"wrote {png}")


if __name__ == "__main__":
    main()

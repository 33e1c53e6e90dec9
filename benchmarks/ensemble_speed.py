"""Speed of NaiadEnsemble: batched fit + scoring all Horlbeck K562 pairs, vs the reference.

Issue target: fit a 5-member ensemble on 2,500 pairs for 100 full-batch epochs and score
all 100,576 K562 pairs >= 10x faster than the reference NAIAD code, whose members train one
after another: 5 x (2.3 s fit + 0.4 s scoring) = 13.5 s on one thread (anchors.md).

Measured per configuration (best and median of ``--repeats`` runs after one warm-up run,
which is reported too): fit and scoring wall time and process CPU time (the machine is
shared: CPU time is the fairer number), and the peak resident-memory increase over the
pre-fit baseline (``VmHWM`` of /proc/self/status, reset before each phase; tracemalloc does
not see torch's allocator). Also: scoring memory for several chunk sizes, each in a fresh
process (bounded memory), and float32-vs-float64 scoring agreement.

Usage: python benchmarks/ensemble_speed.py [--threads 1] [--repeats 3] [--quick]
Writes benchmarks/results/ensemble_speed.{json,png}.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import naiad_bo  # noqa: E402
from naiad_bo.models import NaiadEnsemble  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py
from provenance import output_dir, provenance, save_png, write_json  # noqa: E402

REFERENCE = {"fit_s": 5 * 2.3, "score_s": 5 * 0.4, "total_s": 13.5}
CONFIGS = {
    "default (H=256, float32)": {},
    "single_dim=64": {"single_dim": 64},
    "float64 compute": {"dtype": "float64"},
    "gelu": {"activation": "gelu"},
}


def _rss_kb() -> tuple[int, int]:
    """(current RSS, peak RSS since last reset) in kB, from /proc/self/status."""
    text = Path("/proc/self/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", text).group(1))
    hwm = int(re.search(r"VmHWM:\s+(\d+)", text).group(1))
    return rss, hwm


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:  # pragma: no cover - not Linux / not permitted
        return False


def _timed(fn):
    """Run fn(); return (result, wall s, cpu s, peak RSS increase MB)."""
    base, _ = _rss_kb()
    _reset_peak()
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    _, peak = _rss_kb()
    return out, wall, cpu, max(peak - base, 0) / 1024


def run_config(name, hp, se, P, Xtr, Ytr, repeats, epochs):
    runs = []
    for r in range(repeats + 1):  # run 0 = warm-up ("cold")
        model = NaiadEnsemble(se, seed=r, epochs=epochs, batch_size=None, **hp)
        _, fw, fc, fm = _timed(lambda m=model: m.fit(Xtr, Ytr))
        post, sw, sc, sm = _timed(lambda m=model: m.posterior(P.unsqueeze(-2)))
        _ = post.mean, post.variance
        runs.append(dict(fit_wall=fw, fit_cpu=fc, fit_peak_mb=fm,
                         score_wall=sw, score_cpu=sc, score_peak_mb=sm))
        print(f"  {name:26s} run {r}: fit {fw:.2f}s wall / {fc:.2f}s cpu, "
              f"score {sw:.3f}s / {sc:.3f}s, peak +{fm:.0f} / +{sm:.0f} MB", flush=True)
    warm = runs[1:]
    out = {"cold": runs[0], "runs": warm}
    for key in runs[0]:
        vals = [w[key] for w in warm]
        out[f"{key}_min"], out[f"{key}_median"] = min(vals), statistics.median(vals)
    for kind in ("wall", "cpu"):
        total = out[f"fit_{kind}_min"] + out[f"score_{kind}_min"]
        out[f"total_{kind}_min"] = total
        out[f"speedup_vs_reference_{kind}"] = REFERENCE["total_s"] / total
    out["embed_dim"], out["single_dim"] = model.embed_dim_, model.single_dim_
    return out, model


def _score_child(folder: str, chunk: int) -> None:
    """Subprocess: load the saved model, score all pairs once warm, print JSON timings."""
    model = NaiadEnsemble.load(Path(folder) / "model.pt")
    P = torch.load(Path(folder) / "pairs.pt")
    model.set_chunk_size(chunk)
    model(P[:10])  # warm the code path, not the memory
    _, wall, cpu, peak = _timed(lambda: model(P))
    print(json.dumps({"score_wall": wall, "score_cpu": cpu, "score_peak_mb": peak}))


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--_score-child":
        torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]))
        _score_child(sys.argv[2], int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-train", type=int, default=2500)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--quick", action="store_true", help="default config only, 1 repeat")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    provenance()  # the code's state when the run starts
    results_dir = output_dir(args.quick)
    configs = {k: CONFIGS[k] for k in list(CONFIGS)[:1]} if args.quick else CONFIGS
    repeats = 1 if args.quick else args.repeats

    screen = naiad_bo.load_screen("horlbeck2018_k562")
    P = torch.as_tensor(screen.pair_index().copy())
    Y = torch.as_tensor(screen.y_values().copy())
    idx = torch.as_tensor(np.random.default_rng(0).permutation(len(P))[: args.n_train])
    Xtr, Ytr = P[idx], Y[idx].unsqueeze(-1)
    print(f"K562: {screen.n_genes} genes, {len(P)} pairs; fit {args.n_train} pairs x "
          f"{args.epochs} epochs full-batch, 5 members; torch threads = {torch.get_num_threads()}")

    results, models = {}, {}
    for name, hp in configs.items():
        results[name], models[name] = run_config(
            name, hp, screen.single_effects, P, Xtr, Ytr, repeats, args.epochs
        )

    # bounded memory: scoring peak RSS per chunk size, each in a fresh process (a warm
    # process reuses freed heap, which hides the peak)
    model = models[next(iter(configs))]
    chunks = {}
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "model.pt")
        torch.save(P, Path(tmp) / "pairs.pt")
        for chunk in (1024, 8192, 65536, len(P)):
            out = subprocess.run(
                [sys.executable, __file__, "--_score-child", tmp, str(chunk),
                 "--threads", str(args.threads)],
                capture_output=True, text=True, check=True,
            )
            chunks[chunk] = json.loads(out.stdout.strip().splitlines()[-1])
            c = chunks[chunk]
            print(f"  chunk_size {chunk:6d}: score {c['score_wall']:.3f}s wall / "
                  f"{c['score_cpu']:.3f}s cpu, peak +{c['score_peak_mb']:.0f} MB (fresh process)")

    # float32 scoring agreement with float64 scoring of the same weights
    v32 = model.posterior(P).values.squeeze(-1)
    model.set_compute_dtype("float64")
    v64 = model.posterior(P).values.squeeze(-1)
    model.set_compute_dtype("float32")
    m32, m64 = v32.mean(0), v64.mean(0)
    k = 200
    top32 = set(torch.topk(-m32, k).indices.tolist())
    top64 = set(torch.topk(-m64, k).indices.tolist())
    agreement = {
        "max_abs_diff_members": float((v32 - v64).abs().max()),
        "y_std": float(Y.std()),
        "top200_overlap": len(top32 & top64),
    }
    print(f"  float32 vs float64 scoring: max |diff| {agreement['max_abs_diff_members']:.2e} "
          f"(y sd {agreement['y_std']:.3f}), top-200 overlap {agreement['top200_overlap']}/200")

    default = results[next(iter(configs))]
    print(f"\nreference {REFERENCE['total_s']:.1f}s; ours (default, best warm run): "
          f"{default['total_cpu_min']:.2f}s cpu -> {default['speedup_vs_reference_cpu']:.1f}x, "
          f"{default['total_wall_min']:.2f}s wall -> {default['speedup_vs_reference_wall']:.1f}x")

    payload = {
        "task": "fit 5-member NaiadEnsemble (2,500 K562 pairs, 100 epochs, full batch) + score "
        "all 100,576 K562 pairs",
        "reference_seconds": REFERENCE,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "n_train": args.n_train,
        "epochs": args.epochs,
        "configs": results,
        "scoring_chunks": chunks,
        "float32_vs_float64": agreement,
        "note": "shared 2-core machine: wall times include contention; CPU time is the "
        "process's own time on its single thread",
    }
    write_json(results_dir / "ensemble_speed.json", payload, indent=2)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    labels = ["reference\n(5 x sequential)", *[n.replace(" (", "\n(") for n in results]]
    fits = [REFERENCE["fit_s"], *[r["fit_cpu_min"] for r in results.values()]]
    scores = [REFERENCE["score_s"], *[r["score_cpu_min"] for r in results.values()]]
    ax = axes[0]
    ax.bar(labels, fits, label="fit (5 members)")
    ax.bar(labels, scores, bottom=fits, label="score 100,576 pairs")
    for i, (f, s) in enumerate(zip(fits, scores, strict=True)):
        ax.text(i, f + s, f"{f + s:.2f}s\n{REFERENCE['total_s'] / (f + s):.1f}x",
                ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(top=3 * REFERENCE["total_s"])
    ax.set_ylabel("seconds (CPU time, 1 thread; log)")
    ax.set_title("K562: fit 2,500 pairs x 100 epochs + score all pairs")
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax = axes[1]
    cs = list(chunks)
    ax.plot(cs, [chunks[c]["score_peak_mb"] for c in cs], "o-", label="peak RSS increase (MB)")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("chunk_size (pairs per scoring chunk)")
    ax.set_ylabel("MB")
    ax2 = ax.twinx()
    ax2.plot(cs, [chunks[c]["score_cpu"] for c in cs], "s--", color="C1", label="CPU s")
    ax2.set_ylabel("scoring CPU seconds")
    ax.set_title("scoring 100,576 pairs: memory and time vs chunk size (fresh process)")
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=8, loc="upper left")
    save_png(fig, results_dir / "ensemble_speed.png")
    print(f"wrote {results_dir / 'ensemble_speed.json'} and .png")


if __name__ == "__main__":
    main()

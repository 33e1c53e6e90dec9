"""Arithmetic floor of a default round's fit, against issue 12's per-round speed target.

Issue 12 asks for a default round at round 4 >= 15x faster than the reference implementation
(1 torch thread; reference 12.5 s on K562, 2.20 s on Norman, so <= 0.83 s / 0.147 s). Since
issue 11 the default surrogate is ``"naiad-reference"`` (the reference's member network, 5
members). This script measures what any implementation of that network and recipe must
spend per fit on this CPU, whatever its Python overhead, and compares it with the target:

* **the ``H x H`` products**: per optimiser step one forward and two backward batched
  products ``(s, b, H) x (s, H, H)`` of the second single-gene layer, timed alone at the
  step's batch sizes (``torch.bmm``, i.e. oneDNN / MKL at this core's float32 peak);
* **the dropout masks**: one uniform draw per hidden unit, pair and member per step (the
  model's own randomness: two ``(s, b, H)`` single-branch masks, three ``(s, b, p)``
  embedding-branch ones), timed alone;
* **the exact GELU**: forward and backward on the two ``(s, b, H)`` activations.

``floor`` is their sum times the recipe's steps (epochs x ceil(N / 1,024)); ``fit`` is the
model's real fit (:meth:`ReferenceNaiadEnsemble.fit` on N uniform measured pairs, without the
default variance calibration, which adds about one more fit's work), median of
``--repeats``. A floor above the target means the target cannot be met at this network,
recipe and precision on one CPU thread: only fewer steps, a narrower or smaller ensemble,
lower precision or other hardware would (each changes the results, see benchmarks/README.md
"The reference network is the default").

Usage: python benchmarks/step_floor.py [--repeats 3] [--quick]
Writes benchmarks/results/step_floor.{json,png} (``--quick``: quick_results, 1 repeat, 20
epochs).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py

import numpy as np  # noqa: E402
import torch  # noqa: E402
from provenance import output_dir, provenance, save_png, write_json  # noqa: E402

#: Reference seconds per round 4 (issue 12, measured beside ours, one thread).
REFERENCE_S = {"horlbeck2018_k562": 12.5, "norman2019": 2.20}
TARGET_SPEEDUP = 15.0
#: Measured pairs at round 4 of the paper's schedule (initial + 4 batches).
ROUND4_PAIRS = {"horlbeck2018_k562": 2500, "norman2019": 500}


def _median_s(fn, repeats: int) -> float:
    fn()  # warm-up (allocations, first-call costs)
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def _components(s: int, batches: list[int], H: int, p: int, repeats: int) -> dict[str, float]:
    """Seconds per optimiser step of the three irreducible parts (all batches of an epoch,
    divided by the number of batches)."""
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(s, H, H, generator=gen)
    acts = {b: torch.randn(s, b, H, generator=gen) for b in set(batches)}

    def matmuls():
        for b in batches:
            h, g = acts[b], acts[b]
            torch.bmm(h, w)  # forward
            torch.bmm(g, w.transpose(1, 2))  # d/d input
            torch.bmm(h.transpose(1, 2), g)  # d/d weight

    def masks():
        for b in batches:
            for shape in ((s, b, H), (s, b, H), (s, b, p), (s, b, p), (s, b, p)):
                torch.rand(shape, generator=gen)

    def gelus():
        for b in batches:
            h = acts[b].clone().requires_grad_(True)
            for _ in range(2):
                out = torch.nn.functional.gelu(h)
                torch.autograd.grad(out, h, acts[b])

    n_steps = len(batches)
    return {name: _median_s(fn, repeats) / n_steps
            for name, fn in (("hh_matmul", matmuls), ("dropout_masks", masks),
                             ("gelu", gelus))}


def measure(name: str, repeats: int, epochs: int | None) -> dict:
    import naiad_bo
    from naiad_bo.models.reference_naiad import ReferenceNaiadEnsemble

    screen = naiad_bo.load_screen(name)
    n = ROUND4_PAIRS[name]
    pairs = torch.as_tensor(screen.pair_index())
    y = torch.as_tensor(screen.y_values())
    idx = torch.as_tensor(np.random.default_rng(0).permutation(len(pairs))[:n])
    X, Y = pairs[idx], y[idx].unsqueeze(-1)

    def fit():
        # the main fit only: the default 2-fold variance calibration (two more fits on half
        # the pairs each, ~1x more) is not part of the floor
        model = ReferenceNaiadEnsemble(screen.single_effects, seed=0, epochs=epochs,
                                       variance_calibration=None)
        model.fit(X, Y)
        return model

    model = fit()
    bs = int(model.config.batch_size or n)
    batches = [min(bs, n - k * bs) for k in range(math.ceil(n / bs))]
    steps = model.epochs_ * len(batches)
    H, p, s = model.single_dim_, model.embed_dim_, model.ensemble_size
    fit_s = _median_s(fit, repeats)
    parts = _components(s, batches, H, p, repeats)
    flops = sum(3 * 2 * s * b * H * H for b in batches) / len(batches)
    floor_s = steps * sum(parts.values())
    target_s = REFERENCE_S[name] / TARGET_SPEEDUP
    return {
        "screen": name, "n_train": n, "members": s, "single_dim": H, "embed_dim": p,
        "batch_size": bs, "epochs": model.epochs_, "steps": steps,
        "fit_s": fit_s, "per_step_ms": 1e3 * fit_s / steps,
        **{f"{k}_ms_per_step": 1e3 * v for k, v in parts.items()},
        "hh_matmul_gflops": flops / parts["hh_matmul"] / 1e9,
        "floor_s": floor_s, "floor_fraction_of_fit": floor_s / fit_s,
        "reference_round_s": REFERENCE_S[name], "target_s": target_s,
        "floor_over_target": floor_s / target_s,
        "best_possible_speedup": REFERENCE_S[name] / floor_s,
    }


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(5 * len(rows), 4))
    for ax, r in zip(np.atleast_1d(axes), rows, strict=True):
        parts = [r["steps"] * r[f"{k}_ms_per_step"] / 1e3
                 for k in ("hh_matmul", "dropout_masks", "gelu")]
        bottom = 0.0
        for val, label in zip(parts, ("H x H products", "dropout masks", "exact GELU"),
                              strict=True):
            ax.bar(0, val, bottom=bottom, label=label)
            bottom += val
        ax.bar(1, r["fit_s"], color="grey", label="measured fit")
        ax.bar(2, r["reference_round_s"], color="black", label="reference round")
        ax.axhline(r["target_s"], color="red", ls="--", label="15x target (whole round)")
        ax.set_xticks([0, 1, 2], ["floor", "our fit", "reference"])
        ax.set_yscale("log")
        ax.set_ylabel("seconds (1 thread)")
        ax.set_title(f"{r['screen']}: N = {r['n_train']}, H = {r['single_dim']}, "
                     f"{r['steps']} steps")
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smoke run (quick_results)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    provenance()
    repeats, epochs = (1, 20) if args.quick else (args.repeats, None)
    rows = [measure(name, repeats, epochs) for name in ("horlbeck2018_k562", "norman2019")]
    out = output_dir(args.quick)
    write_json(out / "step_floor.json", {"rows": rows, "repeats": repeats,
                                         "torch_threads": torch.get_num_threads()}, indent=2)
    plot(rows, out / "step_floor.png")
    for r in rows:
        print(f"{r['screen']:18s} fit {r['fit_s']:6.2f} s ({r['steps']} steps, "
              f"{r['per_step_ms']:.1f} ms/step); floor {r['floor_s']:.2f} s "
              f"(H x H {r['hh_matmul_ms_per_step']:.2f} ms at {r['hh_matmul_gflops']:.0f} "
              f"GFLOPS, masks {r['dropout_masks_ms_per_step']:.2f}, GELU "
              f"{r['gelu_ms_per_step']:.2f}); target {r['target_s']:.3f} s "
              f"(reference {r['reference_round_s']} s / 15): floor = "
              f"{r['floor_over_target']:.1f}x the target")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

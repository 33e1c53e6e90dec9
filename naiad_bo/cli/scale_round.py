"""``naiad-bo scale-round``: one genome-scale round on a semi-synthetic screen.

Builds a :class:`~naiad_bo.data.synthetic.SyntheticPairScreen` (statistics of a bundled
screen), measures ``--train`` uniformly drawn pairs, fits the surrogate, scores every other
pair and writes the exact top-``--q`` library (:func:`naiad_bo.campaign.scale.run_scale_round`),
printing the time of each step and the peak memory. Heavy imports happen in :func:`run`.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers, parents=()) -> None:
    """Register ``scale-round``."""
    p = subparsers.add_parser(
        "scale-round", parents=list(parents),
        help="one round (fit, score every pair, select) on a synthetic genome-scale screen",
    )
    p.add_argument("--genes", type=int, default=20_000, help="genes M (default 20,000)")
    p.add_argument("--train", type=int, default=50_000, help="measured pairs (default 50,000)")
    p.add_argument("--q", type=int, default=10_000, help="library size (default 10,000)")
    p.add_argument("--source", default="horlbeck2018_k562",
                   help="bundled screen whose statistics are used")
    p.add_argument("--rank", type=int, default=8, help="rank of the gene factor model")
    p.add_argument("--noise-fraction", type=float, default=0.3,
                   help="share of the interaction variance that is pair-specific")
    p.add_argument("--seed", type=int, default=0, help="screen and campaign seed")
    p.add_argument("--surrogate", default="naiad", help="surrogate spec (default naiad)")
    p.add_argument("--acquisition", default="mpe", help="pointwise acquisition spec")
    p.add_argument("--workers", type=int, default=2,
                   help="forked scoring processes on the CPU (1 = serial)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (or auto)")
    p.add_argument("--out", metavar="LIBRARY.csv", help="write the library (id1, id2, ...)")
    p.add_argument("--json", metavar="OUT.json", help="write the timings and memory as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the round and report."""
    import numpy as np
    import torch

    from naiad_bo.campaign.scale import run_scale_round
    from naiad_bo.data import load_screen
    from naiad_bo.data.synthetic import SyntheticPairScreen, SyntheticScreenConfig

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    workers = args.workers if torch.device(device).type == "cpu" else 1
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    cfg = SyntheticScreenConfig(n_genes=args.genes, rank=args.rank,
                                noise_fraction=args.noise_fraction, seed=args.seed)
    screen = SyntheticPairScreen(cfg, source=load_screen(args.source))
    if args.train + args.q > screen.n_pairs:
        raise ValueError(f"--train {args.train:,} + --q {args.q:,} exceed the "
                         f"{screen.n_pairs:,} pairs of {args.genes:,} genes")
    result = run_scale_round(screen, args.train, args.q, surrogate=args.surrogate,
                             acquisition=args.acquisition, seed=args.seed, device=device,
                             threads=args.threads, workers=workers)
    if not args.quiet:
        print(f"screen   {screen.name}: {screen.n_genes:,} genes, {screen.n_pairs:,} pairs")
        print(f"fit      {result.fit_s:8.1f} s  ({result.n_train:,} pairs; CPU "
              f"{result.fit_cpu_s:.1f} s)")
        print(f"score    {result.score_s:8.1f} s  ({result.n_scored:,} pairs; CPU "
              f"{result.score_cpu_s:.1f} s, {workers} worker(s), {device})")
        print(f"select   {result.select_s:8.2f} s  ({result.q:,} pairs)")
        print(f"peak     {result.peak_rss_mb:8.0f} MiB (workers included <= "
              f"{result.footprint_mb:.0f} MiB)")
    if args.out:
        names = np.array(screen.genes, dtype=object)
        frame = result.batch.copy()
        frame.insert(0, "id2", names[frame["gene_b"].to_numpy()])
        frame.insert(0, "id1", names[frame["gene_a"].to_numpy()])
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        frame.to_csv(args.out, index=False)
    if args.json:
        from naiad_bo.cli.jsonout import write_json

        write_json(args.json, {"screen": screen.name, **result.as_dict()})
    return 0

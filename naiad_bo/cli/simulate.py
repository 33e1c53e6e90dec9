"""``naiad-bo simulate``: replay AI + lab campaigns on a measured screen.

Round 0 measures ``--initial`` pairs drawn uniformly; each of ``--rounds`` acquisition rounds
fits a fresh surrogate on everything measured so far and lets each ``--acquisition`` pick
``--batch`` new pairs (exact top-q over the remaining pairs). The screen itself is the
oracle. Prints top-k discovered (NAIAD paper definition) and true top-k measured per round,
mean +- s.e. over ``--seeds``, and optionally writes every record as JSON and a figure.

Example (the README's main job, about a minute on one thread)::

    naiad-bo simulate --screen norman2019 --surrogate naiad --acquisition mpe uniform \\
        --initial 100 --batch 100 --rounds 4 --seeds 0 1 --json out/sim.json --plot out/sim.png
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from naiad_bo.cli.executor_args import add_executor_arguments, executor_from_args
from naiad_bo.cli.screen_args import add_screen_arguments, screen_from_args
from naiad_bo.specs import DEFAULT_SURROGATE


def add_parser(subparsers, parents=()) -> None:
    """Register ``simulate``."""
    p = subparsers.add_parser(
        "simulate", parents=list(parents),
        help="simulate AI + lab campaigns on a measured screen (discovery per round)",
        description=__doc__.split("\n\n")[1],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_screen_arguments(p)
    p.add_argument("--surrogate", default=DEFAULT_SURROGATE, metavar="SPEC",
                   help="surrogate spec NAME[:KEY=VALUE,...]: naiad-reference, naiad (fast), "
                   "linear, sum, mlp, recover "
                   "(e.g. naiad:epochs=100,ensemble_size=3)")
    p.add_argument("--surrogate-option", action="append", default=[], metavar="KEY=VALUE",
                   help="surrogate option (repeatable), merged over the spec's: an alias of "
                   "--surrogate NAME:KEY=VALUE")
    p.add_argument("--acquisition", nargs="+", default=["mpe"], metavar="NAME",
                   help="one or more acquisitions to compare: mpe, ucb, variance, uniform, "
                   "bald, softbald, margin, thompson, optimistic; options as "
                   "NAME:key=value,... (e.g. mpe:max_per_gene=8, ucb:kappa=2)")
    p.add_argument("--initial", type=int, default=100, help="pairs measured in round 0")
    p.add_argument("--batch", type=int, default=100, help="pairs acquired per round (q)")
    p.add_argument("--rounds", type=int, default=4, help="acquisition rounds after round 0")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="campaign seeds")
    p.add_argument("--protocol", default="paper", choices=["paper", "prospective"],
                   help="paper: a test split (--test-frac) is never acquirable; prospective: "
                   "every pair can be acquired")
    p.add_argument("--test-frac", type=float, default=0.3,
                   help="held-out fraction of the paper protocol")
    p.add_argument("--top-k", type=int, default=200, help="k of the discovery metric")
    p.add_argument("--no-self-pairs", action="store_true",
                   help="leave out same-gene pairs (two guides against one gene): neither "
                   "candidates nor part of the true top-k (default: kept, as in the paper)")
    p.add_argument("--json", metavar="OUT.json", help="write every (seed, round) record")
    p.add_argument("--plot", metavar="OUT.png", help="discovery curves, mean +- s.e.")
    add_executor_arguments(p)
    p.set_defaults(func=run)


def _fmt(mean: float, se: float, digits: int = 1) -> str:
    if math.isnan(mean):
        return "-"
    if math.isnan(se):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def run(args: argparse.Namespace) -> int:
    """Run the campaigns, print the summary, write JSON / plot."""
    from naiad_bo.campaign import CampaignSimulator, PaperProtocol, ProspectiveProtocol
    from naiad_bo.specs import SurrogateSpec, parse_options

    executor = executor_from_args(args)  # bad flags fail before the screen is loaded
    protocol = (
        PaperProtocol(args.test_frac) if args.protocol == "paper" else ProspectiveProtocol()
    )
    screen = screen_from_args(args)
    for path in (args.json, args.plot):
        if path and not Path(path).resolve().parent.exists():
            Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
    surrogate = SurrogateSpec.parse(
        args.surrogate, parse_options(args.surrogate_option, "--surrogate-option")
    )
    sim = CampaignSimulator(
        screen,
        surrogate,
        initial=args.initial,
        batch=args.batch,
        rounds=args.rounds,
        protocol=protocol,
        top_k=args.top_k,
        progress=not args.quiet,
        self_pairs=not args.no_self_pairs,
    )
    with executor:
        results = sim.run_many(args.acquisition, args.seeds, executor=executor)

    frame = results.to_frame()
    summary = results.summary()
    k = sim.top_k
    cfg = sim.config()
    print(f"screen {cfg['screen']}: {cfg['n_genes']} genes, {cfg['n_pairs']:,} pairs; "
          f"protocol {protocol!r}: {cfg['n_acquirable']:,} acquirable, {cfg['n_test']:,} test")
    same = "left out" if args.no_self_pairs else "kept"
    print(f"surrogate {sim.surrogate_name}, same-gene pairs {same}, initial {sim.initial}, "
          f"{sim.rounds} rounds x "
          f"{sim.batch}, seeds {list(args.seeds)}, torch threads {cfg['torch_threads']}")
    print(f"\n{'acquisition':<22}{'round':>5}{'measured':>9}  {f'top-{k} discovered':>20}  "
          f"{f'true top-{k} measured':>22}  {'test RMSE':>9}  {'s/round':>8}")
    for _, r in summary.iterrows():
        print(f"{r['acquisition']:<22}{int(r['round']):>5}"
              f"{int(frame.loc[frame['round'] == r['round'], 'n_measured'].iloc[0]):>9}  "
              f"{_fmt(r['top_k_discovered_mean'], r['top_k_discovered_se']):>20}  "
              f"{_fmt(r['measured_top_k_mean'], r['measured_top_k_se']):>22}  "
              f"{_fmt(r['test_rmse_mean'], float('nan'), 4):>9}  "
              f"{r['round_s_mean']:>8.2f}")
    if sim.rounds >= 1:
        gains = results.marginal_gains()
        print(f"\nmarginal gain (P_{sim.rounds} - P_0) / {sim.rounds} of top-{k} discovered:")
        for _, g in gains.iterrows():
            print(f"  {g['acquisition']:<22}{_fmt(g['gain_mean'], g['gain_se'], 2)}")
    if args.json:
        from naiad_bo import __version__
        from naiad_bo.cli.jsonout import write_json

        acquired = []
        for res in results:
            pairs = res.acquired_pairs(screen)
            pairs.insert(0, "seed", res.config.get("seed"))
            pairs.insert(0, "acquisition", res.config.get("acquisition"))
            acquired.extend(pairs.to_dict(orient="records"))
        settings = {
            "command": "simulate", "naiad_bo_version": __version__,
            "screen": args.screen, "surrogate": args.surrogate,
            "surrogate_options": list(args.surrogate_option),
            "acquisition": list(args.acquisition), "initial": args.initial,
            "batch": args.batch, "rounds": args.rounds, "seeds": list(args.seeds),
            "protocol": args.protocol, "test_frac": args.test_frac, "top_k": args.top_k,
            "self_pairs": not args.no_self_pairs, "direction": screen.direction.value,
            "threads": args.threads, "executor": args.executor, "workers": executor.workers,
        }
        write_json(args.json, {"settings": settings, "config": cfg,
                               "records": results.to_records(), "acquired": acquired})
        print(f"\nsettings, records and {len(acquired):,} acquired pairs saved to {args.json}")
    if args.plot:
        path = results.plot(args.plot, title=f"{cfg['screen']}: {sim.surrogate_name} surrogate, "
                            f"{sim.initial} + {sim.rounds} x {sim.batch} pairs")
        print(f"plot saved to {path}")
    return 0

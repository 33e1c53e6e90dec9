"""``naiad-bo status``: where a stored lab campaign stands, in words."""

from __future__ import annotations

import argparse

from naiad_bo.cli.store_args import add_store_arguments, store_errors


def add_parser(subparsers, parents=()) -> None:
    """Register ``status``."""
    p = subparsers.add_parser("status", parents=list(parents),
                              help="rounds, measured and pending pairs, best pairs so far")
    add_store_arguments(p)
    p.add_argument("--top", type=int, default=10, help="how many best pairs to list")
    p.add_argument("--plot", metavar="OUT.png", help="save the discovery-over-rounds plot")
    p.set_defaults(func=run)


@store_errors
def run(args: argparse.Namespace) -> int:
    """Print the status."""
    from naiad_bo.ax.status import plot_discovery, status_text
    from naiad_bo.ax.storage import Store

    experiment, _ = Store(args.store, create=False).load(args.experiment)
    print(status_text(experiment, top=args.top))
    if args.plot:
        print(f"plot saved to {plot_discovery(experiment, args.plot)}")
    return 0

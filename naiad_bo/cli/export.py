"""``naiad-bo export``: archive a stored experiment as one JSON file."""

from __future__ import annotations

import argparse

from naiad_bo.cli.store_args import add_store_arguments, store_errors


def add_parser(subparsers, parents=()) -> None:
    """Register ``export``."""
    p = subparsers.add_parser("export", parents=list(parents),
                              help="write the experiment and generation strategy as JSON")
    add_store_arguments(p)
    p.add_argument("--out", required=True, metavar="FILE.json", help="output file")
    p.set_defaults(func=run)


@store_errors
def run(args: argparse.Namespace) -> int:
    """Export."""
    from naiad_bo.ax.storage import Store

    path = Store(args.store, create=False).export_json(args.out, args.experiment)
    if not args.quiet:
        print(f"exported experiment {args.experiment!r} to {path}")
    return 0

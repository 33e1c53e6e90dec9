"""``naiad-bo screens``: list the bundled screens."""

from __future__ import annotations

import argparse


def add_parser(subparsers, parents=()) -> None:
    """Register ``screens``."""
    p = subparsers.add_parser("screens", parents=list(parents),
                              help="list the bundled screens with sizes and citations")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run, uses_torch=False)


def run(args: argparse.Namespace) -> int:
    """List bundled screens."""
    from naiad_bo.data import list_screens

    table = list_screens()
    if args.json:
        print(table.to_json(orient="records", indent=2))
        return 0
    print(table[["name", "genes", "pairs", "rows", "title"]].to_string(index=False))
    print()
    for _, row in table.iterrows():
        print(f"{row['name']}: {row['citation']}")
    return 0

"""Entry point of the ``naiad-bo`` command: one module per sub-command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from naiad_bo import __version__

#: Sub-command modules under ``naiad_bo.cli``; each exposes ``add_parser(subparsers)``.
COMMANDS: tuple[str, ...] = ("screens", "describe", "simulate", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (sub-commands registered from :data:`COMMANDS`)."""
    parser = argparse.ArgumentParser(
        prog="naiad-bo",
        description="Bayesian optimisation over combinatorial CRISPR gene pairs "
        "(NAIAD on BoTorch).",
    )
    parser.add_argument("--version", action="version", version=f"naiad-bo {__version__}")
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("NAIAD_BO_THREADS", "1")),
        help="torch CPU threads (default 1, fastest on small shared machines; "
        "env NAIAD_BO_THREADS)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"naiad_bo.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    import torch

    torch.set_num_threads(args.threads)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as err:
        print(f"naiad-bo {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

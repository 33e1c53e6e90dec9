"""Entry point of the ``naiad-bo`` command: one module per sub-command."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from naiad_bo import __version__

#: Sub-command modules under ``naiad_bo.cli``; each exposes
#: ``add_parser(subparsers, parents)`` (``parents``: the options every command shares) and
#: imports nothing heavy at module level (heavy imports live in its ``run``). A command that
#: never touches torch sets the parser default ``uses_torch=False``, so ``main`` does not
#: import torch to set its thread count.
COMMANDS: tuple[str, ...] = (
    "screens", "describe", "simulate", "evaluate", "recommend", "status", "export",
    "scale_round",
)
#: Environment variable with the default torch thread count.
THREADS_ENV = "NAIAD_BO_THREADS"


def _common_parent(top_level: bool) -> argparse.ArgumentParser:
    """Options every command accepts, before or after the sub-command name."""
    p = argparse.ArgumentParser(add_help=False)
    default = None if top_level else argparse.SUPPRESS
    p.add_argument(
        "--threads", type=int, default=default, metavar="N",
        help=f"torch CPU threads (default 1, fastest on small shared machines; env "
        f"{THREADS_ENV})",
    )
    p.add_argument("--quiet", action="store_true", default=False if top_level else
                   argparse.SUPPRESS, help="no progress bars or chatter")
    return p


def _threads(value: int | None) -> int:
    """``--threads``, else ``NAIAD_BO_THREADS``, else 1 (one-line errors for bad values)."""
    if value is None:
        raw = os.environ.get(THREADS_ENV, "").strip()
        if not raw:
            return 1
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{THREADS_ENV}={raw!r} is not an integer") from None
        if value < 1:
            raise ValueError(f"{THREADS_ENV}={raw!r} must be >= 1")
        return value
    if value < 1:
        raise ValueError(f"--threads must be >= 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (sub-commands registered from :data:`COMMANDS`)."""
    parser = argparse.ArgumentParser(
        prog="naiad-bo",
        description="Bayesian optimisation over combinatorial CRISPR gene pairs "
        "(NAIAD on BoTorch).",
        parents=[_common_parent(True)],
    )
    parser.add_argument("--version", action="version", version=f"naiad-bo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common_parent(False)
    for name in COMMANDS:
        importlib.import_module(f"naiad_bo.cli.{name}").add_parser(sub, parents=[common])
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        threads = _threads(args.threads)
    except ValueError as err:
        print(f"naiad-bo {args.command}: error: {err}", file=sys.stderr)
        return 2
    # a command that needs no torch does not load it (but sets it if already loaded)
    if getattr(args, "uses_torch", True) or "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
    args.threads = threads
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, KeyError) as err:
        message = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
        first = message.strip().splitlines()[0] if message.strip() else repr(err)
        print(f"naiad-bo {args.command}: error: {first}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

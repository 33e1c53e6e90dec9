"""Screen-reading options shared by every sub-command that takes a screen."""

from __future__ import annotations

import argparse


def add_screen_arguments(p: argparse.ArgumentParser, *, positional: bool = False) -> None:
    """Add the screen (bundled name or file) and the options to read a user's file."""
    help_ = "bundled screen name (norman2019, horlbeck2018_k562) or an id1,id2,score CSV/TSV"
    if positional:
        p.add_argument("screen", metavar="SCREEN_OR_CSV", help=help_)
    else:
        p.add_argument("--screen", required=True, metavar="NAME_OR_CSV", help=help_)
    g = p.add_argument_group("reading a screen file")
    g.add_argument("--control", action="append", default=None, metavar="NAME",
                   help="control name whose rows give single-gene effects; repeat for several "
                   "names of one control (--control non-targeting --control NTC; default: "
                   "negative)")
    g.add_argument("--drop-invalid-scores", action="store_true",
                   help="drop rows with a missing or non-numeric score (counted) instead of "
                   "stopping with an error")
    g.add_argument("--id1-col", default="id1", help="first gene column (default: id1)")
    g.add_argument("--id2-col", default="id2", help="second gene column (default: id2)")
    g.add_argument("--score-col", default="score", help="score column (default: score)")
    g.add_argument("--direction", default=None, choices=["minimize", "maximize", "abs"],
                   help="which phenotype is strong (default: minimize, most negative)")
    g.add_argument("--normalize-symbols", action="store_true",
                   help="map outdated gene symbols to current NCBI symbols, report renames")


def screen_from_args(args: argparse.Namespace):
    """Load the screen named by :func:`add_screen_arguments`' options."""
    from naiad_bo.data import SCREENS, resolve_screen

    kwargs = {}
    if getattr(args, "drop_invalid_scores", False):
        kwargs["drop_invalid_scores"] = True
    if args.direction:
        kwargs["direction"] = args.direction
    if args.normalize_symbols:
        kwargs["normalize_symbols"] = True
    if args.screen not in SCREENS:
        control = args.control or ["negative"]
        kwargs.update(control=control[0] if len(control) == 1 else control,
                      id1_col=args.id1_col, id2_col=args.id2_col, score_col=args.score_col)
    try:
        return resolve_screen(args.screen, **kwargs)
    except ValueError as err:
        raise ValueError(flag_names(str(err))) from None


#: Python keyword hints of the loader's messages -> the flags that set them.
_FLAG_HINTS = {
    "drop_invalid_scores=True": "--drop-invalid-scores",
    "control=NAME": "--control NAME",
    "id1_col/id2_col/score_col": "--id1-col/--id2-col/--score-col",
    "normalize_symbols=True": "--normalize-symbols",
}


def flag_names(message: str) -> str:
    """A loader message with its Python keyword hints replaced by command-line flags."""
    for keyword, flag in _FLAG_HINTS.items():
        message = message.replace(keyword, flag)
    return message

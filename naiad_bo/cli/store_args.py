"""Store options shared by ``recommend``, ``status`` and ``export``."""

from __future__ import annotations

import argparse


def add_store_arguments(p: argparse.ArgumentParser) -> None:
    """``--store URL`` and ``--experiment NAME``."""
    p.add_argument("--store", default=None, metavar="URL",
                   help="SQLAlchemy URL (postgresql+psycopg://user@host/db) or SQLite file path "
                   "(default: naiad_bo.sqlite in the working directory)")
    p.add_argument("--experiment", default="campaign", metavar="NAME",
                   help="experiment name in the store (default: campaign)")


def store_errors(func):
    """Turn store / format errors into the one-line ``ValueError`` the CLI prints."""
    import functools

    @functools.wraps(func)
    def wrapper(args):
        from naiad_bo.ax import ExperimentFormatError, StoreError

        try:
            return func(args)
        except (StoreError, ExperimentFormatError) as err:
            raise ValueError(str(err)) from None

    return wrapper

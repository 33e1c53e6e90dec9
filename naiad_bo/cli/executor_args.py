"""``--executor`` / ``--workers`` / ``--ray-address``: where campaign jobs run.

The names map to executor classes in :func:`naiad_bo.campaign.executors.make_executor`
(imported only when a command runs, so ``--help`` loads no torch and no ray).
"""

from __future__ import annotations

import argparse

#: ``--executor`` choices: the keys of :data:`naiad_bo.campaign.executors.EXECUTORS`.
EXECUTOR_CHOICES: tuple[str, ...] = ("serial", "process", "ray")


def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    """Register the executor options on ``p``."""
    g = p.add_argument_group("executor (one job per seed; same records whatever the executor)")
    g.add_argument("--executor", default="serial", choices=EXECUTOR_CHOICES,
                   help="serial: in this process; process: local worker processes; ray: Ray "
                   "tasks on a local cluster or --ray-address (pip install \"naiad-bo[ray]\")")
    g.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes / Ray CPUs (default: the CPUs available; with "
                   "--ray-address: at most N jobs at once)")
    g.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="existing Ray cluster to run on (e.g. auto, ray://host:10001)")


def executor_from_args(args: argparse.Namespace):
    """The :class:`~naiad_bo.campaign.executors.Executor` of the parsed options."""
    from naiad_bo.campaign.executors import make_executor

    return make_executor(args.executor, args.workers, args.ray_address)

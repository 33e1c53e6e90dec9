"""Gene-subsampled screens: a protocol for tuning defaults that cannot overfit one screen.

A screen restricted to a random subset of its genes keeps every measured pair among those
genes and their single effects, but it changes which genes are hubs and which pairs are the
strongest, so a default tuned on several such subsets of several screens is less likely to be
a property of one screen's top pairs (issue 11, "robust defaults"; ``benchmarks/
robust_defaults.py``). The subset of :math:`m = \\mathrm{round}(f M)` genes is drawn uniformly
without replacement from the screen's :math:`M` genes by ``numpy.random.default_rng(seed)``;
the kept genes stay in their original order and are renumbered ``0 .. m - 1``. A complete
screen stays complete (all :math:`m (m + 1) / 2` unordered pairs, same-gene pairs included,
when the original has them), with about :math:`f^2` of the original pairs.
"""

from __future__ import annotations

import math

import numpy as np

from naiad_bo.data.screen import PairScreen

__all__ = ["MIN_SUBSET_GENES", "subsample_genes", "subsampled_screens"]

MIN_SUBSET_GENES = 3
"""Fewest genes a subset may keep (a campaign needs at least 3, ``naiad_bo.campaign``)."""


def subsample_genes(screen: PairScreen, fraction: float = 0.6, *, seed: int) -> PairScreen:
    """The screen restricted to a random ``fraction`` of its genes.

    Args:
        screen: A :class:`~naiad_bo.PairScreen` with ``M`` genes.
        fraction: Share of genes kept, in ``(0, 1]``; ``m = round(fraction * M)`` genes.
        seed: Seed of ``numpy.random.default_rng`` that draws the subset (required: the
            subset is part of the experiment's design, so it is always explicit).

    Returns:
        A new screen with ``m`` genes (original order, renumbered), every pair of the
        original screen whose two genes are both kept (``y``, ``n_obs``, ``sd`` unchanged),
        the kept genes' single effects, and the same direction and control; its ``name`` is
        ``f"{screen.name}/sub{round(100 * fraction)}-{seed}"`` and its ``metadata`` records
        ``subsample = {"parent", "fraction", "seed", "n_genes"}``.

    Raises:
        ValueError: ``fraction`` outside ``(0, 1]`` or not finite, or fewer than
            :data:`MIN_SUBSET_GENES` genes kept.
        TypeError: ``seed`` not an integer.
    """
    fraction = float(fraction)
    if not math.isfinite(fraction) or not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    n_keep = int(round(fraction * screen.n_genes))
    if n_keep < MIN_SUBSET_GENES:
        raise ValueError(
            f"fraction {fraction} of {screen.n_genes} genes keeps {n_keep}; at least "
            f"{MIN_SUBSET_GENES} are needed"
        )
    rng = np.random.default_rng(int(seed))
    keep = np.sort(rng.choice(screen.n_genes, n_keep, replace=False))
    sub = screen.subset_genes([screen.genes[i] for i in keep])
    sub.name = f"{screen.name}/sub{round(100 * fraction)}-{int(seed)}"
    sub.metadata = {
        **screen.metadata,
        "subsample": {"parent": screen.name, "fraction": fraction, "seed": int(seed),
                      "n_genes": n_keep},
    }
    return sub


def subsampled_screens(
    screen: PairScreen, seeds, fraction: float = 0.6
) -> list[PairScreen]:
    """:func:`subsample_genes` once per seed (one subset each)."""
    return [subsample_genes(screen, fraction, seed=int(s)) for s in seeds]

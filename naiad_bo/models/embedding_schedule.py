"""NAIAD's adaptive gene-embedding size (paper section 3.2, appendix F.1, Table 5).

The embedding dimension grows with the average number of times each gene occurs in the
training pairs, ``2N / M`` (``N`` training pairs, ``M`` genes; the factor 2 because each
pair holds two genes). The paper tuned two tables:

====================================  ===  ===  ===  ===  ===  ===  ===  ===  ====
average occurrence 2N/M                2    4   10   20   30   40   60   80  100+
====================================  ===  ===  ===  ===  ===  ===  ===  ===  ====
:data:`NORMAN_SIMPSON` embed dim       2    4   16   16   32   64   64  128  128
:data:`HORLBECK` embed dim             4   16   32   32   64   64   64  128  128
====================================  ===  ===  ===  ===  ===  ===  ===  ===  ====

Lookup rule: the entry of the largest threshold not above ``2N/M`` (occurrences below the
first threshold use the first entry).

Default rule (:func:`default_schedule`): screens with at most 200 genes (Norman, 112)
use :data:`NORMAN_SIMPSON`, larger ones (Horlbeck, 448) use :data:`HORLBECK`. The paper
used the Norman table for Simpson (543 genes) too: pass ``schedule="norman_simpson"`` to
reproduce that, or fix ``embed_dim`` outright.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass


@dataclass(frozen=True)
class EmbeddingSchedule:
    """A step function from average gene occurrence ``2N/M`` to embedding dimension.

    Attributes:
        name: registry name.
        occurrences: increasing thresholds of ``2N/M``.
        dims: embedding dimension from each threshold on.
    """

    name: str
    occurrences: tuple[float, ...]
    dims: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.occurrences) != len(self.dims) or not self.dims:
            raise ValueError("occurrences and dims must be non-empty and of equal length")
        if list(self.occurrences) != sorted(set(self.occurrences)):
            raise ValueError("occurrences must be strictly increasing")
        if any(int(d) != d or d < 1 for d in self.dims):
            raise ValueError("dims must be positive integers")

    def embed_dim(self, n_train: int, n_genes: int) -> int:
        """Embedding dimension for ``n_train`` training pairs over ``n_genes`` genes."""
        occ = average_gene_occurrence(n_train, n_genes)
        i = bisect.bisect_right(self.occurrences, occ) - 1
        return int(self.dims[max(i, 0)])


def average_gene_occurrence(n_train: int, n_genes: int) -> float:
    """The paper's ``2N / M``: how often each gene is seen in ``n_train`` pairs on average."""
    if n_genes < 1:
        raise ValueError(f"n_genes must be >= 1, got {n_genes}")
    if n_train < 0:
        raise ValueError(f"n_train must be >= 0, got {n_train}")
    return 2.0 * n_train / n_genes


_THRESHOLDS = (2, 4, 10, 20, 30, 40, 60, 80, 100)

NORMAN_SIMPSON = EmbeddingSchedule(
    "norman_simpson", _THRESHOLDS, (2, 4, 16, 16, 32, 64, 64, 128, 128)
)
"""Table 5, Norman and Simpson rows."""

HORLBECK = EmbeddingSchedule("horlbeck", _THRESHOLDS, (4, 16, 32, 32, 64, 64, 64, 128, 128))
"""Table 5, Horlbeck row."""

SCHEDULES: dict[str, EmbeddingSchedule] = {s.name: s for s in (NORMAN_SIMPSON, HORLBECK)}

SMALL_SCREEN_MAX_GENES = 200
"""Screens with at most this many genes count as "small" (Norman-like) by default."""


def default_schedule(n_genes: int) -> EmbeddingSchedule:
    """:data:`NORMAN_SIMPSON` for <= 200 genes, else :data:`HORLBECK` (see module doc)."""
    return NORMAN_SIMPSON if n_genes <= SMALL_SCREEN_MAX_GENES else HORLBECK


def get_schedule(schedule: str | EmbeddingSchedule, n_genes: int) -> EmbeddingSchedule:
    """Resolve ``"auto"``, a registered name, or an :class:`EmbeddingSchedule`."""
    if isinstance(schedule, EmbeddingSchedule):
        return schedule
    if schedule == "auto":
        return default_schedule(n_genes)
    try:
        return SCHEDULES[schedule]
    except (KeyError, TypeError):
        names = ", ".join(["auto", *SCHEDULES])
        raise ValueError(
            f"unknown embedding schedule {schedule!r}; expected one of: {names}"
        ) from None

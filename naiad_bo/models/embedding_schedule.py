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

Reading of the table (the lookup rule). The paper keys the table by 2N/M "roughly" and also
lists an approximate training-set size per row (Norman 100, 200, 500, 1000, 1500, 2000, 3000,
4000, 5000+; Simpson and Horlbeck 500, 1000, 5000, 10000, 15000, ...; :data:`TABLE5_SIZES`).
The two columns disagree: at the size column's own sizes 2N/M is just *below* each
threshold on Norman (M = 112: 1.8, 3.6, 8.9, 17.9, ...) but up to 2.2x *above* it on Horlbeck
(M = 448: 2.2, 4.5, 22, 45, ...). The readings, all available, with their embedding dims on
the paper's campaigns (Norman 100 + 4 x 100 pairs / K562 500 + 4 x 500, rounds 0-4):

* **floor** (:attr:`LookupRule.FLOOR`; :data:`NORMAN_SIMPSON`, :data:`HORLBECK`; **the
  rule**): the entry of the largest threshold not above 2N/M (below the first threshold:
  the first entry). Campaign dims 2, 2, 4, 4, 4 / 4, 16, 16, 16, 32;
* **nearest** (:attr:`LookupRule.NEAREST`; :data:`NORMAN_SIMPSON_NEAREST`,
  :data:`HORLBECK_NEAREST`): the threshold nearest to 2N/M on a log scale (the thresholds
  are roughly geometric); at Norman's size column it returns each row's own dim. Campaign
  dims 2, 4, 4, 16, 16 / 4, 16, 32, 32, 32;
* **size column** (:func:`size_column_schedule`; :data:`NORMAN_SIZE_COLUMN`,
  :data:`HORLBECK_SIZE_COLUMN`): row ``i`` from ``2N/M = 2 n_i / M_t`` on, ``n_i`` the row's
  listed size and ``M_t`` the table's own screen's genes, i.e. exactly the listed sizes on
  Norman / Horlbeck and the same occurrences elsewhere. Campaign dims 2, 4, 4, 4, 16 / 4,
  16, 16, 16, 16;
* **the reference implementation's fixed dims per round** (:data:`REFERENCE_ROUND_DIMS`,
  :func:`round_schedule`): 2, 4, 4, 8, 16 / 2, 8, 8, 16, 32, which is no reading of the table.

Settled on gene-subsampled screens (``benchmarks/robust_defaults.py``; NAIAD + MPE
campaigns on 60% gene subsets of both bundled screens with round sizes scaled so that each
round's 2N/M is the paper campaign's; round-4 top-72 discovered, paired by subset and seed,
minus floor; tuning: 4 subsets x 4 seeds per screen; confirmation: 4 fresh subsets x 3 fresh
seeds, and the full screens on 3 fresh seeds):

* nearest: tuning Norman +2.0 +- 0.4, K562 -0.2 +- 0.4; confirmation +1.8 +- 0.6 /
  -0.2 +- 0.6: better on Norman only;
* size column: tuning Norman +0.9 +- 0.4, K562 +0.4 +- 0.5; confirmation Norman
  +0.9 +- 0.5, K562 -0.1 +- 0.5 (full screens, top-200: Norman +6.3 +- 2.7, K562
  -0.3 +- 1.2): a gain on Norman only, not confirmed on K562;
* reference dims: tuning Norman +0.6 +- 0.5, K562 -0.1 +- 0.4; confirmation +0.8 +- 0.8 /
  +0.5 +- 0.4: not better on K562 in tuning.

So **floor stays the rule**: no other reading beats it on both screens, and floor is what
Table 1 was measured with (at 2N/M = 4, 10 and 20 floor and nearest agree exactly; the size
column would change K562's Table-1 embeddings: 4 instead of 16 at 2N/M = 4). Where floor
loses: Norman-like screens (<= 200 genes), where the size-column reading found about one
more top-72 pair per campaign on subsets; ``schedule="norman_size_column"`` selects it.

Default rule (:func:`default_schedule`): screens with at most 200 genes (Norman, 112)
use :data:`NORMAN_SIMPSON`, larger ones (Horlbeck, 448) use :data:`HORLBECK`. The paper
used the Norman table for Simpson (543 genes) too: pass ``schedule="norman_simpson"`` to
reproduce that, or fix ``embed_dim`` outright.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from enum import Enum


class LookupRule(Enum):
    """How an :class:`EmbeddingSchedule` maps 2N/M onto its rows (module docstring)."""

    FLOOR = "floor"
    """The row of the largest threshold not above 2N/M (first row below the first)."""
    NEAREST = "nearest"
    """The row whose threshold is nearest to 2N/M on a log scale (ties: the lower row)."""


@dataclass(frozen=True)
class EmbeddingSchedule:
    """A step function from average gene occurrence ``2N/M`` to embedding dimension.

    Attributes:
        name: registry name.
        occurrences: increasing thresholds of ``2N/M`` (positive).
        dims: embedding dimension of each row.
        rule: How ``2N/M`` selects a row (:class:`LookupRule`, default floor).
    """

    name: str
    occurrences: tuple[float, ...]
    dims: tuple[int, ...]
    rule: LookupRule = LookupRule.FLOOR

    def __post_init__(self) -> None:
        if len(self.occurrences) != len(self.dims) or not self.dims:
            raise ValueError("occurrences and dims must be non-empty and of equal length")
        if list(self.occurrences) != sorted(set(self.occurrences)):
            raise ValueError("occurrences must be strictly increasing")
        if any(int(d) != d or d < 1 for d in self.dims):
            raise ValueError("dims must be positive integers")
        if not isinstance(self.rule, LookupRule):
            raise TypeError(f"rule must be a LookupRule, got {self.rule!r}")
        if self.rule is LookupRule.NEAREST and self.occurrences[0] <= 0:
            raise ValueError("the nearest-row rule needs positive thresholds (log scale)")

    def row(self, n_train: int, n_genes: int) -> int:
        """Index of the table row used for ``n_train`` pairs over ``n_genes`` genes."""
        occ = average_gene_occurrence(n_train, n_genes)
        i = max(bisect.bisect_right(self.occurrences, occ) - 1, 0)
        if self.rule is LookupRule.NEAREST and occ > 0 and i + 1 < len(self.occurrences):
            lo, hi = self.occurrences[i], self.occurrences[i + 1]
            if occ >= lo and math.log(hi / occ) < math.log(occ / lo):
                i += 1
        return i

    def embed_dim(self, n_train: int, n_genes: int) -> int:
        """Embedding dimension for ``n_train`` training pairs over ``n_genes`` genes."""
        return int(self.dims[self.row(n_train, n_genes)])


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

NORMAN_SIMPSON_NEAREST = EmbeddingSchedule(
    "norman_simpson_nearest", _THRESHOLDS, NORMAN_SIMPSON.dims, LookupRule.NEAREST
)
"""Table 5, Norman and Simpson rows, nearest-row reading."""

HORLBECK_NEAREST = EmbeddingSchedule(
    "horlbeck_nearest", _THRESHOLDS, HORLBECK.dims, LookupRule.NEAREST
)
"""Table 5, Horlbeck row, nearest-row reading."""

#: Table 5's "approx. training dataset size" column per data set (one size per row).
TABLE5_SIZES: dict[str, tuple[int, ...]] = {
    "norman": (100, 200, 500, 1000, 1500, 2000, 3000, 4000, 5000),
    "simpson": (500, 1000, 5000, 10000, 15000, 20000, 30000, 40000, 50000),
    "horlbeck": (500, 1000, 5000, 10000, 15000, 20000, 30000, 40000, 50000),
}

#: The reference implementation's fixed embedding dims per campaign round 0..4 (anchors.md:
#: Norman 100 + 4 x 100 pairs, Horlbeck 500 + 4 x 500). No reading of Table 5 gives them.
REFERENCE_ROUND_DIMS: dict[str, tuple[int, ...]] = {
    "norman": (2, 4, 4, 8, 16),
    "horlbeck": (2, 8, 8, 16, 32),
}


#: Genes of the screen behind each Table 5 size column (Norman 112, Simpson 543, Horlbeck 448).
TABLE5_GENES: dict[str, int] = {"norman": 112, "simpson": 543, "horlbeck": 448}


def size_column_schedule(table: str) -> EmbeddingSchedule:
    """Table 5 read by its size column, carried to any screen through ``2N/M``.

    Row ``i`` applies from ``2N/M = 2 n_i / M_t`` on, where ``n_i`` is the row's size in
    :data:`TABLE5_SIZES` and ``M_t`` the gene count of the table's own screen
    (:data:`TABLE5_GENES`): on that screen row ``i`` starts exactly at ``n_i`` training
    pairs (first row below the first size), on another screen at the same average gene
    occurrence (floor rule on these thresholds).

    Args:
        table: ``"norman"`` (Norman and Simpson dims, Norman sizes), ``"simpson"`` (same
            dims, Simpson sizes) or ``"horlbeck"``.
    """
    if table not in TABLE5_SIZES:
        raise ValueError(f"unknown Table 5 data set {table!r}; expected one of "
                         f"{', '.join(TABLE5_SIZES)}")
    dims = HORLBECK.dims if table == "horlbeck" else NORMAN_SIMPSON.dims
    occ = tuple(average_gene_occurrence(n, TABLE5_GENES[table]) for n in TABLE5_SIZES[table])
    return EmbeddingSchedule(f"{table}_size_column", occ, dims)


def round_schedule(
    dims: tuple[int, ...], initial: int, batch: int, n_genes: int
) -> EmbeddingSchedule:
    """Fixed embedding dims per campaign round, as a floor schedule on ``2N/M``.

    Round ``r`` of a campaign of ``initial + r * batch`` measured pairs gets ``dims[r]``
    (the last entry beyond the last round), which is how the reference implementation set
    its embeddings (:data:`REFERENCE_ROUND_DIMS`); thresholds are
    ``2 (initial + r * batch) / M``.

    Args:
        dims: Embedding dim of rounds ``0 .. len(dims) - 1``.
        initial: Pairs measured in round 0 (``>= 1``).
        batch: Pairs added per round (``>= 1``).
        n_genes: ``M`` of the screen.
    """
    if initial < 1 or batch < 1:
        raise ValueError(f"initial and batch must be >= 1, got {initial}, {batch}")
    occ = tuple(average_gene_occurrence(initial + r * batch, n_genes) for r in range(len(dims)))
    return EmbeddingSchedule("round_dims", occ, tuple(int(d) for d in dims))


NORMAN_SIZE_COLUMN = size_column_schedule("norman")
"""Table 5, Norman and Simpson rows, keyed by the Norman size column (2N/M = 2 n_i / 112)."""

HORLBECK_SIZE_COLUMN = size_column_schedule("horlbeck")
"""Table 5, Horlbeck row, keyed by its size column (2N/M = 2 n_i / 448)."""

SCHEDULES: dict[str, EmbeddingSchedule] = {
    s.name: s
    for s in (NORMAN_SIMPSON, HORLBECK, NORMAN_SIMPSON_NEAREST, HORLBECK_NEAREST,
              NORMAN_SIZE_COLUMN, HORLBECK_SIZE_COLUMN)
}

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

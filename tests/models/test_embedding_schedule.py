"""Adaptive embedding size: the paper's Table 5 step functions and the default rule."""

from __future__ import annotations

import pytest

from naiad_bo.models.embedding_schedule import (
    HORLBECK,
    NORMAN_SIMPSON,
    EmbeddingSchedule,
    average_gene_occurrence,
    default_schedule,
    get_schedule,
)


def _dim_at(schedule: EmbeddingSchedule, occurrence: float, n_genes: int = 1000) -> int:
    # n_train chosen so that 2N/M == occurrence exactly
    return schedule.embed_dim(int(round(occurrence * n_genes / 2)), n_genes)


@pytest.mark.parametrize(
    ("schedule", "table"),
    [
        (NORMAN_SIMPSON, {2: 2, 4: 4, 10: 16, 20: 16, 30: 32, 40: 64, 60: 64, 80: 128, 100: 128}),
        (HORLBECK, {2: 4, 4: 16, 10: 32, 20: 32, 30: 64, 40: 64, 60: 64, 80: 128, 100: 128}),
    ],
)
def test_table_5_rows(schedule, table):
    for occ, dim in table.items():
        assert _dim_at(schedule, occ) == dim, (schedule.name, occ)


def test_lookup_rule_floor_and_ends():
    assert _dim_at(NORMAN_SIMPSON, 0.5) == 2  # below the first threshold: first entry
    assert _dim_at(NORMAN_SIMPSON, 3.9) == 2  # floor, not nearest
    assert _dim_at(NORMAN_SIMPSON, 15) == 16
    assert _dim_at(HORLBECK, 4.5) == 16
    assert _dim_at(HORLBECK, 500) == 128  # 100+


def test_paper_round_sizes():
    # Norman round 0 (100 pairs, 112 genes): 2N/M = 1.8 -> 2; Horlbeck 500 pairs / 448 -> 4
    assert NORMAN_SIMPSON.embed_dim(100, 112) == 2
    assert HORLBECK.embed_dim(500, 448) == 4
    assert average_gene_occurrence(224, 112) == pytest.approx(4.0)


def test_default_rule_by_number_of_genes():
    assert default_schedule(112) is NORMAN_SIMPSON
    assert default_schedule(200) is NORMAN_SIMPSON
    assert default_schedule(448) is HORLBECK
    assert get_schedule("auto", 448) is HORLBECK
    assert get_schedule("norman_simpson", 448) is NORMAN_SIMPSON
    custom = EmbeddingSchedule("mine", (0, 10), (3, 5))
    assert get_schedule(custom, 10) is custom


def test_bad_schedules():
    with pytest.raises(ValueError, match="unknown embedding schedule"):
        get_schedule("simpson", 100)
    with pytest.raises(ValueError, match="strictly increasing"):
        EmbeddingSchedule("x", (4, 2), (1, 2))
    with pytest.raises(ValueError, match="equal length"):
        EmbeddingSchedule("x", (1, 2), (1,))
    with pytest.raises(ValueError, match="positive"):
        EmbeddingSchedule("x", (1,), (0,))
    with pytest.raises(ValueError, match="n_genes"):
        average_gene_occurrence(10, 0)


# ------------------------------------------------------------------ the table's own sizes


def test_floor_reading_at_the_size_column():
    """Floor at Table 5's own training sizes: previous row on Norman, same or later on Horlbeck."""
    from naiad_bo.models.embedding_schedule import TABLE5_SIZES

    # Norman, M = 112: 2N/M at the size column is just below every threshold
    occ = [2 * n / 112 for n in TABLE5_SIZES["norman"]]
    assert all(o < t for o, t in zip(occ, NORMAN_SIMPSON.occurrences, strict=True))
    dims = [NORMAN_SIMPSON.embed_dim(n, 112) for n in TABLE5_SIZES["norman"]]
    assert dims == [2, 2, 4, 16, 16, 32, 64, 64, 128]  # the row above's dim
    # Norman's campaign 100 + 4 x 100 pairs: 2, 2, 4, 4, 4 (issue 11; reference ran 2,4,4,8,16)
    assert [NORMAN_SIMPSON.embed_dim(n, 112) for n in (100, 200, 300, 400, 500)] == [
        2, 2, 4, 4, 4
    ]
    # Horlbeck, M = 448: at or above each threshold (the columns disagree by up to 2.2x)
    rows = [HORLBECK.row(n, 448) for n in TABLE5_SIZES["horlbeck"]]
    assert rows == [0, 1, 3, 5, 6, 7, 8, 8, 8]  # 2N/M = 2.2, 4.5, 22, 45, 67, 89, 134, ...
    assert [HORLBECK.embed_dim(n, 448) for n in TABLE5_SIZES["horlbeck"]] == [
        4, 16, 32, 64, 64, 128, 128, 128, 128
    ]


def test_nearest_reading_at_the_size_column():
    from naiad_bo.models import LookupRule
    from naiad_bo.models.embedding_schedule import (
        HORLBECK_NEAREST,
        NORMAN_SIMPSON_NEAREST,
        TABLE5_SIZES,
    )

    assert NORMAN_SIMPSON_NEAREST.rule is LookupRule.NEAREST
    # at Norman's size column, the nearest row gives each row's own dim
    dims = [NORMAN_SIMPSON_NEAREST.embed_dim(n, 112) for n in TABLE5_SIZES["norman"]]
    assert dims == list(NORMAN_SIMPSON.dims)
    assert [NORMAN_SIMPSON_NEAREST.embed_dim(n, 112) for n in (100, 200, 300, 400, 500)] == [
        2, 4, 4, 16, 16
    ]
    # exact thresholds: both readings agree
    for occ in NORMAN_SIMPSON.occurrences:
        assert _dim_at(NORMAN_SIMPSON_NEAREST, occ) == _dim_at(NORMAN_SIMPSON, occ)
    # log-scale midpoint between 4 and 10 is sqrt(40) = 6.32
    assert _dim_at(HORLBECK_NEAREST, 6.2) == 16 and _dim_at(HORLBECK_NEAREST, 6.5) == 32
    assert _dim_at(HORLBECK_NEAREST, 1.0) == 4 and _dim_at(HORLBECK_NEAREST, 1000) == 128
    assert get_schedule("horlbeck_nearest", 448) is HORLBECK_NEAREST
    with pytest.raises(TypeError, match="LookupRule"):
        EmbeddingSchedule("x", (1,), (1,), "nearest")
    with pytest.raises(ValueError, match="positive thresholds"):
        EmbeddingSchedule("x", (0, 1), (1, 2), LookupRule.NEAREST)


def test_size_column_reading_at_the_size_column():
    from naiad_bo.models.embedding_schedule import (
        HORLBECK_SIZE_COLUMN,
        NORMAN_SIZE_COLUMN,
        TABLE5_SIZES,
        size_column_schedule,
    )

    # on the table's own screens every listed size gets its own row's dim, exactly
    for sched, table, m, dims in ((NORMAN_SIZE_COLUMN, "norman", 112, NORMAN_SIMPSON.dims),
                                  (HORLBECK_SIZE_COLUMN, "horlbeck", 448, HORLBECK.dims)):
        assert [sched.embed_dim(n, m) for n in TABLE5_SIZES[table]] == list(dims)
        assert [sched.embed_dim(n - 1, m) for n in TABLE5_SIZES[table][1:]] == list(dims[:-1])
    # the campaigns: Norman 100 + 4 x 100 -> 2, 4, 4, 4, 16; K562 500 + 4 x 500 -> 4, 16 ...
    assert [NORMAN_SIZE_COLUMN.embed_dim(n, 112) for n in (100, 200, 300, 400, 500)] == [
        2, 4, 4, 4, 16
    ]
    assert [HORLBECK_SIZE_COLUMN.embed_dim(n, 448) for n in range(500, 2501, 500)] == [
        4, 16, 16, 16, 16
    ]
    # carried by 2N/M: a screen of 60% of Norman's genes at 60% of the sizes, same rows
    assert [NORMAN_SIZE_COLUMN.embed_dim(n, 67) for n in (60, 120, 180, 240, 300)] == [
        2, 4, 4, 4, 16
    ]
    assert get_schedule("norman_size_column", 10) is NORMAN_SIZE_COLUMN
    assert size_column_schedule("simpson").embed_dim(5000, 543) == 16
    with pytest.raises(ValueError, match="Table 5 data set"):
        size_column_schedule("k562")


def test_reference_round_dims():
    from naiad_bo.models.embedding_schedule import REFERENCE_ROUND_DIMS, round_schedule

    norman = round_schedule(REFERENCE_ROUND_DIMS["norman"], 100, 100, 112)
    assert [norman.embed_dim(n, 112) for n in (100, 200, 300, 400, 500)] == [2, 4, 4, 8, 16]
    assert norman.embed_dim(50, 112) == 2 and norman.embed_dim(5000, 112) == 16
    k562 = round_schedule(REFERENCE_ROUND_DIMS["horlbeck"], 500, 500, 448)
    assert [k562.embed_dim(n, 448) for n in range(500, 2501, 500)] == [2, 8, 8, 16, 32]
    # a subset campaign (60 + 4 x 60 on 67 genes) gets the same dims round by round
    sub = round_schedule(REFERENCE_ROUND_DIMS["norman"], 60, 60, 67)
    assert [sub.embed_dim(n, 67) for n in (60, 120, 180, 240, 300)] == [2, 4, 4, 8, 16]
    # no reading of Table 5 gives the reference's dims on Norman's campaign
    from naiad_bo.models.embedding_schedule import (
        NORMAN_SIMPSON_NEAREST,
        NORMAN_SIZE_COLUMN,
    )

    for sched in (NORMAN_SIMPSON, NORMAN_SIMPSON_NEAREST, NORMAN_SIZE_COLUMN):
        assert [sched.embed_dim(n, 112) for n in (100, 200, 300, 400, 500)] != [2, 4, 4, 8, 16]
    with pytest.raises(ValueError, match="initial and batch"):
        round_schedule((2, 4), 0, 10, 100)


def test_campaign_dims_of_every_reading():
    """The dims the module docstring states for the paper's campaigns (rounds 0-4)."""
    from naiad_bo.models.embedding_schedule import (
        HORLBECK_NEAREST,
        HORLBECK_SIZE_COLUMN,
        NORMAN_SIMPSON_NEAREST,
        NORMAN_SIZE_COLUMN,
    )

    norman, k562 = (100, 200, 300, 400, 500), (500, 1000, 1500, 2000, 2500)
    assert {s.name: [s.embed_dim(n, 112) for n in norman]
            for s in (NORMAN_SIMPSON, NORMAN_SIMPSON_NEAREST, NORMAN_SIZE_COLUMN)} == {
        "norman_simpson": [2, 2, 4, 4, 4], "norman_simpson_nearest": [2, 4, 4, 16, 16],
        "norman_size_column": [2, 4, 4, 4, 16]}
    assert {s.name: [s.embed_dim(n, 448) for n in k562]
            for s in (HORLBECK, HORLBECK_NEAREST, HORLBECK_SIZE_COLUMN)} == {
        "horlbeck": [4, 16, 16, 16, 32], "horlbeck_nearest": [4, 16, 32, 32, 32],
        "horlbeck_size_column": [4, 16, 16, 16, 16]}
    # Table 1 sizes (2N/M = 4, 10, 20): floor and nearest agree, the size column does not
    for occ in (4, 10, 20):
        assert _dim_at(HORLBECK_NEAREST, occ, 448) == _dim_at(HORLBECK, occ, 448)
    assert _dim_at(HORLBECK_SIZE_COLUMN, 4, 448) == 4 and _dim_at(HORLBECK, 4, 448) == 16

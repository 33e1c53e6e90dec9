"""Fixtures of the Ax adapter tests: a small real screen, measured files, a PostgreSQL server."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def small(norman):
    """Norman 2019 restricted to its first 12 genes (78 pairs, all measured)."""
    return norman.subset_genes(norman.genes[:12])


@pytest.fixture(scope="session")
def oracle(small):
    """``(id1, id2) -> y`` for the small screen (both orders)."""
    out = {}
    for a, b, y in zip(small.pairs["id1"], small.pairs["id2"], small.pairs["y"]):
        out[(a, b)] = out[(b, a)] = float(y)
    return out


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL 15 server for the session (skipped where the server programs
    are missing, unless ``NAIAD_BO_REQUIRE_POSTGRES=1`` as in ``.ci/run``)."""
    pytest.importorskip("psycopg") if not os.environ.get("NAIAD_BO_REQUIRE_POSTGRES") else None
    from naiad_bo.ax.pgserver import PostgresUnavailable, TempPostgres

    try:
        server = TempPostgres()
    except PostgresUnavailable as err:
        if os.environ.get("NAIAD_BO_REQUIRE_POSTGRES"):
            raise
        pytest.skip(str(err))
    yield server
    server.stop()

"""A throwaway PostgreSQL server on a free loopback port (tests and benchmarks).

The PostgreSQL server refuses to run as root, so when this process is root the server
programs (``initdb``, ``pg_ctl``) run as the ``postgres`` system user through ``runuser``. The
cluster lives in a temporary directory, trusts local connections, skips fsync (it is thrown
away) and is stopped and deleted by :meth:`TempPostgres.stop` (or the ``with`` block).

Example::

    with TempPostgres() as pg:
        url = pg.create_database("store1")    # postgresql+psycopg://postgres@127.0.0.1:PORT/store1
        Store(url).save(...)
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresUnavailable", "TempPostgres", "find_postgres_bin"]


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server programs or the ``postgres`` user are missing."""


def find_postgres_bin() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl`` (env ``NAIAD_BO_PG_BIN`` first)."""
    candidates = [os.environ.get("NAIAD_BO_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).parent))
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    raise PostgresUnavailable(
        "PostgreSQL server programs (initdb, pg_ctl) not found; install postgresql-15 or "
        "set NAIAD_BO_PG_BIN"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TempPostgres:
    """Start a fresh cluster (see the module docstring).

    Args:
        bin_dir: Server programs (default: :func:`find_postgres_bin`).
        user: System user that runs the server when this process is root.
    """

    def __init__(self, bin_dir: str | Path | None = None, user: str = "postgres") -> None:
        self.bin = Path(bin_dir) if bin_dir else find_postgres_bin()
        self.user = user
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="naiad_bo_pg_"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_root = os.geteuid() == 0
        if self._as_root:
            try:
                shutil.chown(self.root, user=user)
            except (LookupError, PermissionError) as err:
                shutil.rmtree(self.root, ignore_errors=True)
                raise PostgresUnavailable(
                    f"cannot hand {self.root} to system user {user!r}: {err}"
                ) from None
        self._started = False
        try:
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                      "--no-sync", "-E", "UTF8")
            opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts,
                      "-w", "-t", "60", "start")
            self._started = True
        except BaseException:
            self.stop()
            raise

    def _run(self, prog: str, *args: str) -> None:
        cmd = [str(self.bin / prog), *args]
        if self._as_root:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)
        if res.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{prog} failed ({res.returncode}): {res.stderr.strip()[-2000:]} {log}"
            )

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create a database and return its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete the cluster."""
        if self._started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except PostgresUnavailable:
                pass
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempPostgres:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

"""A throwaway PostgreSQL 15 cluster (Debian postgresql-15) for the database-proof tests: initdb + pg_ctl in a
temp dir, a free loopback port, password authentication; as root the server runs as the `postgres` user.
(A small local one; tests/fixtures/postgres.py of issue 18a can replace it once merged.)"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.components import missing
from tests.fixtures.kube import free_port

PG_BIN = Path(os.environ.get("ODOO_GITOPS_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass(frozen=True)
class Postgres:
    port: int
    password: str

    def connect_args(self, database: str) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "user": "postgres", "password": self.password,
                "dbname": database}  # fmt: skip

    def env(self, database: str) -> dict[str, str]:
        """libpq's PG* variables, as the chart gives them to migrate.py."""
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": "postgres",
            "PGPASSWORD": self.password,
            "PGDATABASE": database,
        }


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str]) -> None:
    result = subprocess.run(_as_postgres(argv), capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {result.stderr[-2000:]}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    if not (PG_BIN / "initdb").is_file() or not (PG_BIN / "pg_ctl").is_file():
        missing("PostgreSQL 15", f"install Debian postgresql-15 (looked in {PG_BIN}); `make test` does")
    root = Path(tempfile.mkdtemp(prefix="odoo-gitops-kube-pg-", dir="/tmp"))
    data = root / "data"
    try:
        password = secrets.token_urlsafe(18)
        (root / "pw").write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(root / "pw", "postgres")
        _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(root / "pw"),
              "--auth=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])  # fmt: skip
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} -c fsync=off"
        )
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-o", options, "-w",
              "-t", "60", "start"])  # fmt: skip
        try:
            yield Postgres(port, password)
        finally:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)

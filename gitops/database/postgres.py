"""The PostgreSQL adapter: connections (psycopg 3), `pg_dump` / `pg_restore` through gitops.proc, and the
only place psycopg's errors become ours.

A server is named by a libpq DSN read from an environment variable, never from the command line; its
password is registered as a secret (gitops/redact.py) and reaches the client programs as PGPASSWORD,
never as an argument.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import IsolationLevel, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gitops.errors import ExternalError, UsageError, redact
from gitops.proc import Completed, run
from gitops.redact import register_secret, register_url

__all__ = [  # `sql` (psycopg's quoting toolkit) is re-exported: psycopg is imported in this module only
    "DEFAULT_DSN_ENV",
    "Connection",
    "Server",
    "client_binary",
    "connect",
    "create_database",
    "drop_database",
    "module_states",
    "pg_dump",
    "pg_restore",
    "snapshot",
    "sql",
    "table_counts",
]

Connection = psycopg.Connection[tuple[Any, ...]]
DEFAULT_DSN_ENV = "ODOO_GITOPS_DATABASE_URL"
_LIBPQ_ENV = (
    ("host", "PGHOST"),
    ("port", "PGPORT"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
)
_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))


@dataclass(frozen=True)
class Server:
    """Where a PostgreSQL server is and how to log in; `dbname` is the database commands act on."""

    params: Mapping[str, str]

    @classmethod
    def from_dsn(cls, dsn: str) -> Server:
        register_url(dsn)
        try:
            params = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
        except psycopg.ProgrammingError:
            raise UsageError("the database DSN is not a valid libpq connection string or URL") from None
        register_secret(params.get("password"))
        return cls(params)

    @classmethod
    def from_env(cls, variable: str = DEFAULT_DSN_ENV, env: Mapping[str, str] | None = None) -> Server:
        environ = os.environ if env is None else env
        value = environ.get(variable)
        if not value:
            raise UsageError(f"set {variable} to the database's DSN (postgresql://user:password@host/db)")
        server = cls.from_dsn(value)
        # what the DSN leaves out comes from libpq's PG* variables (the chart's Jobs: DSN `dbname=…`, the
        # rest from Secrets), taken here because pg_dump / pg_restore run with the PG* variables cleared
        extra = {
            key: environ[var] for key, var in _LIBPQ_ENV if key not in server.params and environ.get(var)
        }
        register_secret(extra.get("password"))
        return replace(server, params={**server.params, **extra}) if extra else server

    @property
    def dbname(self) -> str:
        return self.params.get("dbname", "postgres")

    def on(self, dbname: str) -> Server:
        """The same server, another database."""
        return replace(self, params={**self.params, "dbname": dbname})

    def conninfo(self) -> str:
        return make_conninfo(**self.params)

    def client_args(self) -> list[str]:
        """pg_dump / pg_restore connection arguments: everything but the password."""
        args = []
        for key, flag in (("host", "-h"), ("port", "-p"), ("user", "-U")):
            if key in self.params:
                args += [flag, self.params[key]]
        return [*args, "--no-password"]

    def client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if "password" in self.params:
            env["PGPASSWORD"] = self.params["password"]
        for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
            if key in self.params:
                env[var] = self.params[key]
        return env


@contextmanager
def connect(server: Server, *, autocommit: bool = True) -> Iterator[Connection]:
    """A connection; psycopg's errors (connection refused, SQL errors) leave as ExternalError."""
    try:
        with psycopg.connect(server.conninfo(), autocommit=autocommit, connect_timeout=30) as conn:
            yield conn
    except psycopg.Error as exc:
        raise ExternalError(f"PostgreSQL ({server.dbname}): {redact(_first_line(exc))}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def snapshot(server: Server) -> Iterator[tuple[Connection, str]]:
    """A read-only REPEATABLE READ transaction and the name of its exported snapshot (for
    `pg_dump --snapshot`), held open until the block ends, then rolled back."""
    with connect(server, autocommit=False) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        yield conn, str(row[0] if row else "")
        conn.rollback()


def client_binary(name: str) -> str:
    """pg_dump / pg_restore: ODOO_GITOPS_PG_BIN, then PATH, then Debian's versioned directories."""
    override = os.environ.get("ODOO_GITOPS_PG_BIN")
    for directory in ([Path(override)] if override else []) + list(_BIN_DIRS):
        if (directory / name).is_file():
            return str(directory / name)
    return shutil.which(name) or name


def pg_dump(server: Server, args: Sequence[str], *, timeout: float = 3600) -> Completed:
    argv = [client_binary("pg_dump"), *server.client_args(), *args, "-d", server.dbname]
    return run(argv, env=server.client_env(), timeout=timeout, what="pg_dump")


def pg_restore(
    server: Server, args: Sequence[str], *, timeout: float = 3600, check: bool = True
) -> Completed:
    argv = [client_binary("pg_restore"), *server.client_args(), *args]
    return run(argv, env=server.client_env(), timeout=timeout, what="pg_restore", check=check)


def create_database(server: Server, name: str, *, template: str | None = None) -> None:
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
    with connect(server.on("postgres")) as conn:
        conn.execute(query)


def drop_database(server: Server, name: str) -> None:
    """Drop a database, ending its sessions first (PostgreSQL 13+)."""
    with connect(server.on("postgres")) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def table_counts(conn: Connection) -> dict[str, int]:
    """Exact row counts of every ordinary table of the public schema (one query)."""
    tables = [str(r[0]) for r in conn.execute(_TABLES).fetchall()]
    if not tables:
        return {}
    parts = [
        sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(t), sql.Identifier("public", t))
        for t in tables
    ]
    rows = conn.execute(sql.SQL(" UNION ALL ").join(parts)).fetchall()
    return {str(name): int(count) for name, count in sorted(rows)}


_TABLES = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
)


def module_states(conn: Connection) -> dict[str, str]:
    """Odoo's `ir_module_module` name -> state ({} when the table does not exist)."""
    if conn.execute("SELECT to_regclass('public.ir_module_module')").fetchone() == (None,):
        return {}
    rows = conn.execute("SELECT name, state FROM ir_module_module ORDER BY name").fetchall()
    return {str(name): str(state) for name, state in rows}

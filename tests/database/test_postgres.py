"""The PostgreSQL adapter's handling of DSNs: the password stays out of arguments, output and errors."""

from __future__ import annotations

import pytest

from gitops.database.postgres import Server
from gitops.errors import UsageError, redact


def test_the_password_goes_to_the_environment_not_the_arguments() -> None:
    server = Server.from_dsn("postgresql://odoo:pa55-w0rd-xyz@db.internal:6543/prod?sslmode=require")
    assert server.dbname == "prod"
    args = server.client_args()
    assert args == ["-h", "db.internal", "-p", "6543", "-U", "odoo", "--no-password"]
    env = server.client_env()
    assert env["PGPASSWORD"] == "pa55-w0rd-xyz" and env["PGSSLMODE"] == "require"
    assert "pa55-w0rd-xyz" not in redact(f"connecting with {server.conninfo()} failed")
    assert server.on("rehearsal_1").dbname == "rehearsal_1" and server.dbname == "prod"


def test_a_key_value_dsn_is_understood_too() -> None:
    server = Server.from_dsn("host=127.0.0.1 port=5432 user=u password=sekrit-value dbname=x")
    assert (
        server.client_args()[:2] == ["-h", "127.0.0.1"]
        and server.client_env()["PGPASSWORD"] == "sekrit-value"
    )
    assert "sekrit-value" not in redact("password=sekrit-value")


def test_a_missing_or_broken_dsn_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="set ODOO_GITOPS_DATABASE_URL"):
        Server.from_env(env={})
    with pytest.raises(UsageError, match="not a valid libpq connection string"):
        Server.from_dsn("host=a port")


def test_the_chart_jobs_dsn_takes_the_rest_from_the_pg_variables() -> None:
    """The chart's Jobs set ODOO_GITOPS_DATABASE_URL=dbname=… and PGHOST/PGPORT/PGUSER/PGPASSWORD (from a
    Secret): pg_dump and pg_restore, which run with the PG* variables cleared, still get all of them."""
    env = {
        "ODOO_GITOPS_DATABASE_URL": "dbname=acme-build",
        "PGHOST": "postgresql-prod.odoo-prod.svc",
        "PGPORT": "5432",
        "PGUSER": "odoo",
        "PGPASSWORD": "from-a-secret-4711",
        "PGDATABASE": "not-this-one",
    }
    server = Server.from_env(env=env)
    assert server.dbname == "acme-build"
    assert server.client_args() == [
        "-h",
        "postgresql-prod.odoo-prod.svc",
        "-p",
        "5432",
        "-U",
        "odoo",
        "--no-password",
    ]
    assert server.client_env()["PGPASSWORD"] == "from-a-secret-4711"
    assert "from-a-secret-4711" not in redact("auth failed for from-a-secret-4711")
    explicit = Server.from_env(env={**env, "ODOO_GITOPS_DATABASE_URL": "postgresql://u:p@db.internal/x"})
    assert explicit.client_args()[:2] == ["-h", "db.internal"]  # the DSN wins over the PG* variables
    assert explicit.client_env()["PGPASSWORD"] == "p"

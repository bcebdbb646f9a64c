"""Masking SQL against a real PostgreSQL: names quoted, values literal, the salt never in the server log."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from gitops.config.yamlsafe import parse_yaml
from gitops.database.masking import apply_masking, salt_from_env
from gitops.database.masking_rules import parse_rules
from gitops.database.postgres import connect
from gitops.errors import ConfigError, UsageError
from tests.database.helpers import server
from tests.fixtures.postgres import PgCluster

HOSTILE = '\'); DROP TABLE "order"; -- 100% \\ $1 %s'


@pytest.fixture
def small_db(postgres: PgCluster) -> str:
    name = postgres.create_database("masking_small")
    with postgres.connect(name) as conn:
        conn.execute(
            'CREATE TABLE "order" (id serial PRIMARY KEY, "select" varchar, "user" varchar NOT NULL, '
            "amount numeric, note text)"
        )
        conn.execute(
            'INSERT INTO "order" ("select", "user", amount, note) '
            "SELECT 'secret-' || i, 'person' || i || '@corp.example', i * 10.5, 'n' || i "
            "FROM generate_series(1, 500) i"
        )
    yield name
    postgres.drop_database(name)


def _rules(text: str):  # type: ignore[no-untyped-def]
    return parse_rules([parse_yaml(text, "masking/t.yaml")])


def test_reserved_words_are_quoted_and_constants_stay_literal(postgres: PgCluster, small_db: str) -> None:
    rules = _rules(
        "columns:\n  order.select: hash\n  order.user: email\n"
        f"  order.note: {{strategy: constant, value: {json.dumps(HOSTILE)}}}\n"
        "  order.amount: {strategy: noise, percent: 5}\n"
    )
    with connect(server(postgres, small_db)) as conn:
        report = apply_masking(conn, rules, "s" * 32)
        assert report.tables == {"order": 500}
        rows = conn.execute('SELECT "select", "user", note, amount, id FROM "order" ORDER BY id').fetchall()
    assert all(str(s).startswith("h") and len(str(s)) == 33 for s, *_ in rows)
    assert all(str(u).endswith("@example.invalid") for _, u, *_ in rows)
    assert {note for _, _, note, _, _ in rows} == {HOSTILE}
    assert all(abs(float(a) / (i * 10.5) - 1) <= 0.0501 for *_, a, i in rows)
    assert len({float(a) / (i * 10.5) for *_, a, i in rows}) > 100  # a factor per row, not one for all


def test_rules_that_cannot_apply_change_nothing(postgres: PgCluster, small_db: str) -> None:
    rules = _rules(
        "columns:\n  order.user: nullify\n  order.amount: email\n  order.nope: hash\n  order.select: hash\n"
    )
    with connect(server(postgres, small_db)) as conn:
        with pytest.raises(ConfigError) as info:
            apply_masking(conn, rules, "s" * 32)
        assert conn.execute('SELECT count(*) FROM "order" WHERE "select" LIKE \'secret-%\'').fetchone() == (
            500,
        )
    messages = [p.message for p in info.value.problems]
    assert "order.user is NOT NULL: use 'constant' instead of 'nullify'" in messages
    assert "order.amount is numeric: 'email' needs a text column" in messages
    assert "order.nope: no such column in the database" in messages


def test_the_salt_never_reaches_the_server_log(postgres: PgCluster, small_db: str) -> None:
    salt = "salt-" + secrets.token_hex(16)
    with postgres.connect(small_db) as conn:
        conn.execute(f"ALTER DATABASE \"{small_db}\" SET log_statement = 'all'")
        conn.execute(f'ALTER DATABASE "{small_db}" SET log_min_duration_statement = 0')
    with connect(server(postgres, small_db)) as conn:
        apply_masking(conn, _rules("columns:\n  order.select: hash\n"), salt)
    log = (postgres.data_dir.parent / "server.log").read_text(errors="replace")
    assert "UPDATE" in log and "pg_temp" in log  # statements are logged...
    assert salt not in log  # ...the salt is not


def test_the_salt_comes_from_the_environment(tmp_path: Path) -> None:
    rules = _rules("salt_env: MY_SALT\ncolumns: {}\n")
    with pytest.raises(UsageError, match="set MY_SALT"):
        salt_from_env(rules, {"MY_SALT": "short"})
    assert salt_from_env(rules, {"MY_SALT": "x" * 20}) == "x" * 20

"""Apply masking rules inside PostgreSQL: check every rule against the database first (all problems at once,
each naming its rule's file and line), then one UPDATE per table, all in one transaction. No row leaves the
database; the salt is a secret (registered for redaction, sent as COPY data, never logged)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

from psycopg import sql

from gitops.database.masking_rules import MaskingRule, MaskingRules
from gitops.database.masking_sql import SALT_TABLE, ColumnInfo, rule_problem, update_statement
from gitops.database.postgres import Connection
from gitops.errors import ConfigError, Problem, UsageError
from gitops.redact import register_secret

MIN_SALT_LENGTH = 16


@dataclass(frozen=True)
class MaskingReport:
    tables: dict[str, int]  # table -> rows updated
    skipped: tuple[str, ...]  # tables the rules name that this database does not have
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {"tables": self.tables, "skipped": list(self.skipped), "seconds": round(self.seconds, 3)}


def salt_from_env(rules: MaskingRules, env: Mapping[str, str] | None = None) -> str:
    """The masking salt from the environment variable the rules name (a secret: registered for redaction)."""
    value = (os.environ if env is None else env).get(rules.salt_env, "")
    if len(value) < MIN_SALT_LENGTH:
        raise UsageError(
            f"set {rules.salt_env} to the masking salt (a secret of at least {MIN_SALT_LENGTH} characters)",
            hint="keep it in the secret store; the same salt keeps masked join keys equal across refreshes",
        )
    register_secret(value)
    return value


def database_columns(conn: Connection) -> dict[str, dict[str, ColumnInfo]]:
    rows = conn.execute(
        "SELECT table_name, column_name, data_type, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_schema = 'public'"
    ).fetchall()
    tables: dict[str, dict[str, ColumnInfo]] = {}
    for table, column, data_type, nullable in rows:
        tables.setdefault(str(table), {})[str(column)] = ColumnInfo(str(data_type), bool(nullable))
    return tables


def masking_plan(
    rules: MaskingRules, columns: Mapping[str, Mapping[str, ColumnInfo]]
) -> tuple[dict[str, tuple[MaskingRule, ...]], tuple[str, ...]]:
    """The rules per table this database has, and the tables it has not. Raises ConfigError listing every
    rule that cannot apply (missing column, wrong type, NOT NULL column nullified)."""
    problems: list[Problem] = []
    plan: dict[str, tuple[MaskingRule, ...]] = {}
    skipped: list[str] = []
    for table, table_rules in rules.by_table().items():
        if table not in columns:
            skipped.append(table)
            continue
        for rule in table_rules:
            reason = rule_problem(rule, columns[table])
            if reason:
                problems.append(Problem(rule.file, rule.line, reason))
        plan[table] = table_rules
    if problems:
        raise ConfigError(problems, hint="fix the masking rules or the database; nothing was changed")
    return plan, tuple(skipped)


def apply_masking(conn: Connection, rules: MaskingRules, salt: str) -> MaskingReport:
    """Mask the database `conn` is connected to: one UPDATE per table, in one transaction."""
    register_secret(salt)
    start = time.monotonic()
    plan, skipped = masking_plan(rules, database_columns(conn))
    updated: dict[str, int] = {}
    with conn.transaction():
        load_salt(conn, salt)
        for table, table_rules in plan.items():
            cursor = conn.execute(update_statement(table, table_rules))
            updated[table] = cursor.rowcount
    return MaskingReport(updated, skipped, time.monotonic() - start)


def load_salt(conn: Connection, salt: str) -> None:
    """The salt into a temporary table dropped at commit, as COPY data (which the server never logs)."""
    table = sql.Identifier(SALT_TABLE)
    conn.execute(sql.SQL("CREATE TEMPORARY TABLE {} (salt text NOT NULL) ON COMMIT DROP").format(table))
    with conn.cursor().copy(sql.SQL("COPY {} (salt) FROM STDIN").format(table)) as copy:
        copy.write_row((salt,))


def purge_old_row_versions(conn: Connection, tables: list[str]) -> None:
    """VACUUM FULL the masked tables: until then, the pre-masking row versions stay in the data files
    (invisible to SQL and pg_dump, readable by anyone with the files)."""
    for table in tables:
        conn.execute(sql.SQL("VACUUM (FULL) {}").format(sql.Identifier("public", table)))

"""The masking proof: original sensitive values, sampled before masking and kept in memory only, must not
appear anywhere in a `pg_dump` of the masked database; every sampled row must have changed; row counts and
foreign keys must be what they were.

The dump is searched once for all sampled values with `grep -F` (Aho-Corasick over the whole text); the
patterns reach grep through a pipe, never a file. Values are searched as they appear in the dump's COPY
text (backslash, tab, newline and carriage return escaped). Values shorter than `MIN_SEARCH_LENGTH`
characters are only checked row by row (a 4-character value would match unrelated text). The record
never holds a value: only counts per column.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gitops.database.masking_rules import MaskingRule, NoiseRule, Strategy
from gitops.database.masking_sql import EMAIL_DOMAIN, FIRST_NAMES, LAST_NAMES
from gitops.database.postgres import Connection, Server, connect, pg_dump, sql, table_counts
from gitops.errors import ExternalError, UsageError
from gitops.proc import run

MIN_SEARCH_LENGTH = 6
MIN_SAMPLE = 10_000
NOISE_UNCHANGED_LIMIT = 0.05  # bounded noise may round back to the original for tiny amounts
_FAKE_NAMES = frozenset(f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES)


@dataclass(frozen=True)
class Sampled:
    """Original values of one masked column, by row id; in memory only."""

    rule: MaskingRule
    values: dict[int, Any]


@dataclass(frozen=True)
class Baseline:
    """What the database held before masking: samples, row counts, foreign keys."""

    samples: tuple[Sampled, ...]
    counts: dict[str, int]
    foreign_keys: tuple[str, ...]

    @property
    def size(self) -> int:
        return sum(len(s.values) for s in self.samples)


@dataclass(frozen=True)
class ProofRecord:
    database: str
    at: str
    passed: bool
    sampled_values: int
    searched_values: int
    columns: int
    leaks: dict[str, int]
    unchanged_rows: dict[str, int]
    row_counts_equal: bool
    foreign_keys_intact: bool
    dump_bytes: int
    seconds: float
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def foreign_keys(conn: Connection) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT conrelid::regclass::text || ':' || conname || ':' || convalidated FROM pg_constraint "
        "WHERE contype = 'f' ORDER BY 1"
    ).fetchall()
    return tuple(str(r[0]) for r in rows)


def _could_be_fake(rule: MaskingRule, value: str) -> bool:
    """A value the strategy itself produces: finding it in the dump proves nothing."""
    if rule.strategy is Strategy.FAKE_NAME:
        return value in _FAKE_NAMES
    return rule.strategy is Strategy.EMAIL and value.endswith("@" + EMAIL_DOMAIN)


def sample_column(conn: Connection, rule: MaskingRule, limit: int) -> Sampled:
    """Up to `limit` random non-empty values of a column, by id (distinct values for text columns)."""
    col, table = sql.Identifier(rule.column.column), sql.Identifier("public", rule.column.table)
    query = sql.SQL(
        "SELECT DISTINCT ON ({c}) id, {c} FROM (SELECT id, {c} FROM {t} WHERE {c} IS NOT NULL "
        "ORDER BY random() LIMIT {n}) AS s"
    ).format(c=col, t=table, n=sql.Literal(limit * 2))
    values: dict[int, Any] = {}
    for row_id, value in conn.execute(query).fetchall():
        if isinstance(value, str) and (not value.strip() or _could_be_fake(rule, value)):
            continue
        values[int(row_id)] = value
        if len(values) >= limit:
            break
    return Sampled(rule, values)


SEED_ENV = "ODOO_GITOPS_PROOF_SEED"  # a number in [-1, 1]: PostgreSQL's setseed() before sampling


def _seed() -> float | None:
    raw = os.environ.get(SEED_ENV)
    if not raw:
        return None
    try:
        seed = float(raw)
    except ValueError:
        seed = 2.0
    if not -1.0 <= seed <= 1.0:
        raise UsageError(f"{SEED_ENV}={raw!r}: expected a number from -1 to 1")
    return seed


def take_baseline(conn: Connection, rules: Iterable[MaskingRule], *, size: int = MIN_SAMPLE) -> Baseline:
    """Sample about `size` values spread over the ruled columns (tables with an `id` column)."""
    ruled = [r for r in rules if _has_id(conn, r.column.table)]
    per_column = math.ceil(size * 1.2 / max(1, len(ruled)))
    if (
        seed := _seed()
    ) is not None:  # a reproducible sample (an auditor re-running a proof, the tests); random otherwise
        conn.execute("SELECT setseed(%s)", (seed,))
    samples = tuple(sample_column(conn, rule, per_column) for rule in ruled)
    return Baseline(samples, table_counts(conn), foreign_keys(conn))


def _has_id(conn: Connection, table: str) -> bool:
    query = (
        "SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s "
        "AND column_name = 'id'"
    )
    return conn.execute(query, (table,)).fetchone() is not None


def copy_escaped(value: str) -> str:
    """`value` as pg_dump writes it in COPY text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def search_patterns(baseline: Baseline) -> dict[str, str]:
    """Escaped value -> the column it was sampled from (text values long enough to search for)."""
    patterns: dict[str, str] = {}
    for sampled in baseline.samples:
        for value in sampled.values.values():
            if isinstance(value, str) and len(value.strip()) >= MIN_SEARCH_LENGTH:
                patterns.setdefault(copy_escaped(value), str(sampled.rule.column))
    return patterns


def search_dump(dump: Path, patterns: dict[str, str]) -> dict[str, int]:
    """Column -> how many of its sampled values occur in the dump (grep -F, patterns through a pipe)."""
    if not patterns:
        return {}
    found = run(
        ["grep", "-F", "-o", "-f", "/dev/stdin", str(dump)],
        input_bytes="\n".join(patterns).encode(),
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        check=False,
        what="grep",
        timeout=3600,
    )
    if found.returncode > 1:
        # the message never shows patterns: they are original values
        raise ExternalError(f"grep could not search the dump (exit {found.returncode})")
    leaks: dict[str, int] = {}
    for match in set(found.out.splitlines()):
        column = patterns.get(match)
        if column is not None:
            leaks[column] = leaks.get(column, 0) + 1
    return leaks


def unchanged_rows(conn: Connection, baseline: Baseline) -> tuple[dict[str, int], list[str]]:
    """Per column, sampled rows whose value is still the original; and the columns over their limit."""
    unchanged: dict[str, int] = {}
    problems = []
    for sampled in baseline.samples:
        if not sampled.values:
            continue
        col, table = (
            sql.Identifier(sampled.rule.column.column),
            sql.Identifier("public", sampled.rule.column.table),
        )
        query = sql.SQL("SELECT id, {c} FROM {t} WHERE id = ANY(%s)").format(c=col, t=table)
        now: dict[int, Any] = {int(r): v for r, v in conn.execute(query, (list(sampled.values),)).fetchall()}
        same = len([row_id for row_id, value in sampled.values.items() if now.get(row_id) == value])
        unchanged[str(sampled.rule.column)] = same
        allowed = 0
        if isinstance(sampled.rule.rule, NoiseRule):
            allowed = int(len(sampled.values) * NOISE_UNCHANGED_LIMIT)
        if same > allowed:
            problems.append(f"{sampled.rule.column}: {same} of {len(sampled.values)} sampled rows unchanged")
    return unchanged, problems


def prove_masking(server: Server, baseline: Baseline) -> ProofRecord:
    """Dump the masked database (`server.dbname`), search it, compare counts and foreign keys."""
    start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="odoo-gitops-proof-"))  # 0700: the dump may hold what leaked
    try:
        dump = workdir / "target.sql"
        pg_dump(server, ["-Fp", "--no-owner", "-f", str(dump)])
        patterns = search_patterns(baseline)
        leaks = search_dump(dump, patterns)
        dump_bytes = dump.stat().st_size
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    with connect(server) as conn:
        unchanged, problems = unchanged_rows(conn, baseline)
        counts_equal = table_counts(conn) == baseline.counts
        fks_intact = foreign_keys(conn) == baseline.foreign_keys
    problems += [
        f"{column}: {n} sampled original values found in the dump" for column, n in sorted(leaks.items())
    ]
    if not counts_equal:
        problems.append("row counts differ from before masking")
    if not fks_intact:
        problems.append("foreign keys differ from before masking")
    return ProofRecord(
        database=server.dbname,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        passed=not problems,
        sampled_values=baseline.size,
        searched_values=len(patterns),
        columns=len(baseline.samples),
        leaks=dict(sorted(leaks.items())),
        unchanged_rows=unchanged,
        row_counts_equal=counts_equal,
        foreign_keys_intact=fks_intact,
        dump_bytes=dump_bytes,
        seconds=round(time.monotonic() - start, 3),
        problems=problems,
    )

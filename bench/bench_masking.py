"""Benchmark: masking a production copy inside PostgreSQL vs its floor and vs a row-by-row client loop.

A throwaway PostgreSQL 15 cluster (tests/fixtures/postgres.py) gets the Odoo-shaped database of the tests
at bench size: 1,000,000 partners and 100,000 payslips (1,000,000 payslip lines), plus what scales with
them (500k bank accounts, 500k moves and 1.5M move lines, 500k messages…). It is copied three times with
`CREATE DATABASE … TEMPLATE` and masked with masking/default.yaml (every masked column of every table):

- product: `gitops.database.masking.apply_masking`: one UPDATE per table, all rules of the table in it;
- floor: one `UPDATE t SET col = md5(col)` per masked column (`SET col = col` for non-text columns,
  which is cheaper still): what rewriting each masked column once costs at least. Target: product <= 2x;
- row-by-row: a client loop, one SELECT and one UPDATE per row (hashing in Python), in one transaction.
  It is timed on a random sample of rows of every table and EXTRAPOLATED to the full row counts (running
  it on millions of rows would take hours); the printed number says so. Target: product >= 20x faster.

The masking proof (sample, pg_dump, search) and the VACUUM FULL purge are timed too, apart.

    .venv/bin/python bench/bench_masking.py [--partners 1000000] [--payslips 100000] [--sample 2000]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from psycopg import sql

from gitops.database.masking import apply_masking, database_columns, masking_plan, purge_old_row_versions
from gitops.database.masking_proof import prove_masking, take_baseline
from gitops.database.masking_rules import TEXT_STRATEGIES, MaskingRule, load_rules
from gitops.database.postgres import Connection, Server, connect
from tests.fixtures.odoo_database import OdooSizes, load_odoo_database
from tests.fixtures.postgres import PgCluster, start_cluster, stop_cluster

ROOT = Path(__file__).resolve().parents[1]
SALT = "bench-salt-0123456789abcdef"


def timed(label: str, func):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    result = func()
    seconds = time.monotonic() - start
    print(f"  {label:<44} {seconds:9.2f} s", flush=True)
    return seconds, result


def floor(conn: Connection, plan: dict[str, tuple[MaskingRule, ...]]) -> None:
    with conn.transaction():
        for table, rules in plan.items():
            for rule in rules:
                col = sql.Identifier(rule.column.column)
                value = sql.SQL("md5({}::text)" if rule.strategy in TEXT_STRATEGIES else "{}").format(col)
                conn.execute(sql.SQL("UPDATE {} SET {} = {}").format(sql.Identifier(table), col, value))


def _mask_in_python(rule: MaskingRule, value: object) -> object:
    if value is None or rule.strategy.value == "nullify":
        return None
    if rule.strategy in TEXT_STRATEGIES:
        return hashlib.md5((SALT + str(value)).encode()).hexdigest()
    if rule.strategy.value == "constant":
        return getattr(rule.rule, "value", None)
    return value  # noise: the client would compute a factor; the round trips are what cost


def row_by_row(conn: Connection, plan: dict[str, tuple[MaskingRule, ...]], sample: int) -> float:
    """Seconds the client loop would take on the whole database, extrapolated from `sample` rows a table."""
    total = 0.0
    for table, rules in plan.items():  # one transaction (no autocommit), rolled back at the end
        ident, cols = sql.Identifier(table), [sql.Identifier(r.column.column) for r in rules]
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()[0]  # type: ignore[index]
        ids = [
            r[0]
            for r in conn.execute(
                sql.SQL("SELECT id FROM {} ORDER BY random() LIMIT %s").format(ident), (sample,)
            )
        ]
        select = sql.SQL("SELECT {} FROM {} WHERE id = %s").format(sql.SQL(", ").join(cols), ident)
        update = sql.SQL("UPDATE {} SET {} WHERE id = %s").format(
            ident, sql.SQL(", ").join(sql.SQL("{} = %s").format(c) for c in cols)
        )
        start = time.monotonic()
        for row_id in ids:
            row = conn.execute(select, (row_id,)).fetchone() or ()
            conn.execute(update, [*(_mask_in_python(r, v) for r, v in zip(rules, row, strict=True)), row_id])
        per_row = (time.monotonic() - start) / max(1, len(ids))
        total += per_row * count
        print(f"    row-by-row {table:<26} {per_row * 1e6:8.0f} us/row x {count:>9} rows", flush=True)
    conn.rollback()
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partners", type=int, default=1_000_000)
    parser.add_argument("--payslips", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2000)
    args = parser.parse_args()
    rules = load_rules(ROOT)
    workdir = Path(tempfile.mkdtemp(prefix="odoo-gitops-pg-bench-", dir="/tmp"))
    cluster: PgCluster | None = None
    try:
        cluster = start_cluster(workdir)
        print(
            f"PostgreSQL cluster on port {cluster.port}; "
            f"loading {args.partners} partners, {args.payslips} payslips"
        )
        cluster.create_database("bench_source")
        timed(
            "load (generate_series)",
            lambda: load_odoo_database(cluster.dsn("bench_source"), OdooSizes(args.partners, args.payslips)),
        )
        for name in ("bench_product", "bench_floor", "bench_loop"):
            cluster.create_database(name, template="bench_source")
        product = Server.from_dsn(cluster.dsn("bench_product"))
        with connect(product) as conn:
            plan, _ = masking_plan(rules, database_columns(conn))
            rows = {
                t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
                for t in plan
            }  # type: ignore[index]
            print(
                f"  masked columns: {sum(len(r) for r in plan.values())} in {len(plan)} tables, "
                f"{sum(rows.values()):,} rows ({rows['res_partner']:,} partners, "
                f"{rows['hr_payslip']:,} payslips)"
            )
            baseline = take_baseline(conn, [r for rs in plan.values() for r in rs])
            t_product, _ = timed("product: one UPDATE per table", lambda: apply_masking(conn, rules, SALT))
            t_purge, _ = timed(
                "  (apart) VACUUM FULL of the masked tables",
                lambda: purge_old_row_versions(conn, sorted(plan)),
            )
        t_proof, proof = timed("  (apart) masking proof", lambda: prove_masking(product, baseline))
        with connect(product.on("bench_floor")) as conn:
            t_floor, _ = timed("floor: UPDATE … SET col = md5(col), per column", lambda: floor(conn, plan))
        with connect(product.on("bench_loop"), autocommit=False) as conn:
            print(f"  row-by-row client loop on {args.sample} random rows per table, extrapolated:")
            t_loop = row_by_row(conn, plan, args.sample)
        print()
        print(f"floor (md5 per column)          {t_floor:9.2f} s")
        print(
            f"product (one UPDATE per table)  {t_product:9.2f} s   "
            f"ratio product/floor {t_product / t_floor:5.2f}x (target <= 2x)"
        )
        print(
            f"row-by-row (extrapolated)       {t_loop:9.2f} s   "
            f"product is {t_loop / t_product:6.1f}x faster (target >= 20x)"
        )
        print(
            f"proof: {proof.sampled_values} sampled values, {proof.searched_values} searched in a "
            f"{proof.dump_bytes / 1e6:.0f} MB dump, passed={proof.passed}, {t_proof:.1f} s; "
            f"purge {t_purge:.1f} s"
        )
    finally:
        if cluster is not None:
            stop_cluster(cluster)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

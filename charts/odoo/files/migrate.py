"""Update the modules whose checksums changed, as a single updater per database.

Takes a PostgreSQL session advisory lock on the database before running
`odoo -u <modules> --stop-after-init` and holds it until Odoo exits, so two migration Jobs (two
Argo CD syncs, a Helm retry, a second tenant wave) never update the same database at once.
Usage: migrate.py CONFIG MODULES [--init-if-empty]   (PG* variables name the database)
"""

import os
import subprocess
import sys

import psycopg2

LOCK_NAMESPACE = "odoo-gitops/migrate/"


def lock_key(database):
    # hashtext() is stable across sessions: the same database always maps to the same lock.
    return "SELECT pg_advisory_lock(hashtext(%s))", (LOCK_NAMESPACE + database,)


def has_odoo_tables(cursor):
    cursor.execute("SELECT to_regclass('public.ir_module_module') IS NOT NULL")
    return bool(cursor.fetchone()[0])


def odoo_args(config, database, modules, initialise):
    flag = "-i" if initialise else "-u"
    targets = ",".join(["base", *modules]) if initialise else ",".join(modules)
    command = os.environ.get("ODOO_COMMAND", "odoo").split()
    return [*command, "-c", config, "-d", database, flag, targets, "--stop-after-init", "--no-http"]


def main(argv):
    if len(argv) < 3:
        raise SystemExit("usage: migrate.py CONFIG MODULES [--init-if-empty]")
    config, modules = argv[1], [m for m in argv[2].split(",") if m]
    database = os.environ["PGDATABASE"]
    timeout_ms = int(os.environ.get("LOCK_TIMEOUT_SECONDS", "1800")) * 1000
    connection = psycopg2.connect("")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = %s", (timeout_ms,))
        print(f"migrate: waiting for the update lock on {database}", flush=True)
        cursor.execute(*lock_key(database))
        initialise = "--init-if-empty" in argv and not has_odoo_tables(cursor)
        args = odoo_args(config, database, modules, initialise)
        print("migrate: " + " ".join(args), flush=True)
        code = subprocess.call(args)
    connection.close()
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv)

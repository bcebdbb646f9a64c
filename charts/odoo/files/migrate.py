"""Update the modules whose checksums changed, as a single updater per database.

Takes a PostgreSQL session advisory lock on the database before running
`odoo -u <modules> --stop-after-init` and holds it until Odoo exits, so two migration Jobs (two
Argo CD syncs, a Helm retry, a second tenant wave) never update the same database at once.
Usage: migrate.py CONFIG MODULES [--init-if-empty]   (PG* variables name the database)

With PROOF_CONFIGMAP set (chart value migration.recordProof), it then records, still holding the lock, what
the database runs: each module's `state` and installed `latest_version` from ir_module_module, the modules
this run updated, Odoo's exit code and the release version, as `proof.json` in that ConfigMap (labelled
odoo-gitops.io/database-proof=true and with the release's labels, PROOF_LABELS), written through the
in-cluster API with the Job's service-account token. `odoo-gitops verify` compares it with release.yaml
(gitops/verify/database_proof.py). A failed recording is reported and leaves Odoo's exit code as is.
"""

import datetime
import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

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


SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
PROOF_STATES = ("installed", "to upgrade", "to install", "to remove")


def module_rows(cursor):
    """state and installed version of every module Odoo considers installed (or half-way through)."""
    cursor.execute(
        "SELECT name, state, latest_version FROM ir_module_module WHERE state = ANY(%s) ORDER BY name",
        (list(PROOF_STATES),),
    )
    return {name: {"state": state, "version": version} for name, state, version in cursor.fetchall()}


def proof_document(rows, *, release_version, database, updated, exit_code, now=None):
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    return {
        "release_version": release_version,
        "database": database,
        "updated_modules": sorted(updated),
        "update_exit_code": exit_code,
        "recorded_at": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "modules": rows,
    }


def _api(method, url, body, token, context):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": "Bearer " + token,
            "Content-Type": "application/merge-patch+json" if method == "PATCH" else "application/json",
        },
    )
    with urllib.request.urlopen(request, context=context, timeout=30) as response:  # noqa: S310
        return response.status


def write_proof(name, document, labels, *, api_url, namespace, token, ca_file):
    """Create the ConfigMap, or merge-patch it when it exists (labels and proof.json replaced)."""
    context = ssl.create_default_context(cafile=ca_file)
    base = f"{api_url}/api/v1/namespaces/{namespace}/configmaps"
    data = {"proof.json": json.dumps(document, sort_keys=True)}
    metadata = {"name": name, "labels": {**labels, "odoo-gitops.io/database-proof": "true"}}
    try:
        return _api("PATCH", f"{base}/{name}", {"metadata": metadata, "data": data}, token, context)
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}
    return _api("POST", base, body, token, context)


def in_cluster(environ):
    """(api_url, namespace, token, ca_file) of the pod's service account."""
    sa_dir = environ.get("ODOO_GITOPS_SA_DIR", SERVICE_ACCOUNT_DIR)
    host, port = environ["KUBERNETES_SERVICE_HOST"], environ.get("KUBERNETES_SERVICE_PORT", "443")
    host = f"[{host}]" if ":" in host else host
    with open(os.path.join(sa_dir, "token")) as token, open(os.path.join(sa_dir, "namespace")) as ns:
        return f"https://{host}:{port}", ns.read().strip(), token.read().strip(), os.path.join(sa_dir, "ca.crt")


def record(cursor, environ, *, database, updated, exit_code):
    """Write the proof when PROOF_CONFIGMAP is set; True when written (or not asked for)."""
    name = environ.get("PROOF_CONFIGMAP")
    if not name:
        return True
    try:
        document = proof_document(
            module_rows(cursor),
            release_version=environ.get("RELEASE_VERSION", ""),
            database=database,
            updated=updated,
            exit_code=exit_code,
        )
        labels = json.loads(environ.get("PROOF_LABELS") or "{}")
        api_url, namespace, token, ca_file = in_cluster(environ)
        write_proof(name, document, labels, api_url=api_url, namespace=namespace, token=token, ca_file=ca_file)
    except (OSError, KeyError, ValueError, urllib.error.URLError) as exc:
        reason = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else type(exc).__name__
        print(f"migrate: could not record the database proof in ConfigMap {name}: {reason}", flush=True)
        return False
    print(f"migrate: recorded the database proof in ConfigMap {name}", flush=True)
    return True


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
        record(cursor, os.environ, database=database, updated=modules, exit_code=code)
    connection.close()
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv)

"""Update the modules whose checksums changed, as a single updater per database.

Takes a PostgreSQL session advisory lock on the database before running
`odoo -u <modules> --stop-after-init` and holds it until Odoo exits, so two migration Jobs (two
Argo CD syncs, a Helm retry, a second tenant wave) never update the same database at once.
Usage: migrate.py CONFIG MODULES [--init-if-empty]   (PG* variables name the database)

With PROOF_CONFIGMAP set (chart value migration.recordProof), it then records, still holding the lock, what
the database runs: each module's `state` and installed `latest_version` from ir_module_module, the checksum
of the code each installed module was updated from, the modules this run updated, Odoo's exit code and the
release version, as `proof.json` in that ConfigMap (labelled
odoo-gitops.io/database-proof=true and with the release's labels, PROOF_LABELS), written through the
in-cluster API with the Job's service-account token. `odoo-gitops verify` compares it with release.yaml
(gitops/verify/database_proof.py). A failed recording is reported and leaves Odoo's exit code as is.

The checksums are computed here, from the addon directories Odoo itself loads in this container (the
data dir's addons of the series, then odoo.conf's addons_path, first match wins, as Odoo resolves a
module), not taken from the image's label: a label is what the build claimed, the files on disk are the code
`odoo -u` just ran (a volume mounted over the addons, a module shadowed by an earlier path entry or an image
whose layers were altered after labelling all show up here and nowhere else). The hash is click-odoo-update's
`addon_hash` with its default exclude patterns and every `.po` file, the value the build records in the
image label and release.yaml (gitops/addons/checksums.py, gitops/image/modules.py); tests check both agree.
"""

import configparser
import fnmatch
import hashlib

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


# click-odoo-update's default module_auto_update.exclude_patterns (gitops/addons/checksums.py DEFAULT_EXCLUDES)
CHECKSUM_EXCLUDES = ("*.pyc", "*.pyo", "i18n/*.pot", "i18n_extra/*.pot", "static/*", "tests/*")
MANIFESTS = ("__manifest__.py", "__openerp__.py")


def addon_hash(top):
    """SHA-1 over each kept file's path relative to `top` then its bytes, in os.walk order (a directory's
    files sorted, then its sub-directories sorted; symlinked directories not entered)."""
    digest = hashlib.sha1()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        reldir = os.path.relpath(dirpath, top)
        for filename in sorted(filenames):
            relpath = filename if reldir == "." else os.path.join(reldir, filename)
            if any(fnmatch.fnmatch(relpath, pattern) for pattern in CHECKSUM_EXCLUDES):
                continue
            digest.update(relpath.encode("utf-8"))
            with open(os.path.join(top, relpath), "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def addon_dirs(config, series):
    """Where Odoo looks for modules, in its order: <data_dir>/addons/<series>, then addons_path."""
    parser = configparser.RawConfigParser()
    if not parser.read(config):
        raise OSError(f"cannot read {config}")
    options = dict(parser.items("options")) if parser.has_section("options") else {}
    found = []
    if options.get("data_dir") and series:
        found.append(os.path.join(options["data_dir"], "addons", series))
    found += [p.strip() for p in (options.get("addons_path") or "").split(",") if p.strip()]
    return [os.path.abspath(p) for p in found]


def module_path(name, directories):
    if not name.isidentifier():  # Odoo imports a module as odoo.addons.<name>: nothing else is a module
        return None
    for directory in directories:
        candidate = os.path.join(directory, name)
        if any(os.path.isfile(os.path.join(candidate, m)) for m in MANIFESTS):
            return candidate
    return None


def add_checksums(rows, config):
    """The checksum and directory of each recorded module's code as Odoo finds it; modules not on these
    paths (Odoo's own, under odoo/addons) get none, and verify requires one for every release module."""
    base = (rows.get("base") or {}).get("version") or ""
    series = ".".join(base.split(".")[:2]) if base.count(".") >= 2 else ""
    directories = addon_dirs(config, series)
    for name, row in rows.items():
        path = module_path(name, directories)
        if path is not None:
            row["checksum"], row["path"] = addon_hash(path), path
    return rows


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


def record(cursor, environ, *, config, database, updated, exit_code):
    """Write the proof when PROOF_CONFIGMAP is set; True when written (or not asked for)."""
    name = environ.get("PROOF_CONFIGMAP")
    if not name:
        return True
    try:
        document = proof_document(
            add_checksums(module_rows(cursor), config),
            release_version=environ.get("RELEASE_VERSION", ""),
            database=database,
            updated=updated,
            exit_code=exit_code,
        )
        labels = json.loads(environ.get("PROOF_LABELS") or "{}")
        api_url, namespace, token, ca_file = in_cluster(environ)
        write_proof(name, document, labels, api_url=api_url, namespace=namespace, token=token, ca_file=ca_file)
    except (OSError, KeyError, ValueError, configparser.Error, urllib.error.URLError) as exc:
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
        record(cursor, os.environ, config=config, database=database, updated=modules, exit_code=code)
    connection.close()
    sys.exit(code)


if __name__ == "__main__":
    main(sys.argv)

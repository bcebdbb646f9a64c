"""`odoo-gitops backup create|verify|restore ENV --backup FILE`.

The database is named by a DSN in an environment variable (`--dsn-env`, default ODOO_GITOPS_DATABASE_URL),
never on the command line. `verify` restores the backup into a scratch database on that server, checks it
against its manifest and the release's modules (envs/ENV/release.yaml), and writes the rehearsal record
(default envs/ENV/rehearsal.json in the config repository). Exit 4 when the rehearsal fails. `restore` is
what a refresh Job runs: restore, neutralise, mask, prove (gitops/database/refresh.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from gitops.audit_trail.rehearsal_record import commit_rehearsal
from gitops.cli.backup_signed import check_signed, manifest_key, newest_first, restore_key, signed_backup
from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, emit, info, json_option, print_report
from gitops.config.loader import load_config
from gitops.config.source import checkout_config_repo, is_remote
from gitops.database.backups import manifest_path, restore_fresh, take_backup
from gitops.database.masking import salt_from_env
from gitops.database.masking_rules import load_rules
from gitops.database.postgres import DEFAULT_DSN_ENV, Server
from gitops.database.refresh import mask_and_prove, write_record
from gitops.database.rehearsal import RehearsalRecord, rehearse
from gitops.errors import PolicyError, Report, UsageError, VerificationError
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import git_remote
from gitops.supply import blob_signature, keys

LATEST = "latest"  # `backup verify --backup DIR/latest`: the newest backup with a manifest in DIR

REHEARSAL_RECORD = "rehearsal.json"
F = TypeVar("F", bound=Callable[..., Any])


def dsn_env_option(func: F) -> F:
    return click.option(
        "--dsn-env",
        default=DEFAULT_DSN_ENV,
        show_default=True,
        metavar="VAR",
        help="Environment variable holding the database DSN (postgresql://user:password@host/db).",
    )(func)


def backup_option(func: F) -> F:
    return click.option(
        "--backup", "backup_file", required=True, type=click.Path(path_type=Path), help="The backup file."
    )(func)


@click.group("backup")
def backup() -> None:
    """Backups with a manifest, and restore rehearsals that prove them."""


@backup.command("create")
@click.argument("env")
@backup_option
@dsn_env_option
@click.option("--key", "key_path", type=click.Path(path_type=Path), default=None,
              help="cosign private key (password in COSIGN_PASSWORD) signing the manifest; a rehearsal "
              "counts only a backup whose manifest is signed.")  # fmt: skip
@json_option
def create(*, env: str, backup_file: Path, dsn_env: str, key_path: Path | None, as_json: bool) -> None:
    """Dump ENV's database (the DSN's database) to FILE (pg_dump -Fc) with FILE.manifest.json next to it,
    signed (FILE.manifest.json.sig, as `cosign sign-blob` writes it) with --key."""
    server = Server.from_env(dsn_env)
    key = keys.load_private_key(key_path) if key_path is not None else None  # a bad key: nothing dumped
    info(f"backing up {env} (database {server.dbname}) to {backup_file}")
    manifest = take_backup(server, backup_file)
    sig = blob_signature.sign_file(manifest_path(backup_file), key) if key is not None else None
    if sig is None:
        info("warning: the manifest is not signed (--key): no rehearsal will count this backup")
    emit(
        {
            "env": env,
            "backup": str(backup_file),
            "manifest": manifest.model_dump(mode="json"),
            "signature": str(sig) if sig else None,
        },
        as_json=as_json,
        human=f"{backup_file}: {len(manifest.tables)} tables, {sum(manifest.tables.values())} rows, "
        f"sha256 {manifest.sha256[:12]}…" + (f", signed ({sig.name})" if sig else ", NOT signed"),
    )


def _release_modules(config_root: Path, env: str) -> tuple[str, ...]:
    bundle = load_config(config_root).env(env)
    return tuple(sorted(bundle.release.modules)) if bundle.release else ()


def _record_path(
    config_repo: str, config_root: Path, env: str, record: Path | None, name: str = REHEARSAL_RECORD
) -> Path:
    if record is not None:
        return record
    if is_remote(config_repo):
        raise UsageError(
            "--record is required when --config-repo is a URL or a bare repository",
            hint="or, for `backup verify`, --commit: the record goes to the repository's main",
        )
    return config_root / "envs" / env / name


def latest_backup(folder: Path) -> Path:
    """The backup of the newest manifest in `folder` (its bytes, manifest and signature are checked by the
    rehearsal, which fails when they do not hold: an older good backup never stands in for it)."""
    found = newest_first(folder)
    if not found:
        raise VerificationError(f"{folder}: no backup with a manifest (for {LATEST})")
    return found[0]


def _human(record: RehearsalRecord) -> str:
    verdict = "PASSED" if record.passed else "FAILED"
    lines = [
        f"restore rehearsal of {record.backup} for {record.env}: {verdict}",
        f"  RTO (restore time): {record.rto_seconds}s   RPO (backup age): {record.rpo_seconds}s",
        f"  checked {record.tables_checked} tables, {record.rows_checked} rows, "
        f"{record.modules_checked} modules",
    ]
    return "\n".join(lines + [f"  - {p}" for p in record.problems])


@backup.command("verify")
@click.argument("env")
@backup_option
@config_repo_option
@dsn_env_option
@click.option("--record", type=click.Path(path_type=Path), default=None,
              help=f"Where to write the rehearsal record (default envs/ENV/{REHEARSAL_RECORD}).")  # fmt: skip
@click.option("--public-key", type=click.Path(path_type=Path), default=None,
              help="Public key of the manifests' signatures (default: signing.public_key).")  # fmt: skip
@click.option("--commit", is_flag=True,
              help="Commit the record (envs/ENV/rehearsal.json + an audit entry) to the config "
              "repository's main with the forge's git credentials (the rehearsal CronJob).")  # fmt: skip
@click.option("--run-id", default=None,
              help="This run's id (the Job's name): re-running it adds no second audit entry.")  # fmt: skip
@forge_options
@json_option
def verify(
    *,
    env: str,
    backup_file: Path,
    config_repo: str,
    dsn_env: str,
    record: Path | None,
    public_key: Path | None,
    commit: bool,
    run_id: str | None,
    forge: ForgeSettings,
    as_json: bool,
) -> None:
    """Rehearse the restore of FILE (DIR/latest: the newest backup in DIR): check its manifest's signature,
    restore it into a scratch database on the DSN's server, check tables, row counts and module states,
    measure RTO and RPO, record the result. Exit 3 when the manifest's signature does not verify, 4 when
    the rehearsal fails otherwise."""
    if commit and public_key is not None:
        raise UsageError(
            "--public-key cannot be used with --commit: a rehearsal on record is checked with the key "
            "on the config repository's main (signing.public_key)"
        )
    server = Server.from_env(dsn_env)
    # a remote is read with the forge's git credentials too (a Job's fresh clone has no others)
    root = checkout_config_repo(git_remote(config_repo, forge) if is_remote(config_repo) else config_repo)
    modules = _release_modules(root, env)
    pem = manifest_key(root, env, public_key)
    target = record if commit else _record_path(config_repo, root, env, record)
    if backup_file.name == LATEST:
        backup_file = latest_backup(backup_file.parent)
    info(f"rehearsing the restore of {backup_file} on {server.params.get('host', 'localhost')}")
    check = functools.partial(check_signed, pem=pem)
    result = rehearse(server, backup_file, env=env, release_modules=modules, check_signature=check)
    data: dict[str, object] = result.to_dict()
    if target is not None:
        write_record(target, data)
        data["record"] = str(target)
    if commit:  # on record before anyone is told
        committed = commit_rehearsal(
            config_repo, env, result.to_dict(), forge=forge, run_id=run_id, now=datetime.now(UTC)
        )
        data["committed"] = committed.to_dict()
    report = Report(data=data, text=lambda: _human(result))
    if result.signature_failed:
        raise PolicyError(
            f"the restore rehearsal of {backup_file.name} refused its backup",
            reasons=result.problems,
            report=report,
        )
    if not result.passed:
        raise VerificationError(f"the restore rehearsal of {backup_file.name} failed", report=report)
    print_report(report, as_json=as_json)


MASKING_RECORD = "masking-proof.json"


@backup.command("restore")
@click.argument("env")
@backup_option
@config_repo_option
@dsn_env_option
@click.option("--public-key", type=click.Path(path_type=Path), default=None,
              help="Public key the backup's manifest must be signed with.")  # fmt: skip
@click.option("--source-env", default=None, metavar="ENV",
              help="The backup's environment: its signing.public_key checks the manifest.")  # fmt: skip
@click.option("--unmasked", is_flag=True, help="Restore production data as is (data_policy: production).")
@click.option("--replace", is_flag=True, help="Drop the DSN's database first if it exists.")
@click.option("--banner", default=None, help="Banner text for the neutralised copy (default: ENV copy).")
@click.option("--record", type=click.Path(path_type=Path), default=None,
              help=f"Where to write the masking proof (default envs/ENV/{MASKING_RECORD}).")  # fmt: skip
@json_option
def restore(
    *,
    env: str,
    backup_file: Path,
    config_repo: str,
    dsn_env: str,
    unmasked: bool,
    replace: bool,
    banner: str | None,
    record: Path | None,
    public_key: Path | None,
    source_env: str | None,
    as_json: bool,
) -> None:
    """Restore FILE (DIR/latest-verified: the newest backup in DIR its signed manifest proves) into the
    DSN's database for ENV, then neutralise and mask it by the config repository's
    masking/*.yaml and prove the masking (the refresh Job runs this). Whatever fails after the restore
    began, the database is dropped. Exit 3: the manifest's signature is missing or does not verify
    (--public-key or --source-env's signing.public_key), uncovered sensitive columns; 4: corrupted backup,
    failed proof."""
    server = Server.from_env(dsn_env)
    root = checkout_config_repo(config_repo)
    pem = restore_key(root, public_key=public_key, source_env=source_env)
    rules = None if unmasked else load_rules(root)
    salt = salt_from_env(rules) if rules is not None else ""
    target = None if unmasked else _record_path(config_repo, root, env, record, MASKING_RECORD)
    backup_file = signed_backup(backup_file, pem)  # exit 3 before anything is restored
    info(f"restoring {backup_file} into {server.dbname} for {env}")
    restored = restore_fresh(server, backup_file, replace=replace)
    result: dict[str, object] = {
        "env": env,
        "database": server.dbname,
        "backup": restored.model_dump(mode="json"),
    }
    if rules is not None and target is not None:
        outcome = mask_and_prove(server, rules, salt, banner=banner or f"{env} copy", record=target)
        result |= {**outcome.to_dict(), "record": str(target)}
    emit(
        result,
        as_json=as_json,
        human=f"{server.dbname}: restored" + ("" if unmasked else ", neutralised, masked, proven"),
    )

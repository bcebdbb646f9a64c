"""What must hold before a promotion or a rollback opens its PR: pure decisions on values (release records,
options, gate results), each refusal a PolicyError (exit 3) or UsageError (exit 2) naming every reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gitops.config.models import BackupRecord, ModuleRecord, ReleaseRecord, ReleaseRef
from gitops.errors import PolicyError, UsageError
from gitops.gates.evidence import SupplyResult
from gitops.promote.plan import ModuleChange
from gitops.promote.stage_seams import SchemaDiff, fail_closed_diff
from gitops.promote.waves import tenant_image

# what a rollback's PR shows for the supply gates: the release ran in the environment before
PREVIOUSLY_ACCEPTED = (
    ("signature", SupplyResult(ok=True, text="previously verified in this environment")),
    ("scan", SupplyResult(ok=True, text="previously accepted in this environment")),
)


# ---------------------------------------------------------------- promote


def check_promotion(source_env: str, target_env: str, reasons: Sequence[str]) -> None:
    """Refuse the promotion when anything said no (plan, wave, supply gates, schema diff): every reason."""
    if reasons:
        raise PolicyError(f"cannot promote {source_env} → {target_env}", reasons=list(reasons))


def schema_reasons(schema: SchemaDiff) -> list[str]:
    """An addons diff that broke a consistency rule refuses the promotion."""
    return [f"addons diff: {error}" for error in schema.errors]


def shown(result: SupplyResult | None, default: str) -> str:
    """A supply check as the PR body shows it (`default` when the pipeline does not ask for it)."""
    if result is None:
        return default
    return result.text if result.ok else f"FAILED: {result.text}"


# ---------------------------------------------------------------- rollback


def schema_changed(current: ReleaseRecord, previous: ReleaseRef) -> bool | None:
    """Did `current` change the schema relative to `previous`? None when that is unknown; callers treat
    unknown as a change (fail closed). Evidence: the destructive flag, the same modules, or every changed
    module recording the same schema fingerprint on both sides (build's gitops.addons.schema_state). A
    recorded class alone is not evidence (records older than the schema fingerprints carry one too)."""
    if current.destructive:
        return True
    if current.modules == previous.modules:
        return False
    diff = fail_closed_diff(
        old_modules=previous.modules,
        new_modules=current.modules,
        declared_destructive=False,
        fingerprint=None,
    )
    return None if diff.destructive else False


@dataclass(frozen=True, kw_only=True)
class RollbackScope:
    """One rollback: from which release (`version_from`, and what is known of its schema) back to `to`."""

    to: ReleaseRef
    version_from: str
    schema: bool | None  # the release rolled back changed the schema: yes, no, unknown
    unknown_why: str
    backup: BackupRecord | None
    wave: str | None
    tenants: tuple[str, ...]
    completes_env: bool
    modules_from: Mapping[str, ModuleRecord] | None  # None: not recorded
    backup_rule: str = "release.backup"


def tenant_backup(current: ReleaseRecord) -> BackupRecord | None:
    """A backup usable for tenants ahead of the env: one recorded after the env's own release went out."""
    backup = current.backup
    if backup is None or current.promoted_at is None or backup.completed_at < current.promoted_at:
        return None
    return backup


def _run(tenants: Sequence[str]) -> str:
    return f"{', '.join(tenants)} {'runs' if len(tenants) == 1 else 'run'}"


def rollback_scope(
    current: ReleaseRecord,
    *,
    env: str,
    enabled: tuple[str, ...],
    wave: str | None,
    chosen: tuple[str, ...],
) -> RollbackScope:
    """What goes back where: the whole env to `previous`; tenants ahead of the env (a canary) to the env's
    release; other tenants to `previous`. Tenants in both situations are refused (roll them back apart)."""
    ahead = [t for t in chosen if tenant_image(current, t) != current.image]
    level = [t for t in chosen if t not in ahead]
    if ahead and level:
        raise UsageError(
            f"{_run(ahead)} a release ahead of {env}'s {current.version} and {_run(level)} "
            f"{current.version}: roll them back separately (--tenants {','.join(ahead)}, then "
            f"--tenants {','.join(level)})"
        )
    own = {current.tenants[t].image: current.tenants[t] for t in ahead}
    if len(own) > 1:
        raise UsageError(f"{', '.join(ahead)} run different releases: roll them back separately")
    if own:
        (state,) = own.values()
        return RollbackScope(
            to=current,
            version_from=state.version,
            schema=None,
            unknown_why="release.yaml records no modules or schema fingerprint for a tenant's own release",
            backup=tenant_backup(current),
            wave=wave,
            tenants=chosen,
            completes_env=False,
            modules_from=None,
            backup_rule=f"release.backup, completed after {env}'s {current.version} was promoted",
        )
    if current.previous is None:
        raise PolicyError(
            f"cannot roll back {env}", reasons=[f"envs/{env}/release.yaml records no previous release"]
        )
    whole = not chosen or set(chosen) == set(enabled)
    schema, why = schema_changed(current, current.previous), "no schema fingerprint recorded"
    canaries = [t for t in enabled if whole and tenant_image(current, t) != current.image]
    if canaries and schema is False:  # they go back from their own release, whose schema is not recorded
        schema, why = None, f"{_run(canaries)} a later release whose schema release.yaml does not record"
    return RollbackScope(
        to=current.previous,
        version_from=current.version,
        schema=schema,
        unknown_why=why,
        backup=current.backup,
        wave=None if whole else wave,
        tenants=enabled if whole else chosen,
        completes_env=whole,
        modules_from=current.modules,
    )


def restore_reasons(
    back: RollbackScope, with_db_restore: bool, where: str
) -> tuple[list[str], BackupRecord | None]:
    """Fail closed: a schema change, known or not, is rolled back only with a database restore."""
    if back.schema is False:
        return [], None
    which = f"backup {back.backup.id}" if back.backup else "a database backup"
    if back.schema is None:
        said = (
            f"it is unknown whether {back.version_from} changed the database schema{where} "
            f"({back.unknown_why}); treated as a schema change (fail closed): "
            f"re-run with --with-db-restore to restore {which}"
        )
    else:
        said = (
            f"release {back.version_from} changed the database schema{where}; rolling back the image alone "
            f"would leave the schema ahead of the code. Re-run with --with-db-restore to restore {which}"
        )
    if not with_db_restore:
        return [said], None
    if back.backup is None:
        return [
            f"--with-db-restore: no backup recorded for {back.version_from}{where} ({back.backup_rule})"
        ], None
    return [], back.backup


def rollback_where(back: RollbackScope) -> str:
    """' of TENANTS' when the rollback covers only some tenants ('' for the whole environment)."""
    return "" if back.completes_env else f" of {', '.join(back.tenants)}"


def check_rollback(env: str, back: RollbackScope, with_db_restore: bool) -> BackupRecord | None:
    """Refuse a rollback to a release never verified in `env`, or one that needs a database restore it does
    not do; returns the backup to restore (None: the image alone goes back)."""
    where = rollback_where(back)
    reasons = []
    if back.to.verification is None:
        what = "the previous release" if back.modules_from is not None else f"{env}'s release"
        reasons.append(f"{what} {back.to.version} was never verified in {env}")
    more, restore = restore_reasons(back, with_db_restore, where)
    reasons += more
    if reasons:
        raise PolicyError(f"cannot roll back {env}{where}", reasons=reasons)
    return restore


def rollback_schema(
    current: ReleaseRecord,
    back: RollbackScope,
    changes: tuple[ModuleChange, ...],
    restore: BackupRecord | None,
) -> SchemaDiff:
    """What the rollback PR declares about the schema: destructive exactly when it restores a backup."""
    known = back.schema is not None and bool(current.schema_fingerprint and back.to.schema_fingerprint)
    return SchemaDiff(
        computed=known,
        change_class="normal" if changes or back.schema is not False else "standard",
        destructive=restore is not None,
        fingerprint=back.to.schema_fingerprint,
        note=None if known else "schema fingerprints unknown: treated as a schema change",
    )

"""Open or update the promotion PR: `promote` (a release from the source environment) and `rollback`
(the target's previous release) both end in the same PR machinery (installer.py).

The decisions are pure (preconditions.py, plan.py, waves.py); the supply evidence is gathered in
supply_evidence.py, the PR published in publishing.py."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace

from gitops.config.models import ReleaseRecord
from gitops.promote.auditing import record_audit
from gitops.promote.installer import in_background, install_release, open_context
from gitops.promote.plan import make_plan, module_changes
from gitops.promote.preconditions import check_promotion, schema_changed, schema_reasons, shown
from gitops.promote.promotion import (
    Install,
    PromoteOptions,
    PromotionResult,
    Seams,
    branch_name,
)
from gitops.promote.release_files import new_release_data
from gitops.promote.rollback import rollback
from gitops.promote.run_state import RunState
from gitops.promote.stage_seams import (
    SchemaDiff,
    compute_schema_diff,
    fail_closed_diff,
    schema_diff_from,
)
from gitops.promote.supply_evidence import supply_reasons
from gitops.promote.waves import runs_already, select_tenants

__all__ = [  # the promotion's entry points and values, for the CLI and the audit writers
    "Install",
    "PromoteOptions",
    "PromotionResult",
    "RunState",
    "Seams",
    "branch_name",
    "new_release_data",
    "promote",
    "record_audit",
    "rollback",
    "runs_already",
    "schema_changed",
]


def _schema(options: PromoteOptions, old: ReleaseRecord | None, new: ReleaseRecord) -> SchemaDiff:
    if options.addons_repo is None:
        return fail_closed_diff(
            old_modules=old.modules if old else {},
            new_modules=new.modules,
            declared_destructive=new.destructive,
            fingerprint=new.schema_fingerprint,
        )
    return schema_diff_from(
        compute_schema_diff(options.addons_repo, old.source_commit if old else None, new.source_commit)
    )


def _drain(work: Callable[[], SchemaDiff] | None) -> None:
    """Wait for background work whose result is not wanted (its error neither)."""
    if work is not None:
        with contextlib.suppress(Exception):
            work()


def promote(source_env: str, target_env: str, *, options: PromoteOptions, seams: Seams) -> PromotionResult:
    """Open (or update) the PR that promotes `source_env`'s release into `target_env`. Exit 3 on policy."""
    ctx = open_context(options, seams, target_env)
    plan = make_plan(ctx.repo, source_env, target_env, now=ctx.now)
    source, target = ctx.repo.env(source_env), ctx.repo.env(target_env)
    release = source.release
    assert release is not None  # make_plan refuses a source without a release
    wave, tenants, completes, wave_reasons = select_tenants(
        target, plan.waves, release.image, options, ctx.now
    )
    probe = Install(
        kind="promotion",
        source=source_env,
        target=target_env,
        image=release.image,
        version=release.version,
        source_commit=release.source_commit,
        modules=dict(release.modules),
        schema=fail_closed_diff(old_modules={}, new_modules={}, declared_destructive=False, fingerprint=None),
        wave=wave,
        tenants=tenants,
        completes_env=completes,
        changes=module_changes(target.release.modules if target.release else {}, release.modules),
    )
    if runs_already(target.release, probe):
        return install_release(ctx, probe)
    reasons = list(plan.reasons) + wave_reasons
    # the schema evidence (git) runs while the registry is asked for the supply evidence; it counts (and its
    # errors surface) only when nothing refused the promotion before it, as when it ran afterwards
    early = in_background(lambda: _schema(options, target.release, release)) if not reasons else None
    try:
        more, supply = supply_reasons(
            ctx.seams.supply, ctx.repo, target, release.image, plan.gates, now=ctx.now
        )
    except BaseException:
        _drain(early)
        raise
    reasons += more
    if early is not None and not reasons:
        schema = early()
    else:
        _drain(early)
        schema = probe.schema
    check_promotion(source_env, target_env, reasons + schema_reasons(schema))
    seen = dict(supply)
    install = replace(
        probe,
        schema=schema,
        signature=shown(seen.get("signature"), "not required by the pipeline"),
        scan=shown(seen.get("scan"), "not required by the pipeline"),
        supply=supply,
    )
    return install_release(ctx, install)

"""Open or update the promotion PR: `promote` (a release from the source environment) and `rollback`
(the target's previous release) both end in the same PR machinery (installer.py).

The decisions are pure (preconditions.py, plan.py, waves.py); the supply evidence is gathered in
supply_evidence.py, the PR published in publishing.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import yaml

from gitops.addons.diff import AddonsDiff
from gitops.config.models import ReleaseRecord
from gitops.gates.content import FAST_SAFE_LOADER
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.auditing import record_audit
from gitops.promote.installer import clone_config, in_background, install_release, open_context
from gitops.promote.plan import make_plan, module_changes
from gitops.promote.preconditions import check_promotion, schema_changed, schema_reasons, shown
from gitops.promote.promotion import (
    Install,
    PromoteOptions,
    PromotionResult,
    Seams,
    branch_name,
)
from gitops.promote.pullfacts import release_path
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


SchemaKey = tuple[str | None, str]  # (the target's source commit or None, the source's source commit)
EarlySchema = Callable[[], tuple[SchemaKey, AddonsDiff] | None]


def _release_commits(checkout: ConfigCheckout, source_env: str, target_env: str) -> SchemaKey | None:
    """Both releases' source commits, read straight from their release.yaml at HEAD (None when unclear)."""
    paths = [release_path(target_env), release_path(source_env)]
    old, new = (
        None if text is None else yaml.load(text, Loader=FAST_SAFE_LOADER)  # noqa: S506 - a safe loader
        for text in plumbing.read_blobs(checkout, "HEAD", paths).values()
    )
    new_commit = new.get("source_commit") if isinstance(new, dict) else None
    old_commit: Any = old.get("source_commit") if isinstance(old, dict) else None
    if not isinstance(new_commit, str) or (old is not None and not isinstance(old_commit, str)):
        return None
    return old_commit, new_commit


def _early_schema(options: PromoteOptions, checkout: ConfigCheckout, source: str, target: str) -> EarlySchema:
    """Start the schema evidence (git subprocesses on the addons repo) on a worker thread before the config
    loads. It is only a head start: `_schema` uses it when the loaded releases name the same commits and it
    succeeded, and otherwise computes the evidence again exactly as without it."""
    addons = options.addons_repo
    if addons is None:
        return lambda: None

    def work() -> tuple[SchemaKey, AddonsDiff] | None:
        key = _release_commits(checkout, source, target)
        return None if key is None else (key, compute_schema_diff(addons, *key))

    return in_background(work)


def _schema(
    options: PromoteOptions, old: ReleaseRecord | None, new: ReleaseRecord, early: EarlySchema
) -> SchemaDiff:
    if options.addons_repo is None:
        return fail_closed_diff(
            old_modules=old.modules if old else {},
            new_modules=new.modules,
            declared_destructive=new.destructive,
            fingerprint=new.schema_fingerprint,
        )
    key = (old.source_commit if old else None, new.source_commit)
    try:
        started = early()
    except Exception:  # the head start failed: compute again below, where errors surface as before
        started = None
    if started is not None and started[0] == key:
        return schema_diff_from(started[1])
    return schema_diff_from(compute_schema_diff(options.addons_repo, *key))


def promote(source_env: str, target_env: str, *, options: PromoteOptions, seams: Seams) -> PromotionResult:
    """Open (or update) the PR that promotes `source_env`'s release into `target_env`. Exit 3 on policy."""
    checkout = clone_config(options)
    early = _early_schema(options, checkout, source_env, target_env)  # runs while the config loads
    ctx = open_context(options, seams, target_env, checkout=checkout)
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
    more, supply = supply_reasons(ctx.seams.supply, ctx.repo, target, release.image, plan.gates, now=ctx.now)
    reasons += more
    schema = _schema(options, target.release, release, early) if not reasons else probe.schema
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

"""Open or update the promotion PR: `promote` (a release from the source environment) and `rollback`
(the target's previous release) both end in the same PR machinery (installer.py).

The decisions are pure (preconditions.py, plan.py, waves.py); the supply evidence is gathered in
supply_evidence.py, the PR published in publishing.py."""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from gitops.childwork import ChildWork, in_child
from gitops.config.models import ReleaseRecord
from gitops.config.release_file import parse_release
from gitops.config.types import SHA1_RE
from gitops.errors import ExternalError
from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout
from gitops.promote.auditing import record_audit
from gitops.promote.installer import (
    PromotionContext,
    clone_config,
    files_in,
    install_release,
    open_context,
)
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
from gitops.promote.release_files import edited_paths, new_release_data, prepare_edits
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


Early = tuple[str | None, str, SchemaDiff] | None
"""The schema evidence started right after the clone: the commits it diffed, and its result."""


def _source_commit(raw: bytes | None) -> str | None:
    try:
        commit = parse_release(raw).get("source_commit") if raw else None
    except ValueError:
        return None
    return commit if isinstance(commit, str) and SHA1_RE.match(commit) else None


Releases = tuple[bytes | None, bytes | None]
"""The raw release.yaml files of a promotion's target and source (None: absent)."""


def _releases(checkout: ConfigCheckout, source: str, target: str) -> Releases | None:
    """The raw release.yaml files of the target and the source at the clone's head; None when git cannot
    read them (the config load then meets and reports the problem)."""
    paths = [release_path(target), release_path(source)]
    try:
        found = plumbing.read_blobs(checkout, "HEAD", paths)
    except ExternalError:
        return None
    return found[paths[0]], found[paths[1]]


def _early_schema(options: PromoteOptions, raw: Releases) -> Early:
    """The schema evidence of the commits the target's and the source's release.yaml name, read before the
    config is loaded (which decides whether they count); None when they name no commit. An error is not
    answered: the evidence is then made again where it is wanted, and raises it there."""
    assert options.addons_repo is not None
    target, source = raw
    old, new = _source_commit(target), _source_commit(source)
    if new is None or (old is None and target is not None):
        return None
    return old, new, schema_diff_from(compute_schema_diff(options.addons_repo, old, new))


def _schema_evidence(
    early: ChildWork[Early] | None, options: PromoteOptions, old: ReleaseRecord | None, new: ReleaseRecord
) -> SchemaDiff:
    """The early evidence when it diffed the commits the loaded config names, else computed now."""
    found = early.result() if early is not None else None
    if found is None or found[:2] != ((old.source_commit if old else None), new.source_commit):
        return _schema(options, old, new)
    return found[2]


def _while_waiting(
    ctx: PromotionContext, probe: Install, likely: tuple[str, bool], early: ChildWork[Early]
) -> None:
    """While the child computes the schema evidence, this process's core is free: the tenant and values
    files are edited for the `release:` blocks the evidence may lead to (`likely` first), from main's files
    as loaded, until the child is done. The promotion's edit finds them (installer.install_release)."""
    target = ctx.repo.env(probe.target)
    current = files_in(ctx.repo.files, edited_paths(target, probe))
    if current is not None:
        stop = partial(early.answered, 0)
        prepare_edits(
            current, target, probe, loaded=ctx.repo.files, edits=ctx.edits, likely=likely, stop=stop
        )


def promote(source_env: str, target_env: str, *, options: PromoteOptions, seams: Seams) -> PromotionResult:
    """Open (or update) the PR that promotes `source_env`'s release into `target_env`. Exit 3 on policy.

    With an addons repo, the schema evidence starts right after the clone, in a child process
    (gitops.childwork): it runs on the other core while the config loads and the registry answers; it counts
    only when nothing refused the promotion before it, and a run that ends without it (a refusal, nothing to
    do, an error) neither waits for it nor sees its error."""
    checkout = clone_config(options)
    # read here, before the fork: git answers faster than in a child that shares the cores with the load
    raw = _releases(checkout, source_env, target_env) if options.addons_repo is not None else None
    early = (
        in_child(lambda: _early_schema(options, raw), fallback=lambda: None, timeout=checkout.timeout)
        if raw is not None
        else None
    )
    ctx = open_context(options, seams, target_env, checkout=checkout)
    try:
        return _promote(ctx, source_env, target_env, options=options, early=early)
    finally:
        ctx.settle()


def _promote(
    ctx: PromotionContext,
    source_env: str,
    target_env: str,
    *,
    options: PromoteOptions,
    early: ChildWork[Early] | None,
) -> PromotionResult:
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
    if early is not None and not reasons:
        ctx.window.start()  # its CPU while this thread waits for the child, not while the run pushes
        _while_waiting(ctx, probe, (release.change_class or "normal", bool(release.destructive)), early)
    # the evidence counts (and its errors surface) only when nothing refused the promotion before it
    schema = probe.schema if reasons else _schema_evidence(early, options, target.release, release)
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

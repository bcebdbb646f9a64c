"""`rollback`: a PR that returns an environment (or some of its tenants) to the previous verified release,
through the same machinery as a promotion (installer.py); what may go back is decided in preconditions.py."""

from __future__ import annotations

from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.errors import PolicyError, UsageError
from gitops.promote.installer import PromotionContext, install_release, open_context
from gitops.promote.plan import module_changes
from gitops.promote.preconditions import PREVIOUSLY_ACCEPTED, check_rollback, rollback_schema, rollback_scope
from gitops.promote.promotion import Install, PromoteOptions, PromotionResult, Seams
from gitops.promote.waves import _explicit_wave, resolve_waves


def rollback_tenants(
    repo: ConfigRepo, target: EnvBundle, options: PromoteOptions
) -> tuple[str | None, tuple[str, ...]]:
    """(wave name, tenants) that --tenants / --wave name; (None, ()) for the whole environment."""
    enabled = target.config.enabled_tenants()
    if (options.tenants or options.wave) and not enabled:
        raise UsageError(f"--tenants/--wave: {target.name!r} has no enabled tenants")
    if options.tenants:
        unknown = sorted(set(options.tenants) - set(enabled))
        if unknown:
            raise UsageError(f"--tenants: {', '.join(unknown)} not enabled tenants of {target.name!r}")
        chosen = tuple(sorted(set(options.tenants)))
        return _explicit_wave(chosen), chosen
    if options.wave:
        waves = {w.name: w for w in resolve_waves(repo.pipeline_for(target.name), target)}
        if options.wave not in waves:
            raise UsageError(f"--wave {options.wave!r}: no such wave for {target.name!r}")
        return options.wave, waves[options.wave].tenants
    return None, ()


def rollback(env: str, *, options: PromoteOptions, seams: Seams) -> PromotionResult:
    """Open a PR that returns `env` (or the tenants of --tenants / --wave) to the previous verified release
    (same machinery as promote)."""
    ctx = open_context(options, seams, env)
    try:
        return _rollback_in(ctx, env, options)
    finally:
        ctx.settle()


def _rollback_in(ctx: PromotionContext, env: str, options: PromoteOptions) -> PromotionResult:
    target = ctx.repo.env(env)
    current = target.release
    if current is None:
        raise PolicyError(f"cannot roll back {env}", reasons=[f"envs/{env}/release.yaml records no release"])
    wave, chosen = rollback_tenants(ctx.repo, target, options)
    enabled = tuple(target.config.enabled_tenants())
    back = rollback_scope(current, env=env, enabled=enabled, wave=wave, chosen=chosen)
    restore = check_rollback(env, back, options.with_db_restore)
    changes = (
        module_changes(dict(back.modules_from), back.to.modules) if back.modules_from is not None else ()
    )
    install = Install(
        kind="rollback",
        source=env,
        target=env,
        image=back.to.image,
        version=back.to.version,
        source_commit=back.to.source_commit,
        modules=dict(back.to.modules),
        schema=rollback_schema(current, back, changes, restore),
        wave=back.wave,
        tenants=back.tenants,
        completes_env=back.completes_env,
        changes=changes,
        signature="previously verified in this environment",
        scan="previously accepted in this environment",
        restore=restore,
        supply=PREVIOUSLY_ACCEPTED,
    )
    return install_release(ctx, install)

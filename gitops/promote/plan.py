"""What promoting SOURCE → TARGET would change, and what it needs. A pure function of config values.

The plan is what `promote` will do: the same pipeline checks, the same wave selection
(gitops.promote.waves), the same cheap supply-chain precondition; the window verdict and the stage's gates
are shown as far as they can be known before a PR exists.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import semver

from gitops.config.loader import ConfigRepo
from gitops.config.models import ModuleRecord, Pipeline, ReleaseRecord
from gitops.config.types import format_duration
from gitops.errors import UsageError
from gitops.promote.plan_gates import (
    GateStatus,
    WindowSummary,
    gate_statuses,
    missing_key_reasons,
    required_approvals,
    window_summary,
)
from gitops.promote.stage_seams import WindowCheck, fail_closed_diff
from gitops.promote.waves import (
    NextWave,
    WavePlan,
    WaveRequest,
    WaveSelection,
    WaveStatus,
    resolve_waves,
    runs_already,
    selection,
    wave_states,
)

__all__ = [
    "GateStatus",
    "ModuleChange",
    "Plan",
    "WavePlan",
    "make_plan",
    "missing_key_reasons",
    "module_changes",
    "resolve_waves",
]
NEXT_WAVE = NextWave()

Step = Literal["forward", "rollback", "skip", "backward"]
Bump = Literal["major", "minor", "patch", "prerelease", "build", "none", "downgrade", "initial"]


@dataclass(frozen=True, kw_only=True)
class ModuleChange:
    name: str
    change: Literal["added", "removed", "changed"]
    from_version: str | None
    to_version: str | None
    from_checksum: str | None
    to_checksum: str | None


@dataclass(frozen=True, kw_only=True)
class Soak:
    required: timedelta
    elapsed: timedelta | None
    since: datetime | None
    satisfied: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "required": format_duration(self.required),
            "required_seconds": int(self.required.total_seconds()),
            "elapsed_seconds": None if self.elapsed is None else int(self.elapsed.total_seconds()),
            "since": self.since.isoformat() if self.since else None,
            "satisfied": self.satisfied,
        }


@dataclass(frozen=True, kw_only=True)
class Plan:
    """`refusals` are all of promote's reasons to refuse (pipeline, earlier waves, configuration), and
    `allowed` is False exactly when there are some; `reasons` is the pipeline part alone (promote adds the
    rest itself). In JSON, `reasons` is the whole list."""

    source: str
    target: str
    pipeline: str
    step: Step
    allowed: bool
    reasons: tuple[str, ...]
    up_to_date: bool
    image_from: str | None
    image_to: str
    version_from: str | None
    version_to: str
    bump: Bump
    modules: tuple[ModuleChange, ...]
    change_class: str | None
    destructive: bool
    source_verified: bool
    soak: Soak
    tenants: tuple[str, ...]
    waves: tuple[WavePlan, ...]
    gates: tuple[str, ...]
    approvals: dict[str, Any] = field(default_factory=dict)
    refusals: tuple[str, ...] = ()
    next_wave: WaveSelection | None = None
    wave_states: tuple[WaveStatus, ...] = ()
    window: WindowSummary | None = None
    gate_status: tuple[GateStatus, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "pipeline": self.pipeline,
            "step": self.step,
            "allowed": self.allowed,
            "reasons": list(self.refusals),
            "up_to_date": self.up_to_date,
            "image": {
                "from": self.image_from,
                "to": self.image_to,
                "changed": self.image_from != self.image_to,
            },
            "version": {"from": self.version_from, "to": self.version_to, "bump": self.bump},
            "modules": {
                kind: [asdict(m) for m in self.modules if m.change == kind]
                for kind in ("added", "removed", "changed")
            },
            "change_class": self.change_class,
            "destructive": self.destructive,
            "source_verified": self.source_verified,
            "soak": self.soak.to_dict(),
            "tenants": list(self.tenants),
            "next_wave": None
            if self.next_wave is None
            else {
                "name": self.next_wave.wave,
                "tenants": list(self.next_wave.tenants),
                "completes_env": self.next_wave.completes_env,
            },
            "waves": [w.to_dict() for w in self.wave_states],
            "window": self.window.to_dict() if self.window else None,
            "gates": [g.to_dict() for g in self.gate_status],
            "approvals": self.approvals,
        }


def version_bump(old: str | None, new: str) -> Bump:
    """Which semver part changed from `old` to `new`."""
    if old is None:
        return "initial"
    a, b = semver.Version.parse(old), semver.Version.parse(new)
    if b < a:
        return "downgrade"
    parts: tuple[Literal["major", "minor", "patch"], ...] = ("major", "minor", "patch")
    for part in parts:
        if getattr(a, part) != getattr(b, part):
            return part
    if a.prerelease != b.prerelease:
        return "prerelease"
    return "build" if a.build != b.build else "none"


def module_changes(old: dict[str, ModuleRecord], new: dict[str, ModuleRecord]) -> tuple[ModuleChange, ...]:
    changes = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        kind: Literal["added", "removed", "changed"] = (
            "added" if before is None else "removed" if after is None else "changed"
        )
        changes.append(
            ModuleChange(
                name=name,
                change=kind,
                from_version=before.version if before else None,
                to_version=after.version if after else None,
                from_checksum=before.checksum if before else None,
                to_checksum=after.checksum if after else None,
            )
        )
    return tuple(changes)


def classify_step(pipeline: Pipeline, source: str, target: str) -> Step:
    src, dst = pipeline.index_of(source), pipeline.index_of(target)
    if src is None or dst is None:
        missing = source if src is None else target
        raise UsageError(f"environment {missing!r} is not a stage of pipeline {pipeline.name!r}")
    if src == dst:
        raise UsageError(f"source and target are the same environment ({source!r})")
    if dst == src + 1:
        return "forward"
    return "skip" if dst > src else "backward"


def soak_of(required: timedelta, release: ReleaseRecord, now: datetime) -> Soak:
    """How long `release` has run verified at `now`, against the `required` soak (promote and the gate)."""
    since = release.verification.verified_at if release.verification else None
    if since is None:
        return Soak(required=required, elapsed=None, since=None, satisfied=required <= timedelta(0))
    elapsed = now - since
    return Soak(required=required, elapsed=elapsed, since=since, satisfied=elapsed >= required)


def _pipeline_reasons(
    pipeline: Pipeline, step: Step, source_env: str, target_env: str, *, soak: Soak, verified: bool
) -> list[str]:
    reasons = []
    if step == "skip":
        first, last = pipeline.index_of(source_env) or 0, pipeline.index_of(target_env) or 0
        skipped = [s.env for s in pipeline.stages[first + 1 : last]]
        reasons.append(f"pipeline {pipeline.name!r} does not allow skipping {', '.join(skipped)}")
    if step == "backward":
        reasons.append(
            f"{target_env!r} comes before {source_env!r} in pipeline {pipeline.name!r}; "
            "going backwards is only possible as a rollback (odoo-gitops rollback)"
        )
    if not verified:
        reasons.append(f"the release in {source_env!r} has not been verified there (odoo-gitops verify)")
    elif not soak.satisfied:
        reasons.append(
            f"soak time in {source_env!r} not over: {format_duration(soak.elapsed or timedelta(0))} "
            f"of {format_duration(soak.required)}"
        )
    return reasons


@dataclass(frozen=True, kw_only=True)
class _Probe:
    """What promote would install, as far as `runs_already` needs to know."""

    image: str
    modules: dict[str, ModuleRecord]
    tenants: tuple[str, ...]
    completes_env: bool


def make_plan(
    repo: ConfigRepo,
    source_env: str,
    target_env: str,
    *,
    now: datetime | None = None,
    request: WaveRequest = NEXT_WAVE,
    window_check: WindowCheck | None = None,
) -> Plan:
    """Compare the source's release with the target's, check the pipeline rules and choose the wave the way
    promote does (`request`: its --tenants / --wave). With `window_check`, also the window verdict now."""
    now = now or datetime.now(UTC)
    source, target = repo.env(source_env), repo.env(target_env)
    pipeline = repo.pipeline_for(source_env)
    step = classify_step(pipeline, source_env, target_env)
    if source.release is None:
        raise UsageError(
            f"environment {source_env!r} has no release yet (envs/{source_env}/release.yaml)",
            hint="promote or build a release into it first",
        )
    rel, cur = source.release, target.release
    stage = pipeline.stage(source_env)
    soak = soak_of(stage.soak if stage else timedelta(0), rel, now)
    reasons = _pipeline_reasons(
        pipeline, step, source_env, target_env, soak=soak, verified=rel.verification is not None
    )
    target_stage = pipeline.stage(target_env)
    gates = target_stage.gates if target_stage else ()
    waves = resolve_waves(pipeline, target)
    chosen = selection(target, waves, rel.image, request, now)
    probe = _Probe(
        image=rel.image, modules=dict(rel.modules), tenants=chosen.tenants, completes_env=chosen.completes_env
    )
    up_to_date = runs_already(cur, probe)
    refusals = () if up_to_date else (*reasons, *chosen.reasons, *missing_key_reasons(target, gates))
    modules = module_changes(cur.modules if cur else {}, rel.modules)
    # the class promote gives without --addons-repo (fail closed), so the approvals shown are the ones it asks
    schema = fail_closed_diff(
        old_modules=cur.modules if cur else {},
        new_modules=rel.modules,
        declared_destructive=rel.destructive,
        fingerprint=rel.schema_fingerprint,
    )
    approvals = required_approvals(target, schema.change_class, schema.destructive)
    window = window_summary(repo, target, now, window_check) if window_check else None
    return Plan(
        source=source_env,
        target=target_env,
        pipeline=pipeline.name,
        step=step,
        allowed=not refusals,
        reasons=tuple(reasons),
        up_to_date=up_to_date,
        image_from=cur.image if cur else None,
        image_to=rel.image,
        version_from=cur.version if cur else None,
        version_to=rel.version,
        bump=version_bump(cur.version if cur else None, rel.version),
        modules=modules,
        change_class=rel.change_class,
        destructive=rel.destructive,
        source_verified=rel.verification is not None,
        soak=soak,
        tenants=tuple(target.config.enabled_tenants()),
        waves=waves,
        gates=gates,
        approvals=approvals,
        refusals=tuple(refusals),
        next_wave=None if up_to_date else chosen,
        wave_states=wave_states(cur, waves, rel.image, chosen, refusals),
        window=window,
        gate_status=gate_statuses(target, gates, approvals, window),
    )

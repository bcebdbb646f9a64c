"""What promoting SOURCE → TARGET would change, and what it needs. A pure function of config values."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import semver

from gitops.config.loader import ConfigRepo, EnvBundle
from gitops.config.models import REST, ModuleRecord, Pipeline, ReleaseRecord
from gitops.config.types import format_duration
from gitops.errors import UsageError

Step = Literal["forward", "rollback", "skip", "backward"]
Bump = Literal["major", "minor", "patch", "prerelease", "build", "none", "downgrade", "initial"]


@dataclass(frozen=True)
class ModuleChange:
    name: str
    change: Literal["added", "removed", "changed"]
    from_version: str | None
    to_version: str | None
    from_checksum: str | None
    to_checksum: str | None


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class WavePlan:
    name: str
    tenants: tuple[str, ...]
    soak: timedelta


@dataclass(frozen=True)
class Plan:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "pipeline": self.pipeline,
            "step": self.step,
            "allowed": self.allowed,
            "reasons": list(self.reasons),
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
            "waves": [
                {"name": w.name, "tenants": list(w.tenants), "soak": format_duration(w.soak)}
                for w in self.waves
            ],
            "gates": list(self.gates),
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
                name,
                kind,
                before.version if before else None,
                after.version if after else None,
                before.checksum if before else None,
                after.checksum if after else None,
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


def _soak(required: timedelta, release: ReleaseRecord, now: datetime) -> Soak:
    since = release.verification.verified_at if release.verification else None
    if since is None:
        return Soak(required, None, None, required <= timedelta(0))
    elapsed = now - since
    return Soak(required, elapsed, since, elapsed >= required)


def resolve_waves(pipeline: Pipeline, target: EnvBundle) -> tuple[WavePlan, ...]:
    """Waves of the target stage with '*' expanded to every enabled tenant no earlier wave took."""
    stage = pipeline.stage(target.name)
    enabled = target.config.enabled_tenants()
    if not enabled or stage is None:
        return ()
    if not stage.waves:
        return (WavePlan("all", tuple(enabled), timedelta(0)),)
    taken: set[str] = set()
    waves = []
    for wave in stage.waves:
        names = (
            [t for t in enabled if t not in taken]
            if REST in wave.tenants
            else [t for t in wave.tenants if t in enabled]
        )
        taken.update(names)
        waves.append(WavePlan(wave.name, tuple(names), wave.soak))
    return tuple(waves)


def _required_approvals(target: EnvBundle, change_class: str | None, destructive: bool) -> dict[str, Any]:
    policy = target.config.gate_policy
    key: Literal["standard", "normal", "destructive"] = (
        "destructive" if destructive else "standard" if change_class == "standard" else "normal"
    )
    rule = policy.approvals.get(key)
    if rule is None:
        return {"rule": key, "count": 0, "from": [], "require_backup": False}
    return {"rule": key, "count": rule.count, "from": list(rule.from_), "require_backup": rule.require_backup}


def make_plan(repo: ConfigRepo, source_env: str, target_env: str, *, now: datetime | None = None) -> Plan:
    """Compare the source's release with the target's and check the pipeline rules."""
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
    stage = pipeline.stage(source_env)
    soak = _soak(stage.soak if stage else timedelta(0), rel, now)
    if rel.verification is None:
        reasons.append(f"the release in {source_env!r} has not been verified there (odoo-gitops verify)")
    elif not soak.satisfied:
        reasons.append(
            f"soak time in {source_env!r} not over: {format_duration(soak.elapsed or timedelta(0))} "
            f"of {format_duration(soak.required)}"
        )
    up_to_date = cur is not None and cur.image == rel.image and cur.modules == rel.modules
    target_stage = pipeline.stage(target_env)
    return Plan(
        source=source_env,
        target=target_env,
        pipeline=pipeline.name,
        step=step,
        allowed=not reasons,
        reasons=tuple(reasons),
        up_to_date=up_to_date,
        image_from=cur.image if cur else None,
        image_to=rel.image,
        version_from=cur.version if cur else None,
        version_to=rel.version,
        bump=version_bump(cur.version if cur else None, rel.version),
        modules=module_changes(cur.modules if cur else {}, rel.modules),
        change_class=rel.change_class,
        destructive=rel.destructive,
        source_verified=rel.verification is not None,
        soak=soak,
        tenants=tuple(target.config.enabled_tenants()),
        waves=resolve_waves(pipeline, target),
        gates=target_stage.gates if target_stage else (),
        approvals=_required_approvals(target, rel.change_class, rel.destructive),
    )

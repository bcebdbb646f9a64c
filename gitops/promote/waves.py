"""Which tenants a promotion takes next, and why a wave may not go yet. Pure functions of config values.

`promote` (to choose the wave it opens) and `plan` (to show every wave's state) both call `select_tenants`,
so the two cannot disagree about the next wave or the reasons it is blocked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from gitops.config.loader import EnvBundle
from gitops.config.models import REST, Pipeline, ReleaseRecord
from gitops.config.types import format_duration
from gitops.errors import UsageError

WaveStateName = Literal["done", "next", "blocked", "waiting"]


@dataclass(frozen=True)
class WavePlan:
    name: str
    tenants: tuple[str, ...]
    soak: timedelta


class WaveRequest(Protocol):
    """What the user asked for: explicit tenants, a named wave, or neither (the next wave)."""

    @property
    def tenants(self) -> tuple[str, ...] | None: ...

    @property
    def wave(self) -> str | None: ...


@dataclass(frozen=True)
class NextWave:
    """A `WaveRequest` with nothing asked for: the wave the pipeline says comes next."""

    tenants: tuple[str, ...] | None = None
    wave: str | None = None


class InstallTarget(Protocol):
    """The parts of an install that say what it puts where."""

    @property
    def image(self) -> str: ...

    @property
    def modules(self) -> Mapping[str, Any]: ...

    @property
    def tenants(self) -> tuple[str, ...]: ...

    @property
    def completes_env(self) -> bool: ...


@dataclass(frozen=True)
class WaveSelection:
    """The wave a promotion takes (None: the env's first release, or an env without tenants), its tenants,
    whether it completes the env, and the reasons it may not go yet (empty: it may)."""

    wave: str | None
    tenants: tuple[str, ...]
    completes_env: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class WaveStatus:
    name: str
    tenants: tuple[str, ...]
    soak: timedelta
    state: WaveStateName
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tenants": list(self.tenants),
            "soak": format_duration(self.soak),
            "state": self.state,
            "reasons": list(self.reasons),
        }


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


def tenant_image(release: ReleaseRecord | None, tenant: str) -> str | None:
    if release is None:
        return None
    own = release.tenants.get(tenant)
    return own.image if own else release.image


def runs_already(release: ReleaseRecord | None, install: InstallTarget) -> bool:
    """The target (or every tenant of the wave) already runs this release."""
    if release is None:
        return False
    if install.tenants and any(tenant_image(release, t) != install.image for t in install.tenants):
        return False
    if install.completes_env or not install.tenants:
        return release.image == install.image and release.modules == install.modules
    return True


def _explicit_wave(tenants: Sequence[str]) -> str:
    return "tenants-" + hashlib.sha256(",".join(sorted(tenants)).encode()).hexdigest()[:8]


def select_tenants(
    target: EnvBundle, waves: tuple[WavePlan, ...], image: str, options: WaveRequest, now: datetime
) -> tuple[str | None, tuple[str, ...], bool, list[str]]:
    """(wave name, its tenants, whether it completes the env, reasons it may not go yet)."""
    enabled = target.config.enabled_tenants()
    if not enabled:
        return None, (), True, []
    release = target.release
    if release is None:
        return None, tuple(enabled), True, []
    if options.tenants:
        unknown = sorted(set(options.tenants) - set(enabled))
        if unknown:
            raise UsageError(f"--tenants: {', '.join(unknown)} not enabled tenants of {target.name!r}")
        chosen = tuple(sorted(options.tenants))
        rest = [t for t in enabled if t not in chosen and tenant_image(release, t) != image]
        return _explicit_wave(chosen), chosen, not rest, []
    if options.wave and options.wave not in {w.name for w in waves}:
        raise UsageError(f"--wave {options.wave!r}: no such wave for {target.name!r}")
    reasons: list[str] = []
    for wave in waves:
        pending = [t for t in wave.tenants if tenant_image(release, t) != image]
        if options.wave == wave.name or (options.wave is None and pending):
            others = [t for w in waves if w is not wave for t in w.tenants]
            completes = all(tenant_image(release, t) == image for t in others)
            return wave.name, wave.tenants, completes, reasons
        reasons += _wave_reasons(target, wave, image, now)
    last = waves[-1] if waves else WavePlan("all", tuple(enabled), timedelta(0))
    return last.name, last.tenants, True, []


def selection(
    target: EnvBundle, waves: tuple[WavePlan, ...], image: str, request: WaveRequest, now: datetime
) -> WaveSelection:
    """`select_tenants` as a value."""
    wave, tenants, completes, reasons = select_tenants(target, waves, image, request, now)
    return WaveSelection(wave, tenants, completes, tuple(reasons))


def _wave_reasons(target: EnvBundle, wave: WavePlan, image: str, now: datetime) -> list[str]:
    release = target.release
    reasons = []
    for tenant in wave.tenants:
        state = release.tenants.get(tenant) if release else None
        if state is None or state.image != image:
            reasons.append(f"wave {wave.name!r}: tenant {tenant} does not run this release yet")
        elif state.verification is None:
            reasons.append(f"wave {wave.name!r}: tenant {tenant} is not verified yet (odoo-gitops verify)")
        elif now - state.verification.verified_at < wave.soak:
            left = wave.soak - (now - state.verification.verified_at)
            reasons.append(
                f"wave {wave.name!r}: tenant {tenant} soaks for {format_duration(wave.soak)} after "
                f"verification ({state.verification.verified_at.isoformat()}): "
                f"{format_duration(_whole_minutes(left))} left"
            )
    return reasons


def _whole_minutes(span: timedelta) -> timedelta:
    """`span` rounded up to the minute, so "0s left" is never said of a soak that is not over."""
    minutes = -(-int(span.total_seconds()) // 60)
    return timedelta(minutes=max(minutes, 1))


def wave_states(
    release: ReleaseRecord | None,
    waves: tuple[WavePlan, ...],
    image: str,
    chosen: WaveSelection,
    refusals: Sequence[str],
) -> tuple[WaveStatus, ...]:
    """Each wave's state: `done` (all its tenants run `image`), `next` (the wave promote opens now),
    `blocked` (the wave promote would open, but it refuses: `refusals`), `waiting` (any other)."""
    statuses = []
    for wave in waves:
        done = release is not None and all(tenant_image(release, t) == image for t in wave.tenants)
        taken = chosen.wave == wave.name or (chosen.wave is None and bool(chosen.tenants))
        if done:
            statuses.append(WaveStatus(wave.name, wave.tenants, wave.soak, "done"))
        elif taken and refusals:
            statuses.append(WaveStatus(wave.name, wave.tenants, wave.soak, "blocked", tuple(refusals)))
        else:
            statuses.append(WaveStatus(wave.name, wave.tenants, wave.soak, "next" if taken else "waiting"))
    return tuple(statuses)

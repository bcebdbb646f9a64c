"""The release board: one typed snapshot of what runs where, what waits for whom and when the next window
opens. `status`, `pr show` and `board --out` all render this model; none of them derives a state itself.

Cell states (docs/board.md), decided by `gitops.board.snapshot.cell_state` in this order:

- `blocked`: an open promotion PR covers the cell and its gate (the verdict `gate check` gives) is `failure`,
  or cannot be evaluated;
- `promoting`: an open promotion PR covers the cell and its gate is `pending` or `success`;
- `drifted`: no open PR covers the cell, and the digest main's release.yaml gives it is not the digest its
  last verification recorded (never verified, merged but not verified yet, or edited by hand);
- `verified`: otherwise: main's digest for the cell is the one `odoo-gitops verify` recorded.

Times are aware datetimes in UTC; `*_local` strings are the same instants in the environment's time zone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from gitops.board.rehearsals import RehearsalView
from gitops.config.types import format_duration
from gitops.gates.policy import GateVerdict
from gitops.promote.pullfacts import PullFacts
from gitops.promote.waves import WaveStatus

CellState = Literal["verified", "promoting", "blocked", "drifted"]
CELL_STATES: tuple[CellState, ...] = ("verified", "promoting", "blocked", "drifted")
PullGateState = Literal["success", "pending", "failure", "error"]


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a 'Z' suffix."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def local_iso(moment: datetime | None, timezone: str) -> str | None:
    return moment.astimezone(ZoneInfo(timezone)).isoformat() if moment else None


def local_text(moment: datetime | None, timezone: str) -> str | None:
    """'2027-01-12 19:00 CET' — for people; None stays None."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z") if moment else None


def short_digest(image_or_digest: str | None) -> str | None:
    """The first 12 hex digits of a digest (of `repo@sha256:…` or `sha256:…`)."""
    if not image_or_digest:
        return None
    digest = image_or_digest.rpartition("@")[2]
    return digest.partition(":")[2][:12] or digest[:12]


@dataclass(frozen=True, kw_only=True)
class WindowNow:
    """The env's change-window verdict now (the gate's own `window_state`), and whether a gate uses it."""

    open: bool
    gated: bool  # the env's stage lists the `window` gate
    blocked_by: tuple[str, ...]
    open_until: datetime | None
    next_open: datetime | None
    timezone: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "open": self.open,
            "gated": self.gated,
            "blocked_by": list(self.blocked_by),
            "open_until": iso(self.open_until),
            "open_until_local": local_iso(self.open_until, self.timezone),
            "next_open": iso(self.next_open),
            "next_open_local": local_iso(self.next_open, self.timezone),
            "timezone": self.timezone,
        }


@dataclass(frozen=True, kw_only=True)
class Freeze:
    """One occurrence of a deny window (payroll, month-end close, …): [start, end) in UTC."""

    calendar: str
    window: str
    start: datetime
    end: datetime
    timezone: str

    @property
    def name(self) -> str:
        return f"{self.calendar}/{self.window}"

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "calendar": self.calendar,
            "window": self.window,
            "start": iso(self.start),
            "end": iso(self.end),
            "start_local": local_iso(self.start, self.timezone),
            "end_local": local_iso(self.end, self.timezone),
        }


@dataclass(frozen=True, kw_only=True)
class PullGate:
    """One open promotion (or rollback) PR and its gate, exactly as `gate check --no-publish` evaluates it.

    `facts` and `verdict` are the gate engine's own values (None when the PR could not be evaluated:
    `error` says why); `covers` are the cells (tenant names; None for an env without tenants) whose release
    the PR changes."""

    number: int
    url: str
    title: str
    branch: str
    target: str
    kind: str
    wave: str | None
    version: str | None
    image: str | None
    covers: tuple[str | None, ...]
    state: PullGateState
    description: str
    reasons: tuple[str, ...]
    approvals_counted: int
    approvals_needed: int
    rule: str | None
    error: str | None = None
    facts: PullFacts | None = field(default=None, compare=False, repr=False)
    verdict: GateVerdict | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "url": self.url,
            "title": self.title,
            "branch": self.branch,
            "target": self.target,
            "kind": self.kind,
            "wave": self.wave,
            "version": self.version,
            "image": self.image,
            "covers": list(self.covers),
            "gate": self.state,
            "description": self.description,
            "reasons": list(self.reasons),
            "approvals": {"counted": self.approvals_counted, "needed": self.approvals_needed},
            "rule": self.rule,
            "error": self.error,
        }


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One environment × tenant (tenant None: an environment without tenants)."""

    env: str
    tenant: str | None
    wave: str | None
    version: str | None
    image: str | None
    verified_at: datetime | None
    verified_digest: str | None
    soak_left: timedelta | None
    drift: bool
    state: CellState
    why: str
    pull: int | None

    @property
    def digest(self) -> str | None:
        return self.image.rpartition("@")[2] if self.image else None

    @property
    def short_digest(self) -> str | None:
        return short_digest(self.image)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "tenant": self.tenant,
            "wave": self.wave,
            "version": self.version,
            "image": self.image,
            "digest": self.digest,
            "short_digest": self.short_digest,
            "verified_at": iso(self.verified_at),
            "verified_digest": self.verified_digest,
            "soak_left": format_duration(self.soak_left) if self.soak_left else None,
            "soak_left_seconds": int(self.soak_left.total_seconds()) if self.soak_left else None,
            "drift": self.drift,
            "state": self.state,
            "why": self.why,
            "pull": self.pull,
        }


@dataclass(frozen=True, kw_only=True)
class NextPromotion:
    """What `plan <previous stage> <env>` says now: allowed or why not, and each wave's state."""

    source: str
    version: str | None
    allowed: bool
    up_to_date: bool
    next_wave: str | None  # None with next_tenants: an env's first release, or an env without tenants
    next_tenants: tuple[str, ...]
    refusals: tuple[str, ...]
    waves: tuple[WaveStatus, ...]
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "version": self.version,
            "allowed": self.allowed,
            "up_to_date": self.up_to_date,
            "next_wave": self.next_wave,
            "next_tenants": list(self.next_tenants),
            "refusals": list(self.refusals),
            "waves": [w.to_dict() for w in self.waves],
            "error": self.error,
        }


@dataclass(frozen=True, kw_only=True)
class AuditCheck:
    """The env's audit chain as `audit verify ENV` finds it."""

    ok: bool
    entries: int
    problems: tuple[str, ...] = ()
    history_checked: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "problems": list(self.problems),
            "history_checked": self.history_checked,
        }


@dataclass(frozen=True, kw_only=True)
class EnvBoard:
    name: str
    timezone: str
    gates: tuple[str, ...]
    version: str | None
    image: str | None
    window: WindowNow
    next_freeze: Freeze | None
    promotion: NextPromotion | None  # None: the first stage of its pipeline
    pulls: tuple[PullGate, ...]
    cells: tuple[Cell, ...]
    audit: AuditCheck
    rehearsal: RehearsalView | None = None  # the latest restore rehearsal (gitops.board.rehearsals)

    def counts(self) -> dict[CellState, int]:
        found = Counter(c.state for c in self.cells)
        return {state: found.get(state, 0) for state in CELL_STATES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "timezone": self.timezone,
            "gates": list(self.gates),
            "version": self.version,
            "image": self.image,
            "short_digest": short_digest(self.image),
            "window": self.window.to_dict(),
            "next_freeze": self.next_freeze.to_dict() if self.next_freeze else None,
            "promotion": self.promotion.to_dict() if self.promotion else None,
            "pull_requests": [p.to_dict() for p in self.pulls],
            "counts": self.counts(),
            "cells": [c.to_dict() for c in self.cells],
            "audit": self.audit.to_dict(),
            "rehearsal": self.rehearsal.to_dict() if self.rehearsal else None,
        }


@dataclass(frozen=True, kw_only=True)
class Board:
    """Every requested environment in pipeline order, as of `generated_at`, read from `source`."""

    generated_at: datetime
    source: str
    commit: str | None
    envs: tuple[EnvBoard, ...]

    def env(self, name: str) -> EnvBoard:
        return next(e for e in self.envs if e.name == name)

    def cells(self) -> tuple[Cell, ...]:
        return tuple(c for e in self.envs for c in e.cells)

    def counts(self) -> dict[CellState, int]:
        found = Counter(c.state for c in self.cells())
        return {state: found.get(state, 0) for state in CELL_STATES}

    def pull(self, number: int) -> PullGate | None:
        return next((p for e in self.envs for p in e.pulls if p.number == number), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generated_at": iso(self.generated_at),
            "source": self.source,
            "commit": self.commit,
            "states": list(CELL_STATES),
            "counts": self.counts(),
            "envs": [e.to_dict() for e in self.envs],
        }

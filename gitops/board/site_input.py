"""What the static board site is generated from: immutable values, built from the board model.

The site renders these and nothing else, so the same values feed `status`, `pr show` and the site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from gitops.audit.log import AuditEntry
from gitops.board.rehearsals import RehearsalView
from gitops.config.calendars.calendar import Calendar

# The cell states the board colours, in the order the legend lists them.
STATES: tuple[str, ...] = ("verified", "promoting", "blocked", "drifted")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9._-]+")


def slug(*parts: str) -> str:
    """A file-name-safe, lower-case name for a page: hostile names never leave the output directory."""
    text = "-".join(_SLUG_UNSAFE.sub("-", part.lower()).strip("-.") for part in parts)
    return text or "x"


@dataclass(frozen=True, kw_only=True)
class Cell:
    """One tenant (or the whole environment, tenant "") in one environment."""

    env: str
    tenant: str
    state: str
    version: str | None = None
    digest: str | None = None
    verified_at: datetime | None = None
    detail: str = ""
    promotion: str | None = None  # the id of the open promotion that moves this cell

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown board state {self.state!r} (one of {', '.join(STATES)})")


@dataclass(frozen=True, kw_only=True)
class CabSection:
    """One part of the CAB view: a heading and its lines (already worded by the model's renderer)."""

    title: str
    lines: tuple[str, ...]
    severity: str = "info"  # info | warning | danger | ok


@dataclass(frozen=True, kw_only=True)
class Promotion:
    """An open promotion PR: the CAB view and where it stands."""

    id: str
    env: str
    source: str
    wave: str
    tenants: tuple[str, ...]
    state: str  # promoting (waiting only for its window or checks) | blocked (a gate says no)
    verdict: str
    title: str = ""
    url: str | None = None
    digest: str | None = None  # of the image it promotes: its verifications join the timeline
    next_open: datetime | None = None
    window: str = ""  # the env's window now, in words ("open now", "closed (payroll/payroll)", …)
    sections: tuple[CabSection, ...] = ()
    cab_html: str | None = None  # the CAB view as `pr show` words it, rendered (gitops.board.site_cab)

    @property
    def page(self) -> str:
        return f"promotion-{slug(self.id)}.html"


@dataclass(frozen=True, kw_only=True)
class EnvAudit:
    env: str
    entries: tuple[AuditEntry, ...]
    chain_ok: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Env:
    name: str
    timezone: str
    calendars: tuple[Calendar, ...]
    version: str | None = None
    digest: str | None = None
    rehearsal: RehearsalView | None = None  # the latest restore rehearsal (gitops.board.rehearsals)

    @property
    def page(self) -> str:
        return f"env-{slug(self.name)}.html"


@dataclass(frozen=True, kw_only=True)
class SiteInput:
    generated_at: datetime
    source: str
    envs: tuple[Env, ...]
    cells: tuple[Cell, ...]
    promotions: tuple[Promotion, ...] = ()
    audits: tuple[EnvAudit, ...] = field(default=())

"""Render the static board site into a dict of relative path -> bytes (pure; writing is site_write's job).

Pages: index.html (summary, open promotions, first board page), board-N.html (more tenants), calendar-ENV
.html, env-ENV.html (release and audit trail), promotion-ID.html (CAB view + timeline), board.css.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup

from gitops.audit.log import AuditEntry
from gitops.board.site_calendar import EnvCalendar, PendingPromotion, env_calendar
from gitops.board.site_input import STATES, Cell, Env, EnvAudit, Promotion, SiteInput, slug
from gitops.config.calendars.zones import load_zone
from gitops.redact import redact

PAGE_SIZE = 100  # tenants per board page: the index stays small at 500 tenants
ENV_ROW = ""  # the tenant name of an environment-wide cell
# Audit kinds the promotion timeline shows, and how it names them.
TIMELINE_KINDS = {
    "promotion": "promoted",
    "approval": "approved",
    "override": "overridden",
    "merge": "merged",
    "verification": "verified",
}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("gitops.board", "templates"),
    autoescape=True,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
    # every value a page shows is redacted, as every output is (a secret in a PR title or an audit entry)
    # (the CAB view's HTML is redacted before it is marked safe: gitops.board.site_cab)
    finalize=lambda value: (
        value if isinstance(value, Markup) or not isinstance(value, str) else redact(value)
    ),
)


@dataclass(frozen=True)
class Row:
    tenant: str
    cells: tuple[Cell | None, ...]


def calendar_page(env: str) -> str:
    return f"calendar-{slug(env)}.html"


def board_page(number: int) -> str:
    return "index.html" if number == 1 else f"board-{number}.html"


def _local(moment: datetime | None, zone_name: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(load_zone(zone_name)).strftime("%Y-%m-%d %H:%M %Z")


def _local_at(stamp: str, zone_name: str) -> str:
    """An audit entry's `at` (ISO 8601 UTC) in the env's zone; shown as written when it does not parse."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return _local(moment, zone_name) if moment.tzinfo else stamp


def _utc(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_ENV.filters["local"] = _local
_ENV.filters["utc"] = _utc
_ENV.filters["local_at"] = _local_at
_ENV.filters["slug"] = slug
_ENV.globals["calendar_page"] = calendar_page


def _rows(site: SiteInput) -> list[Row]:
    envs = [env.name for env in site.envs]
    by_key = {(cell.env, cell.tenant): cell for cell in site.cells}
    tenants = sorted({cell.tenant for cell in site.cells})
    return [Row(tenant, tuple(by_key.get((env, tenant)) for env in envs)) for tenant in tenants]


def cell_link(cell: Cell, promotions: dict[str, Promotion], envs: dict[str, Env]) -> str:
    """A cell links to the promotion moving it, else to its env's release page at the tenant's row."""
    if cell.promotion in promotions:
        return promotions[cell.promotion].page
    return f"{envs[cell.env].page}#tenant-{slug(cell.tenant or 'env')}"


def _summary(site: SiteInput) -> list[tuple[Env, dict[str, int]]]:
    counts = {env.name: Counter[str]() for env in site.envs}
    for cell in site.cells:
        counts[cell.env][cell.state] += 1
    return [(env, {state: counts[env.name][state] for state in STATES}) for env in site.envs]


def _timeline(audit: EnvAudit | None, promotion: Promotion) -> list[AuditEntry]:
    if audit is None:
        return []
    return [
        entry for entry in audit.entries if entry.kind in TIMELINE_KINDS and _concerns(entry.data, promotion)
    ]


def _concerns(data: dict[str, Any], promotion: Promotion) -> bool:
    """An audit entry concerns a promotion when it names its PR, or verifies its image on its tenants."""
    if str(data.get("pr", "")).lstrip("#") == promotion.id.lstrip("#"):
        return True
    if promotion.digest is None or data.get("digest") != promotion.digest:
        return False
    return not promotion.tenants or data.get("tenant") in promotion.tenants


def _pending(site: SiteInput, env: str) -> list[PendingPromotion]:
    return [
        PendingPromotion(p.id, f"{p.source} → {p.env} {p.wave}".strip(), p.page)
        for p in site.promotions
        if p.env == env
    ]


def calendars(site: SiteInput, weeks: int) -> list[EnvCalendar]:
    return [
        env_calendar(
            env=env.name,
            timezone=env.timezone,
            calendars=env.calendars,
            now=site.generated_at,
            weeks=weeks,
            pending=_pending(site, env.name),
        )
        for env in site.envs
    ]


def render_site(site: SiteInput, *, weeks: int = 8) -> dict[str, bytes]:
    """Every file of the site, by relative path."""
    return dict(_pages(site, weeks))


def _pages(site: SiteInput, weeks: int) -> Iterator[tuple[str, bytes]]:
    envs = {env.name: env for env in site.envs}
    promotions = {p.id: p for p in site.promotions}
    audits = {audit.env: audit for audit in site.audits}
    rows = _rows(site)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    common = {"site": site, "envs": site.envs, "states": STATES, "weeks": weeks}
    link = {"link": lambda cell: cell_link(cell, promotions, envs)}
    yield "board.css", files("gitops.board").joinpath("templates/board.css").read_bytes()
    for number in range(1, pages + 1):
        chunk = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        pager = [(n, board_page(n)) for n in range(1, pages + 1)]
        yield (
            board_page(number),
            _render(
                "index.html.j2",
                **common,
                **link,
                rows=chunk,
                page=number,
                pager=pager,
                summary=_summary(site),
            ),
        )
    for calendar in calendars(site, weeks):
        yield calendar_page(calendar.env), _render("calendar.html.j2", **common, calendar=calendar)
    for env in site.envs:
        env_cells = [cell for cell in site.cells if cell.env == env.name]
        yield env.page, _render("env.html.j2", **common, env=env, cells=env_cells, audit=audits.get(env.name))
    for promotion in site.promotions:
        timeline = _timeline(audits.get(promotion.env), promotion)
        env = envs[promotion.env]
        yield promotion.page, _render("promotion.html.j2", **common, p=promotion, env=env, timeline=timeline)


def _render(template: str, **context: Any) -> bytes:
    return _ENV.get_template(template).render(kinds=TIMELINE_KINDS, **context).encode()

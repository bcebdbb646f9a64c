"""Parse and cross-check a calendar file into what the engine evaluates (`compiled.Calendar`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gitops.config.calendars.anchor_types import WEEKDAYS
from gitops.config.calendars.businessdays import BusinessDays
from gitops.config.calendars.compiled import AllowRule, Calendar, DenyRule
from gitops.config.calendars.rules import never_message, rule_report
from gitops.config.calendars.spec import CalendarSpec, WindowSpec
from gitops.config.calendars.zones import load_zone
from gitops.config.validation import validate
from gitops.config.yamlsafe import Document, load_yaml
from gitops.errors import ConfigError, Problem

__all__ = ["AllowRule", "Calendar", "DenyRule", "build_calendar", "load_calendar", "parse_calendar"]


def _raw_windows(data: Any) -> list[tuple[int, dict[Any, Any]]]:
    windows = data.get("windows") if isinstance(data, dict) else None
    return [(i, w) for i, w in enumerate(windows) if isinstance(w, dict)] if isinstance(windows, list) else []


def _cross_problems(doc: Document) -> list[Problem]:
    """Window ids and anchor references, checked on the raw data so they are reported with other problems."""
    anchors = doc.data.get("anchors") if isinstance(doc.data, dict) else None
    known = set(anchors) if isinstance(anchors, dict) else set()
    listed = ", ".join(sorted(map(str, known))) or "none defined"
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, window in _raw_windows(doc.data):
        ident = window.get("id")
        if isinstance(ident, str) and ident in seen:
            problems.append(
                doc.problem(("windows", index, "id"), f"windows.{index}.id: duplicate window id {ident!r}")
            )
        seen.add(str(ident))
        references = window.get("on")
        for position, anchor in enumerate(references if isinstance(references, list) else []):
            if isinstance(anchor, str) and anchor not in known:
                problems.append(
                    doc.problem(
                        ("windows", index, "on", position),
                        f"windows.{index}.on.{position}: unknown anchor {anchor!r} (known: {listed})",
                    )
                )
    return problems


def _deny(window: WindowSpec) -> DenyRule:
    return DenyRule(
        id=window.id, anchors=tuple(window.on or ()), pad_before=window.pad_before, pad_after=window.pad_after
    )


def _allow(window: WindowSpec) -> AllowRule:
    assert window.start is not None and window.end is not None
    weekdays = frozenset(WEEKDAYS.index(d) for d in window.days) if window.days else frozenset(range(7))
    return AllowRule(
        id=window.id,
        weekdays=weekdays,
        start=window.start,
        end=window.end,
        business_days_only=window.business_days_only,
    )


def build_calendar(spec: CalendarSpec, *, name: str, file: str) -> Calendar:
    source = spec.business_days.holidays
    business = BusinessDays.of(
        weekend=spec.business_days.weekend,
        closures=spec.business_days.closures,
        country=source.country if source else None,
        subdiv=source.subdiv if source else None,
        observed=source.observed if source else True,
    )
    return Calendar(
        name=name,
        file=file,
        timezone=spec.timezone,
        zone=load_zone(spec.timezone),
        business=business,
        anchors=MappingProxyType(dict(spec.anchors)),
        deny=tuple(_deny(w) for w in spec.windows if w.kind == "deny"),
        allow=tuple(_allow(w) for w in spec.windows if w.kind == "allow"),
    )


def _yaml11_on_key(doc: Document) -> Document:
    """YAML 1.1 (PyYAML) reads the unquoted key `on` as the boolean True; give windows their `on` back."""
    windows = doc.data.get("windows") if isinstance(doc.data, dict) else None
    if not isinstance(windows, list):
        return doc
    lines = dict(doc.lines)
    fixed = []
    for index, item in enumerate(windows):
        window = item
        if isinstance(item, dict) and True in item and "on" not in item:
            window = {("on" if key is True else key): value for key, value in item.items()}
            for path, line in doc.lines.items():  # yamlsafe keeps the bool key True in its paths
                if path[:2] == ("windows", index) and len(path) > 2 and isinstance(path[2], bool):
                    lines[("windows", index, "on", *path[3:])] = line
        fixed.append(window)
    return Document(doc.file, {**doc.data, "windows": fixed}, lines)


def _never_problems(calendar: Calendar, doc: Document, today: date) -> list[Problem]:
    """Anchors that yield no date in the ten years from `today` and have not merely ended."""
    problems = []
    for name, spec in calendar.anchors.items():
        if rule_report(name, spec, calendar.business, today).state == "never":
            problems.append(doc.problem(("anchors", name), never_message(name, spec, today)))
    return problems


def parse_calendar(doc: Document, name: str, *, today: date | None = None) -> Calendar:
    """Validate a calendar document; ConfigError lists every problem with file:line. Every anchor must
    occur in the ten years from `today` (default: today in UTC) or have ended (see windows.rules)."""
    doc = _yaml11_on_key(doc)
    problems: list[Problem] = []
    spec = validate(CalendarSpec, doc, problems)
    problems.extend(_cross_problems(doc))
    if problems or spec is None:
        raise ConfigError(problems or [doc.problem((), "invalid calendar")])
    calendar = build_calendar(spec, name=name, file=doc.file)
    never = _never_problems(calendar, doc, today or datetime.now(UTC).date())
    if never:
        raise ConfigError(never)
    return calendar


def load_calendar(
    path: Path, *, name: str | None = None, display: str | None = None, today: date | None = None
) -> Calendar:
    """Read and parse `calendars/<name>.yaml`."""
    return parse_calendar(load_yaml(path, display=display), name or path.stem, today=today)

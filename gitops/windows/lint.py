"""`odoo-gitops window lint`: every calendar file of the config repository, each rule with its next three
occurrences; a rule that can never occur is a config error (file:line), one that has ended is reported.

Every `calendars/*.yaml` is linted, also one that no environment lists yet (the loader reads only those
listed), so a broken calendar is found before an environment starts to depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gitops.config.calendars.calendar import AllowRule, Calendar, parse_calendar
from gitops.config.calendars.rules import SHOWN, RuleReport, horizon_end, rule_reports
from gitops.config.files import DirectoryFiles
from gitops.config.source import checkout_config_repo
from gitops.config.yamlsafe import Document, read_yaml
from gitops.errors import ConfigError, Problem

_MAX_DAYS_SEARCHED = 3 * 366


@dataclass(frozen=True)
class RuleLint:
    """One rule of a calendar file: an anchor (dates it names) or an allow window (when it opens)."""

    kind: str  # "anchor" or "allow"
    name: str
    line: int
    state: str  # "ok", "ended" (anchors with an explicit end only) or "never" (allow windows only)
    upcoming: tuple[tuple[str, str], ...]
    ended_on: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "line": self.line,
            "state": self.state,
            "next": [{"from": start, "to": end} for start, end in self.upcoming],
            "ended_on": self.ended_on.isoformat() if self.ended_on else None,
        }


@dataclass(frozen=True)
class CalendarLint:
    name: str
    file: str
    rules: tuple[RuleLint, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "rules": [rule.to_dict() for rule in self.rules]}


@dataclass(frozen=True)
class LintResult:
    today: date
    calendars: tuple[CalendarLint, ...]

    @property
    def findings(self) -> list[tuple[CalendarLint, RuleLint]]:
        return [(c, r) for c in self.calendars for r in c.rules if r.state != "ok"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "horizon": horizon_end(self.today).isoformat(),
            "calendars": [calendar.to_dict() for calendar in self.calendars],
            "findings": len(self.findings),
        }


def _anchor_lint(report: RuleReport, doc: Document) -> RuleLint:
    return RuleLint(
        kind="anchor",
        name=report.anchor,
        line=doc.line_of(("anchors", report.anchor)),
        state=report.state,
        upcoming=tuple((first.isoformat(), last.isoformat()) for first, last in report.upcoming),
        ended_on=report.ended_on,
    )


def _allow_openings(calendar: Calendar, rule: AllowRule, today: date) -> list[tuple[str, str]]:
    """The next local openings of an allow window (start and end as local date-times)."""
    found: list[tuple[str, str]] = []
    for offset in range(_MAX_DAYS_SEARCHED):
        day = today + timedelta(days=offset)
        if day.weekday() not in rule.weekdays:
            continue
        if rule.business_days_only and not calendar.business.is_business_day(day):
            continue
        end_day = day if rule.end > rule.start else day + timedelta(days=1)
        start, end = datetime.combine(day, rule.start), datetime.combine(end_day, rule.end)
        found.append((start.isoformat(timespec="minutes"), end.isoformat(timespec="minutes")))
        if len(found) == SHOWN:
            break
    return found


def _allow_lint(calendar: Calendar, doc: Document, index: int, rule: AllowRule, today: date) -> RuleLint:
    openings = _allow_openings(calendar, rule, today)
    state = "ok" if openings else "never"
    return RuleLint("allow", rule.id, doc.line_of(("windows", index)), state, tuple(openings))


def _allow_indexes(doc: Document) -> dict[str, int]:
    windows = doc.data.get("windows") if isinstance(doc.data, dict) else None
    items = windows if isinstance(windows, list) else []
    return {str(w.get("id")): i for i, w in enumerate(items) if isinstance(w, dict)}


def lint_calendar(calendar: Calendar, doc: Document, today: date) -> CalendarLint:
    rules = [_anchor_lint(report, doc) for report in rule_reports(calendar, today)]
    indexes = _allow_indexes(doc)
    rules += [_allow_lint(calendar, doc, indexes.get(r.id, 0), r, today) for r in calendar.allow]
    return CalendarLint(calendar.name, calendar.file, tuple(rules))


def _read(files: DirectoryFiles, rel: str) -> Document:
    return read_yaml(lambda: files.read(rel), rel)


def lint_calendars(*, config_repo: str | Path, today: date) -> LintResult:
    """Lint every calendars/*.yaml; ConfigError (every problem, file:line) when one cannot be loaded."""
    files = DirectoryFiles(checkout_config_repo(str(config_repo)))
    names = [n.removesuffix(".yaml") for n in files.names("calendars") if n.endswith(".yaml")]
    problems: list[Problem] = []
    linted = []
    for name in names:
        rel = f"calendars/{name}.yaml"
        try:
            doc = _read(files, rel)
            linted.append(lint_calendar(parse_calendar(doc, name, today=today), doc, today))
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, hint="fix the calendar rules named above")
    return LintResult(today, tuple(linted))

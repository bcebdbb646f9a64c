"""`odoo-gitops window …`: change-window verdicts, next opening, interval listing and ICS export."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gitops.cli.options import config_repo_option, emit, info, json_option, print_report
from gitops.config.calendars.rules import horizon_end
from gitops.errors import PolicyError, Report, UsageError
from gitops.windows.blocks import Reason, iso
from gitops.windows.service import (
    CheckResult,
    NextOpening,
    check_env,
    ics_env,
    list_env,
    next_env,
    require_supported,
)
from gitops.windows.verdict import Interval

if TYPE_CHECKING:
    from gitops.windows.lint import LintResult


def _instant(text: str | None, option: str) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not an ISO 8601 date-time",
            hint="e.g. 2026-03-08T10:00:00+01:00 or 2026-03-08T09:00:00Z",
        ) from None
    if moment.tzinfo is None:
        raise UsageError(
            f"{option} {text!r} has no UTC offset",
            hint="add one, e.g. 2026-03-08T10:00:00+01:00 or a trailing Z",
        )
    return require_supported(moment, option)


def _bound(text: str, option: str, *, inclusive_day: bool) -> datetime:
    """A DATE (UTC midnight; a --to date includes that whole day) or a date-time with an offset."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return _instant(text, option)
    moment = datetime.combine(day, datetime.min.time(), UTC)
    return require_supported(moment, option) + timedelta(days=1 if inclusive_day else 0)


def _reason_text(reason: Reason) -> str:
    what = "deny window" if reason.kind == "deny" else "outside allow window"
    return (
        f"{reason.calendar}/{reason.window} ({what}, {iso(reason.start) or '…'} → {iso(reason.end) or '…'})"
    )


def _check_text(result: CheckResult) -> str:
    verdict = result.verdict
    if verdict.open:
        until = f" until {iso(verdict.open_until)}" if verdict.open_until else " (for at least 400 days)"
        return f"OPEN: {verdict.env} may change at {iso(verdict.at)}{until}"
    lines = [f"CLOSED: {verdict.env} may not change at {iso(verdict.at)}"]
    lines += [f"  blocked by {_reason_text(r)}" for r in verdict.blocked_by]
    lines.append(f"  next open: {iso(verdict.next_open) or 'not within 400 days'}")
    if result.override is not None:
        override = result.override
        lines.append(
            f"  OVERRIDDEN (break-glass) by {override.who}, ticket {override.ticket}, "
            f"until {iso(override.expires)}"
        )
    return "\n".join(lines)


@click.group("window")
def window() -> None:
    """Change windows: is ENV open now, when does it open, what the calendar says."""


@window.command("check")
@click.argument("env")
@click.option("--at", "at", metavar="ISO8601", help="Instant to check, with a UTC offset (default: now).")
@click.option("--emergency", is_flag=True, help="Break glass: override a closed window (audited).")
@click.option("--reason", metavar="TEXT", help="Why the emergency change cannot wait (with --emergency).")
@click.option("--ticket", metavar="ID", help="Change/incident ticket (with --emergency).")
@click.option(
    "--expires",
    metavar="ISO8601|DURATION",
    help="When the override ends (with --emergency; default: when the window reopens, 4h at most).",
)
@click.option(
    "--actor", metavar="NAME", help="Who breaks glass (default: $GITHUB_ACTOR, else the login name)."
)
@config_repo_option
@json_option
def check_command(
    *,
    env: str,
    at: str | None,
    emergency: bool,
    reason: str | None,
    ticket: str | None,
    expires: str | None,
    actor: str | None,
    config_repo: str,
    as_json: bool,
) -> None:
    """Exit 0 when ENV is open at --at, 3 when closed. With --emergency a closed window is overridden:
    the override is written to audit/ENV.jsonl on main first (exit 1, nothing overridden, if it cannot be)."""
    moment = _instant(at, "--at")
    if emergency:
        _break_glass(
            env=env, at=moment, reason=reason, ticket=ticket, expires=expires, actor=actor,
            config_repo=config_repo, as_json=as_json,
        )  # fmt: skip
        return
    if expires or actor:
        raise UsageError("--expires/--actor only apply with --emergency")
    result = check_env(config_repo=config_repo, env=env, at=moment, reason=reason, ticket=ticket, cached=True)
    _emit_check(result, as_json, None)


def _break_glass(
    *,
    env: str,
    at: datetime,
    reason: str | None,
    ticket: str | None,
    expires: str | None,
    actor: str | None,
    config_repo: str,
    as_json: bool,
) -> None:
    from gitops.audit_trail.service import break_glass_window  # git and the audit log only on this path

    outcome = break_glass_window(
        config_repo=config_repo,
        env=env,
        at=at,
        reason=reason,
        ticket=ticket,
        actor=actor,
        expires=_expiry(expires, at),
        now=datetime.now(UTC),
    )
    info(outcome.source.describe())
    override = outcome.result.override
    if override is not None:
        info(
            f"WARNING: break-glass override of a CLOSED change window for {env} by {override.who} "
            f"(ticket {override.ticket}, until {iso(override.expires)}, "
            f"audit/{env}.jsonl seq {outcome.seq}): {override.reason}"
        )
    _emit_check(outcome.result, as_json, outcome.to_dict())


def _expiry(text: str | None, at: datetime) -> datetime | None:
    if text is None:
        return None
    from gitops.config.types import parse_duration  # pydantic's types: only on the emergency path

    try:
        return at + parse_duration(text)
    except ValueError:
        return _instant(text, "--expires")


def _emit_check(result: CheckResult, as_json: bool, data: dict[str, Any] | None) -> None:
    report = Report(data=data if data is not None else result.to_dict(), text=lambda: _check_text(result))
    if not result.passes:
        raise PolicyError("the change window is closed", report=report)
    print_report(report, as_json=as_json)


def _next_text(opening: NextOpening) -> str:
    if opening.next_open is None:
        return f"{opening.env}: no open window within 400 days of {iso(opening.at)}"
    until = f" until {iso(opening.open_until)}" if opening.open_until else ""
    return f"{opening.env}: next open {iso(opening.next_open)}{until}"


@window.command("next")
@click.argument("env")
@click.option("--at", "at", metavar="ISO8601", help="Search from this instant (default: now).")
@config_repo_option
@json_option
def next_command(*, env: str, at: str | None, config_repo: str, as_json: bool) -> None:
    """When ENV next opens (now, if it is open). Exit 3 if not within 400 days."""
    opening = next_env(config_repo=config_repo, env=env, at=_instant(at, "--at"), cached=True)
    report = Report(data=opening.to_dict(), text=lambda: _next_text(opening))
    if opening.next_open is None:
        raise PolicyError(f"{env} has no open window within 400 days", report=report)
    print_report(report, as_json=as_json)


def _interval_text(item: Interval) -> str:
    head = f"{iso(item.start)}  {iso(item.end)}  {'open' if item.open else 'closed'}"
    return head + "".join(f"  {r.calendar}/{r.window}" for r in item.blocked_by)


@window.command("list")
@click.argument("env")
@click.option("--from", "start", required=True, metavar="DATE", help="Start: YYYY-MM-DD (UTC) or date-time.")
@click.option("--to", "end", required=True, metavar="DATE", help="End: YYYY-MM-DD (inclusive) or date-time.")
@config_repo_option
@json_option
def list_command(*, env: str, start: str, end: str, config_repo: str, as_json: bool) -> None:
    """Open and closed intervals of ENV with reasons."""
    listing = list_env(
        config_repo=config_repo,
        env=env,
        start=_bound(start, "--from", inclusive_day=False),
        end=_bound(end, "--to", inclusive_day=True),
        cached=True,
    )
    emit(listing.to_dict(), as_json=as_json, human=lambda: "\n".join(map(_interval_text, listing.intervals)))


@window.command("ics")
@click.argument("env")
@click.option("--from", "start", metavar="DATE", help="Start (default: today, UTC).")
@click.option("--to", "end", metavar="DATE", help="End, inclusive (default: a year after --from).")
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the file here instead of stdout.",
)
@config_repo_option
@json_option
def ics_command(
    *, env: str, start: str | None, end: str | None, output: Path | None, config_repo: str, as_json: bool
) -> None:
    """An iCalendar file of ENV's freezes and change windows."""
    now = datetime.now(UTC)
    today = datetime.combine(now.date(), datetime.min.time(), UTC)
    low = _bound(start, "--from", inclusive_day=False) if start else today
    high = _bound(end, "--to", inclusive_day=True) if end else low + timedelta(days=365)
    document = ics_env(config_repo=config_repo, env=env, start=low, end=high, now=now, cached=True)
    if output is None and not as_json:
        sys.stdout.write(document.decode())
        return
    if output is not None:
        try:
            output.write_bytes(document)
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    summary = {
        "env": env,
        "from": iso(low),
        "to": iso(high),
        "file": str(output) if output else None,
        "events": document.count(b"BEGIN:VEVENT"),
    }
    if output is None:
        summary["ics"] = document.decode()
    emit(summary, as_json=as_json, human=f"wrote {summary['events']} events to {output}")


def _lint_text(result: LintResult) -> str:
    lines = [f"calendar rules from {result.today} (horizon {horizon_end(result.today)}):"]
    for calendar in result.calendars:
        for rule in calendar.rules:
            where = f"{calendar.file}:{rule.line}"
            if rule.state == "ended":
                lines.append(f"  {where} {rule.kind} {rule.name}: ENDED (last {rule.ended_on})")
            elif rule.state == "never":
                lines.append(f"  {where} {rule.kind} {rule.name}: NEVER OPENS")
            else:
                shown = ", ".join(
                    start if start == end else f"{start}..{end}" for start, end in rule.upcoming
                )
                lines.append(f"  {where} {rule.kind} {rule.name}: {shown}")
    if result.findings:
        lines.append(f"{len(result.findings)} rule(s) no longer occur; remove them or give them a new end")
    return "\n".join(lines)


@window.command("lint")
@click.option("--at", "at", metavar="DATE", help="Count occurrences from this date (default: today, UTC).")
@config_repo_option
@json_option
def lint_command(*, at: str | None, config_repo: str, as_json: bool) -> None:
    """Every calendar's rules with their next three occurrences. Exit 2 when a rule can never occur
    (file:line), 3 when a rule has ended."""
    from gitops.windows.lint import lint_calendars  # validates every calendar: pydantic

    today = _bound(at, "--at", inclusive_day=False).date() if at else datetime.now(UTC).date()
    result = lint_calendars(config_repo=config_repo, today=today)
    report = Report(data=result.to_dict(), text=lambda: _lint_text(result))
    if result.findings:
        raise PolicyError(f"{len(result.findings)} calendar rule(s) no longer occur", report=report)
    print_report(report, as_json=as_json)

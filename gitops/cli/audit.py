"""`odoo-gitops audit verify [ENV]` and `odoo-gitops audit log ENV`.

Both read the remote's main, as `pr`, `gate` and `promote` do, and say on stderr which commit they read.
"""

from __future__ import annotations

import shutil
import textwrap

import click

from gitops.audit.log import AuditEntry
from gitops.audit_trail.service import AuditVerification, read_log, verify_audit
from gitops.audit_trail.source import open_audit_source
from gitops.cli.options import config_repo_option, emit, info, json_option, print_report
from gitops.errors import Report, VerificationError


@click.group("audit")
def audit() -> None:
    """The hash-chained audit log of promotions, approvals, overrides and verifications."""


def render_verification(result: AuditVerification) -> str:
    if not result.logs:
        return "no audit logs found"
    lines = []
    for log in result.logs:
        versions = f", {log.history.versions} committed versions" if log.history else ""
        if log.ok:
            lines.append(f"{log.chain.env}: ok ({log.chain.entries} entries{versions})")
        else:
            lines += [f"{log.chain.env}: {problem}" for problem in log.problems()]
    return "\n".join(lines)


@audit.command("verify")
@click.argument("env", required=False)
@config_repo_option
@json_option
def verify(env: str | None, config_repo: str, as_json: bool) -> None:
    """Check the audit log of ENV (default: every env that has or had one): the hash chain, and that
    main's history only ever appended to it. Exit 4 on tampering, 2 for an unknown ENV."""
    with open_audit_source(config_repo) as source:
        info(source.describe())
        result = verify_audit(source, env)
    report = Report(data=result.to_dict(), text=lambda: render_verification(result))
    if not result.ok:
        raise VerificationError("the audit log does not verify", report=report)
    print_report(report, as_json=as_json)


@audit.command("log")
@click.argument("env")
@config_repo_option
@json_option
def log(env: str, config_repo: str, as_json: bool) -> None:
    """Print the audit trail of ENV, oldest first: who did what (the approver; who broke glass)."""
    with open_audit_source(config_repo) as source:
        info(source.describe())
        entries = read_log(source, env)
        where = source.to_dict()
    width = shutil.get_terminal_size((100, 24)).columns
    emit(
        {"env": env, **where, "entries": [e.to_dict() for e in entries]},
        as_json=as_json,
        human=lambda: "\n".join(render_entry(e, width) for e in entries) or f"no audit entries for {env}",
    )


def who_did_it(entry: AuditEntry) -> str:
    """The person an entry is about: the approver of an approval, the engineer who broke glass for an
    override; otherwise whoever ran the command that wrote it."""
    if entry.kind == "approval" and isinstance(entry.data.get("user"), str):
        return str(entry.data["user"])
    if entry.kind == "override" and isinstance(entry.data.get("who"), str) and entry.data["who"]:
        return str(entry.data["who"])
    return entry.actor


def _value(value: object) -> str | None:
    if isinstance(value, str | int | float | bool):
        return str(value)
    if isinstance(value, list) and value:
        items = [
            f"{v['calendar']}/{v['window']}"
            if isinstance(v, dict) and {"calendar", "window"} <= v.keys()
            else v
            for v in value
        ]
        if all(isinstance(v, str | int | float) for v in items):
            return ",".join(map(str, items))
    return None


def summary(entry: AuditEntry) -> str:
    parts = [(k, _value(v)) for k, v in entry.data.items()]
    return ", ".join(f"{k}={v}" for k, v in parts if v is not None)


def render_entry(entry: AuditEntry, width: int) -> str:
    """One entry, wrapped at `width` between words (a word is never cut; a longer one overflows)."""
    who = who_did_it(entry)
    by = f" (recorded by {entry.actor})" if who != entry.actor else ""
    head = f"#{entry.seq} {entry.at} {entry.kind:<12} {who}{by}"
    text = f"{head}  {summary(entry)}".rstrip()
    return textwrap.fill(
        text,
        width=max(width, 40),
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )

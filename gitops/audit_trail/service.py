"""What `audit verify`, `audit log` and break-glass do, on the config source every command reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gitops.audit.history import LogHistory
from gitops.audit.log import AuditEntry, ChainReport, parse_entries, verify_text
from gitops.audit_trail.source import AuditSource, is_plain_directory, session_source
from gitops.errors import UsageError
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import open_session
from gitops.promote.service import record_audit
from gitops.windows.breakglass import AUDIT_KIND, break_glass, require_emergency_details
from gitops.windows.service import CheckResult
from gitops.windows.verdict import check


@dataclass(frozen=True)
class EnvAudit:
    """One log: its hash chain as of the commit read, and what main's history says about it."""

    chain: ChainReport
    history: LogHistory | None  # None: read from a plain directory, history not checked

    @property
    def ok(self) -> bool:
        return self.chain.ok and not (self.history and self.history.tampering)

    def problems(self) -> list[str]:
        found = [] if self.chain.ok else [f"BROKEN at line {self.chain.first_bad_line}: {self.chain.reason}"]
        return found + [t.message() for t in (self.history.tampering if self.history else ())]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.chain.to_dict(),
            "ok": self.ok,
            "history": self.history.to_dict() if self.history else None,
            "problems": self.problems(),
        }


@dataclass(frozen=True)
class AuditVerification:
    source: AuditSource
    logs: tuple[EnvAudit, ...]

    @property
    def ok(self) -> bool:
        return all(log.ok for log in self.logs)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.source.to_dict(), "chains": [log.to_dict() for log in self.logs]}


def _known(source: AuditSource, env: str, histories: Iterable[str]) -> None:
    if env in source.envs or env in histories or env in source.log_envs():
        return
    known = ", ".join(sorted(source.envs | set(histories))) or "none"
    raise UsageError(
        f"unknown environment {env!r}: no envs/{env}/ and no audit/{env}.jsonl, now or ever (known: {known})",
        hint=f"in {source.remote}",
    )


def verify_audit(source: AuditSource, env: str | None) -> AuditVerification:
    """Check the chain of ENV's log (default: every env that has or had one) and that main's history only
    ever appended to it."""
    histories = source.history()
    seen = set(histories or ())
    if env is not None:
        _known(source, env, seen)
    names = [env] if env is not None else sorted(source.log_envs() | seen)
    texts = source.read(names)
    logs = tuple(
        EnvAudit(
            verify_text(texts[name] or "", name, f"audit/{name}.jsonl"),
            None if histories is None else histories.get(name, LogHistory(name)),
        )
        for name in names
    )
    return AuditVerification(source, logs)


def read_log(source: AuditSource, env: str) -> list[AuditEntry]:
    """ENV's entries, oldest first, as of the commit read (an env without a log has none)."""
    _known(source, env, ())
    text = source.read([env])[env]
    return parse_entries(text or "", f"audit/{env}.jsonl")


@dataclass(frozen=True)
class BreakGlass:
    """A window check with --emergency: the verdict, the override (when closed) and where it was audited."""

    result: CheckResult
    source: AuditSource
    seq: int | None
    key: str | None

    def to_dict(self) -> dict[str, Any]:
        data = self.result.to_dict()
        if self.result.override is not None:
            data["audit"] = {"kind": AUDIT_KIND, "seq": self.seq, "key": self.key, **self.source.to_dict()}
        return data


def break_glass_window(
    *,
    config_repo: str,
    env: str,
    at: datetime,
    reason: str | None,
    ticket: str | None,
    actor: str | None,
    expires: datetime | None,
    now: datetime,
) -> BreakGlass:
    """Check ENV's window at `at` against the calendars on main; when closed, write the override to
    audit/<env>.jsonl on main (idempotent by its key) before anyone is told it is overridden."""
    require_emergency_details(emergency=True, reason=reason, ticket=ticket)
    if is_plain_directory(config_repo) is not None:
        raise UsageError(
            f"--config-repo {config_repo!r} is not a git repository: break-glass cannot be audited there",
            hint="the override goes to audit/<env>.jsonl on main: pass a clone or the repository URL",
        )
    with open_session(config_repo, ForgeSettings(kind="local", actor=actor)) as session:
        repo = session.repo
        verdict = check([repo.calendars[name] for name in repo.env(env).config.calendars], at, env=env)
        override = break_glass(
            verdict, emergency=True, reason=reason, ticket=ticket, who=session.actor, when=now,
            allowed=True, env=env, expires=expires,
        )  # fmt: skip
        seq, key = None, None
        if override is not None:
            key = override.audit_key()
            data = {**override.to_dict(), "via": "window check"}
            seq = record_audit(session.checkout, env, session.actor, [(AUDIT_KIND, data, key)], now)
        source = session_source(session)
    return BreakGlass(CheckResult(verdict, override), source, seq, key)

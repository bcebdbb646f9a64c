"""`odoo-gitops audit verify [ENV]` and `odoo-gitops audit log ENV`."""

from __future__ import annotations

import click

from gitops.audit import audit_path, read_entries, verify_chain
from gitops.cli.options import config_repo_option, emit, json_option
from gitops.config.source import checkout_config_repo
from gitops.errors import EXIT_VERIFY


@click.group("audit")
def audit() -> None:
    """The hash-chained audit log of promotions, approvals, overrides and verifications."""


@audit.command("verify")
@click.argument("env", required=False)
@config_repo_option
@json_option
def verify(env: str | None, config_repo: str, as_json: bool) -> None:
    """Check the audit chain of ENV (default: every audit/<env>.jsonl). Exit 4 if any chain is broken."""
    root = checkout_config_repo(config_repo)
    envs = [env] if env else sorted(p.stem for p in (root / "audit").glob("*.jsonl"))
    reports = [verify_chain(audit_path(root, name), name) for name in envs]
    ok = all(r.ok for r in reports)

    def human() -> str:
        if not reports:
            return "no audit logs found"
        return "\n".join(
            f"{r.env}: ok ({r.entries} entries)"
            if r.ok
            else f"{r.env}: BROKEN at line {r.first_bad_line}: {r.reason}"
            for r in reports
        )

    emit(
        {"ok": ok, "chains": [r.to_dict() for r in reports]},
        as_json=as_json,
        human=human,
        exit_code=0 if ok else EXIT_VERIFY,
    )


@audit.command("log")
@click.argument("env")
@config_repo_option
@json_option
def log(env: str, config_repo: str, as_json: bool) -> None:
    """Print the audit trail of ENV, oldest first."""
    entries = read_entries(audit_path(checkout_config_repo(config_repo), env))

    def human() -> str:
        return (
            "\n".join(f"#{e.seq} {e.at} {e.kind:<12} {e.actor:<18} {_summary(e.data)}" for e in entries)
            or f"no audit entries for {env}"
        )

    emit({"env": env, "entries": [e.to_dict() for e in entries]}, as_json=as_json, human=human)


def _summary(data: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, str | int | float | bool))[:160]

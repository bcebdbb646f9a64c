"""`odoo-gitops gate check PR`: approvals + windows → commit status `odoo-gitops/gate` on the PR head."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.options import config_repo_option, json_option, print_report
from gitops.errors import PolicyError, Report
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import open_session
from gitops.promote.pulls import GateReport, check_gate
from gitops.promote.stage_seams import engine_window_check


def render_gate(report: GateReport) -> str:
    v = report.verdict
    wave = f", wave {report.facts.wave}" if report.facts.wave else ""
    lines = [f"PR #{report.pull.number} ({report.facts.target}{wave}): {v.state.upper()} — {v.description}"]
    lines += [f"  counted: {a.user}" for a in v.counted]
    lines += [f"  ignored: {a.user} ({a.reason})" for a in v.ignored]
    lines += [f"  - {r}" for r in v.reasons]
    lines += [f"  gate {g.name}: {g.state}" for g in v.gates]
    if v.window_overridden:
        lines.append("  window overridden by the emergency path (audited; post-review flagged)")
    return "\n".join(lines)


@click.group("gate")
def gate() -> None:
    """Approval and window gates of promotion PRs."""


@gate.command("check")
@click.argument("number", type=int, metavar="PR")
@config_repo_option
@forge_options
@click.option("--no-publish", is_flag=True, help="Evaluate only: no commit status, no audit entry.")
@json_option
def check(
    *,
    number: int,
    config_repo: str,
    forge: ForgeSettings,
    no_publish: bool,
    as_json: bool,
) -> None:
    """Evaluate PR's gate and publish it as commit status. Exit 0 success, 3 pending or failure."""
    with open_session(config_repo, forge) as s:
        report = check_gate(
            s.forge, s.checkout, s.repo, number, now=datetime.now(UTC),
            window_check=engine_window_check, actor=s.actor, publish=not no_publish,
        )  # fmt: skip
    shown = Report(data=report.to_dict(), text=lambda: render_gate(report))
    if report.verdict.state != "success":
        raise PolicyError(f"the gate of PR #{number} is {report.verdict.state}", report=shown)
    print_report(shown, as_json=as_json)

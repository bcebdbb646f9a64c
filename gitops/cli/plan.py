"""`odoo-gitops plan SOURCE_ENV TARGET_ENV`: what a promotion would change, and what it needs."""

from __future__ import annotations

import click

from gitops.cli.options import config_repo_option, emit, json_option
from gitops.config.loader import load_config
from gitops.config.source import checkout_config_repo
from gitops.errors import EXIT_POLICY
from gitops.promote.plan import Plan, make_plan


def _short(image: str | None) -> str:
    if not image:
        return "(none)"
    repo, _, digest = image.partition("@")
    return f"{repo}@{digest[:19]}…"


def render_plan(plan: Plan) -> str:
    rows = [
        ("promotion", f"{plan.source} → {plan.target} (pipeline {plan.pipeline}, {plan.step})"),
        ("verdict", "allowed" if plan.allowed else "NOT allowed"),
        ("version", f"{plan.version_from or '(none)'} → {plan.version_to} ({plan.bump})"),
        ("image", f"{_short(plan.image_from)} → {_short(plan.image_to)}"),
        ("change class", f"{plan.change_class or 'unknown'}{' (destructive)' if plan.destructive else ''}"),
        (
            "soak in source",
            f"{plan.soak.to_dict()['required']} required, "
            f"{'satisfied' if plan.soak.satisfied else 'not satisfied'}",
        ),
        (
            "approvals",
            f"{plan.approvals.get('count', 0)} from {', '.join(plan.approvals.get('from', [])) or '-'}",
        ),
        ("gates", ", ".join(plan.gates) or "-"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    if plan.up_to_date:
        lines.append(f"{plan.target} already runs this release; promoting would change nothing.")
    if plan.modules:
        lines += ["", "module                          change   version"]
        for m in plan.modules:
            lines.append(f"{m.name:<32}{m.change:<9}{m.from_version or '-'} → {m.to_version or '-'}")
    if plan.waves:
        lines += ["", "wave        tenants"]
        lines += [f"{w.name:<12}{', '.join(w.tenants) or '(none)'}" for w in plan.waves]
    if plan.reasons:
        lines += ["", "blocked because:"] + [f"  - {r}" for r in plan.reasons]
    return "\n".join(lines)


@click.command("plan")
@click.argument("source_env")
@click.argument("target_env")
@config_repo_option
@json_option
def plan(source_env: str, target_env: str, config_repo: str, as_json: bool) -> None:
    """Show what promoting SOURCE_ENV to TARGET_ENV would change. Exit 3 when the pipeline says no."""
    repo = load_config(checkout_config_repo(config_repo))
    result = make_plan(repo, source_env, target_env)
    emit(
        result.to_dict(),
        as_json=as_json,
        human=lambda: render_plan(result),
        exit_code=0 if result.allowed else EXIT_POLICY,
    )

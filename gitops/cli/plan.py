"""`odoo-gitops plan SOURCE_ENV TARGET_ENV`: what `promote` would do now, and what it needs."""

from __future__ import annotations

import click

from gitops.cli.options import config_repo_option, json_option, print_report
from gitops.config.loader import load_config
from gitops.config.source import checkout_config_repo
from gitops.errors import PolicyError, Report
from gitops.promote.plan import Plan, make_plan
from gitops.promote.stage_seams import engine_window_check
from gitops.promote.waves import NextWave


def _short(image: str | None) -> str:
    if not image:
        return "(none)"
    repo, _, digest = image.partition("@")
    return f"{repo}@{digest[:19]}…"


def _next_wave(plan: Plan) -> str:
    chosen = plan.next_wave
    if chosen is None:
        return "nothing to do"
    who = ", ".join(chosen.tenants) or "the environment"
    name = f"wave {chosen.wave}: " if chosen.wave else ""
    done = " (completes the environment)" if chosen.completes_env and chosen.tenants else ""
    return f"{name}{who}{done}"


def _window(plan: Plan) -> str:
    window = next((g for g in plan.gate_status if g.name == "window"), None)
    if window is not None:
        return window.detail
    if plan.window is None:
        return "-"
    return ("open now" if plan.window.open else "closed now") + " (no window gate in this stage)"


def render_plan(plan: Plan) -> str:
    rows = [
        ("promotion", f"{plan.source} → {plan.target} (pipeline {plan.pipeline}, {plan.step})"),
        ("verdict", "allowed" if plan.allowed else "NOT allowed"),
        ("next", _next_wave(plan)),
        ("version", f"{plan.version_from or '(none)'} → {plan.version_to} ({plan.bump})"),
        ("image", f"{_short(plan.image_from)} → {_short(plan.image_to)}"),
        ("change class", f"{plan.change_class or 'unknown'}{' (destructive)' if plan.destructive else ''}"),
        (
            "soak in source",
            f"{plan.soak.to_dict()['required']} required, "
            f"{'satisfied' if plan.soak.satisfied else 'not satisfied'}",
        ),
        ("window", _window(plan)),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k.ljust(width)}  {v}" for k, v in rows]
    if plan.up_to_date:
        lines.append(f"{plan.target} already runs this release; promoting would change nothing.")
    if plan.gate_status:
        lines += ["", "gate        status              detail"]
        lines += [f"{g.name:<12}{g.status:<20}{g.detail}" for g in plan.gate_status]
    if plan.modules:
        lines += ["", "module                          change   version"]
        for m in plan.modules:
            lines.append(f"{m.name:<32}{m.change:<9}{m.from_version or '-'} → {m.to_version or '-'}")
    if plan.wave_states:
        lines += ["", "wave        state     tenants"]
        for w in plan.wave_states:
            lines.append(f"{w.name:<12}{w.state:<10}{', '.join(w.tenants) or '(none)'}")
            lines += [f"{'':<22}- {r}" for r in w.reasons if w.state == "blocked"]
    if plan.refusals:
        lines += ["", "promote would refuse because:"] + [f"  - {r}" for r in plan.refusals]
    return "\n".join(lines)


@click.command("plan")
@click.argument("source_env")
@click.argument("target_env")
@config_repo_option
@click.option("--tenants", default=None, help="Comma-separated tenants, as promote --tenants would take.")
@click.option("--wave", default=None, help="This wave of the pipeline, as promote --wave would take.")
@json_option
def plan(
    *,
    source_env: str,
    target_env: str,
    config_repo: str,
    tenants: str | None,
    wave: str | None,
    as_json: bool,
) -> None:
    """Show what `promote SOURCE_ENV TARGET_ENV` would do now: the wave it opens (or why it refuses), the
    change, the window and the gates. Exit 3 when promote would refuse."""
    repo = load_config(checkout_config_repo(config_repo))
    chosen = tuple(t.strip() for t in tenants.split(",") if t.strip()) if tenants else None
    result = make_plan(
        repo, source_env, target_env, request=NextWave(chosen, wave), window_check=engine_window_check
    )
    report = Report(data=result.to_dict(), text=lambda: render_plan(result))
    if not result.allowed:
        raise PolicyError(f"promote {source_env} → {target_env} would be refused", report=report)
    print_report(report, as_json=as_json)

"""The CAB view (gitops.board.cab) as Markdown: the verdict line first, then schema changes (destructive
first, explained), migration scripts, modules, evidence, the window in the env's time zone, the rollback
target and the reviews. `pr show` prints it as is, or renders it with rich on a terminal."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from gitops.board.cab import CabView
from gitops.board.model import WindowNow, local_text, short_digest
from gitops.forge.protocol import CommitStatus

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# CommonMark: intraword '_', a '[' without '](' and a lone '~' or '#' mid-line are literal already, so only
# what could start markup is escaped (the plain-text output stays readable)
_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*<>|"})


def lit(value: object) -> str:
    """Free text inside Markdown: one line, no control characters, no markup (emphasis, code, HTML, links,
    table cells, strikethrough)."""
    one_line = _CONTROL_RE.sub("?", str(value)).replace("\r", " ").replace("\n", " ")
    return one_line.translate(_SPECIAL).replace("](", "]\\(").replace("~~", "\\~\\~")


def text_block(value: str) -> str:
    """Multi-line text shown as it is (the PR description): control characters replaced, lines kept."""
    return _CONTROL_RE.sub("?", value.replace("\r\n", "\n"))


def verdict_line(view: CabView) -> str:
    """'gate: PENDING: normal: 1/2 approvals — missing: …' (plain text: the first line of `pr show`)."""
    v = view.verdict
    if v.state == "success":
        return f"gate: SUCCESS: {lit(v.description)}"
    approvals = f"{v.rule}: {len(v.counted)}/{v.required} approvals"
    return f"gate: {v.state.upper()}: {approvals} — missing: {lit(view.missing)}"


def _where(change: Mapping[str, Any]) -> str:
    parts = [str(change.get("module") or "")]
    model = change.get("model")
    if model:
        parts.append(f"{model}.{change['field']}" if change.get("field") else str(model))
    return lit(": ".join(p for p in parts if p))


def schema_lines(view: CabView) -> list[str]:
    s = view.schema
    head = f"Class **{lit(s.change_class)}**" + (
        ", **destructive**" if s.destructive else ", not destructive"
    )
    lines = ["## Schema changes", "", f"{head} (as the gate applies it; shown from the {s.source}).", ""]
    if s.note:
        lines += [f"> {lit(s.note)}", ""]
    if s.source == "addons repository" and not s.changes:
        lines += ["No schema changes.", ""]
    if s.changes:
        lines += ["| severity | change | where | explanation |", "|---|---|---|---|"]
        for c in s.changes:
            severity = "**destructive**" if c.get("severity") == "destructive" else lit(c.get("severity"))
            lines.append(
                f"| {severity} | {lit(c.get('kind'))} | {_where(c)} | {lit(c.get('message') or '')} |"
            )
        lines.append("")
    if s.errors:
        lines += [f"- diff error: {lit(e)}" for e in s.errors] + [""]
    if s.source == "addons repository":
        lines += ["### Migration scripts that will run", ""]
        lines += _scripts(s.migration_scripts)
    return lines


def _scripts(scripts: Sequence[Mapping[str, Any]]) -> list[str]:
    if not scripts:
        return ["None.", ""]
    lines = ["| module | version | stage | script |", "|---|---|---|---|"]
    lines += [
        f"| {lit(s['module'])} | {lit(s['version'])} | {lit(s['stage'])} | `{lit(s['path'])}` |"
        for s in scripts
    ]
    return [*lines, ""]


def module_lines(view: CabView) -> list[str]:
    if not view.modules:
        return ["## Modules", "", "No module changes known from the records.", ""]
    lines = ["## Modules", "", "| module | change | from | to |", "|---|---|---|---|"]
    lines += [
        f"| {lit(m.name)} | {m.change} | {lit(m.from_version or '–')} | {lit(m.to_version or '–')} |"
        for m in view.modules
    ]
    return [*lines, ""]


def _supply(name: str, result: Any) -> str:
    if result is None:
        return f"- {name}: not recorded by the promotion run"
    return f"- {name}: {'ok' if result.ok else 'FAILED'}: {lit(result.text)}"


def evidence_lines(view: CabView) -> list[str]:
    lines = ["## Evidence", "", _supply("signature", view.signature), _supply("scan", view.scan)]
    if view.attestations_error:
        lines.append(f"- SBOM, provenance: cannot check: {lit(view.attestations_error)}")
    elif view.attestations is None:
        lines.append("- SBOM, provenance: not checked (pass --registry to read the image's attestations)")
    else:
        lines += [f"- {lit(k)}: {'present' if v else 'MISSING'}" for k, v in view.attestations.items()]
    return [*lines, ""]


def window_text(window: WindowNow | None) -> str:
    if window is None:
        return "Not gated by change windows."
    tz = window.timezone
    if window.open:
        until = f" until {local_text(window.open_until, tz)}" if window.open_until else ""
        return f"**Open** now{until} ({tz})."
    blocked = f" by {lit(', '.join(window.blocked_by))}" if window.blocked_by else ""
    nxt = local_text(window.next_open, tz) or "none within 400 days"
    return f"**Closed** now{blocked}; next opening {nxt} ({tz})."


def rollback_lines(view: CabView) -> list[str]:
    r = view.rollback
    if r.version is None:
        return ["## Rollback", "", f"No rollback target: {lit(r.why)}.", ""]
    ready = "**ready**" if r.ready else "**NOT ready**"
    digest = f" (`{short_digest(r.image)}`)" if r.image else ""
    command = f"`odoo-gitops rollback {lit(view.target)}`"
    return ["## Rollback", "", f"{command} returns to {lit(r.version)}{digest}: {ready} — {lit(r.why)}.", ""]


def rehearsal_lines(view: CabView) -> list[str]:
    if view.rehearsal is None:
        return []
    return ["## Restore rehearsal", "", lit(view.rehearsal.text()), ""]


def lifecycle_lines(view: CabView) -> list[str]:
    """A lifecycle PR changes no release: what it changes, the rule it is counted under, and whether the env's
    data rule (a rehearsed backup before a refresh or the expiry of production data) is met."""
    change = view.kind.removeprefix("lifecycle:")
    v = view.verdict
    lines = [
        "## Lifecycle change",
        "",
        f"`{lit(change)}` of **{lit(view.target)}**: approvals under the `{v.rule}` rule of the governing "
        "environment's policy on main; no release, schema or image changes.",
        "",
    ]
    data = next((g for g in v.gates if g.name == "lifecycle_backup"), None)
    if data is None or not data.detail.get("applies"):
        return [*lines, "- backup: not asked by the environment's policy", ""]
    if data.state == "success":
        return [*lines, f"- backup: {lit(data.detail.get('backup'))}, proven by a restore rehearsal", ""]
    return [*lines, *(f"- backup: {data.state.upper()}: {lit(r)}" for r in data.reasons), ""]


def review_lines(view: CabView) -> list[str]:
    lines = ["## Reviews", ""]
    for mark in view.reviews:
        status = "counted" if mark.counted else f"ignored: {lit(mark.reason)}" if mark.reason else ""
        suffix = f" ({status})" if status else ""
        lines.append(f"- review: {lit(mark.user)} {lit(mark.state)} at {lit(mark.commit_id[:12])}{suffix}")
    if not view.reviews:
        lines.append(
            f"None yet: {view.verdict.required} needed from {lit(', '.join(view.verdict.eligible_from))}."
        )
    return [*lines, ""]


def cab_markdown(
    view: CabView, *, head: str, head_sha: str, statuses: Sequence[CommitStatus], now: datetime,
    body: str | None = None,
) -> str:  # fmt: skip
    """The whole CAB view; `body` (the PR description, marker stripped) last, only when asked for."""
    wave = f" · wave {lit(view.wave)}" if view.wave else ""
    tenants = f" ({lit(', '.join(view.tenants))})" if view.tenants else ""
    lifecycle = view.kind.startswith("lifecycle:")
    change = "" if lifecycle else f" · {lit(view.version_from or '(none)')} → {lit(view.version_to or '?')}"
    where = f"`{lit(head)}` @ `{head_sha[:12]}`"
    zone = view.window.timezone if view.window else "not gated"
    what = (
        lifecycle_lines(view)
        if lifecycle
        else [*schema_lines(view), *module_lines(view), *evidence_lines(view)]
    )
    lines = [
        verdict_line(view), "",
        f"## #{view.number} {lit(view.title)}", "",
        f"{lit(view.kind)} to **{lit(view.target)}**{wave}{tenants}{change} · {where}",
        "", *what,
        f"## Window ({zone})", "", window_text(view.window), "",
        *([] if lifecycle else rollback_lines(view)), *rehearsal_lines(view), *review_lines(view),
    ]  # fmt: skip
    if statuses:
        lines += ["## Statuses", ""]
        lines += [f"- {lit(c.context)}: {lit(c.state)} — {lit(c.description)}" for c in statuses] + [""]
    lines.append(f"_As of {now.strftime('%Y-%m-%d %H:%M UTC')}._")
    if body is not None:
        lines += [
            "",
            "## PR description (as written on the PR; the gate never reads it)",
            "",
            text_block(body.strip()),
        ]
    return "\n".join(lines) + "\n"

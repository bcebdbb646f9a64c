"""PR title, labels and body (jinja2 template shipped as package data)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import jinja2

from gitops.gates.evidence import WindowState
from gitops.promote.plan import ModuleChange
from gitops.promote.stage_seams import SchemaDiff

# GitHub rejects a PR body or comment over 65,536 characters (422 "body is too long"); the tool keeps its own
# under BODY_BUDGET whatever the number of tenants, modules or schema changes, so the PR always opens.
GITHUB_BODY_LIMIT = 65_536
BODY_BUDGET = 60_000
TENANTS_LISTED = 50  # up to this many tenants the table lists them; above, a count and a collapsed list
TENANT_LIST_CHARS = 8_000  # the collapsed list's share of the body
TABLE_ROWS = 200  # module and schema-change rows shown; the rest is counted
TEXT_CHARS = 1_000  # one free-text value (reason, ticket, actor, a schema value)

_CODE_SAFE = str.maketrans({"\n": " ", "\r": " ", "|": "\\|", "`": "'", "<": "&lt;", ">": "&gt;"})
_TEXT_SAFE = str.maketrans({c: "\\" + c for c in "\\*_[]()#!~"})


class Markdown(str):
    """Markdown odoo-gitops wrote itself (from trusted config): rendered as is."""


def code_safe(value: object) -> object:
    """Every value rendered into the body: no line breaks, table pipes, backticks or HTML (a value can
    neither end a table cell, nor a code span, nor open a comment that imitates odoo-gitops's marker)."""
    if isinstance(value, Markdown) or not isinstance(value, str):
        return value
    return value.translate(_CODE_SAFE)


def clip(text: str, limit: int = TEXT_CHARS) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit} more characters)"


def md_escape(value: object) -> str:
    """Free text (reasons, tickets, versions, actors): also no emphasis, links or images; at most
    TEXT_CHARS characters of it."""
    return str(code_safe(clip(str(value)).translate(_TEXT_SAFE)))


def tenant_summary(tenants: Sequence[str], limit: int = TENANT_LIST_CHARS) -> tuple[Markdown, int]:
    """The tenants (escaped) joined by commas up to `limit` characters, and how many did not fit."""
    shown: list[str] = []
    used = 0
    for name in tenants:
        text = md_escape(name)
        if used + len(text) + 2 > limit:
            break
        shown.append(text)
        used += len(text) + 2
    return Markdown(", ".join(shown)), len(tenants) - len(shown)


def bounded(text: str, budget: int = BODY_BUDGET) -> str:
    """A body or comment cut to `budget` characters; the end (where the marker is) is kept."""
    if len(text) <= budget:
        return text
    note = "\n\n… (cut: the text exceeded GitHub's size limit)\n\n"
    tail = text[text.rfind("<!-- odoo-gitops:") :] if "<!-- odoo-gitops:" in text else ""
    if len(tail) > budget // 2:
        tail = ""
    return text[: budget - len(note) - len(tail)] + note + tail


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("gitops.promote", "templates"),
    autoescape=False,  # noqa: S701 - markdown for a PR body, not HTML: values are escaped by finalize
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    finalize=code_safe,
)
_ENV.filters["md"] = md_escape
_ENV.globals.update(TENANTS_LISTED=TENANTS_LISTED, TABLE_ROWS=TABLE_ROWS, tenant_summary=tenant_summary)


@dataclass(frozen=True, kw_only=True)
class BodyFacts:
    kind: str
    source: str
    target: str
    wave: str | None
    tenants: tuple[str, ...]
    actor: str
    change_class: str
    destructive: bool
    version_from: str | None
    version_to: str
    image_from: str | None
    image_to: str
    source_commit: str
    modules: tuple[ModuleChange, ...]
    schema: SchemaDiff
    signature: str
    scan: str
    scan_policy: str
    window: str
    approvals: str
    rollback: str
    content_hash: str
    emergency: dict[str, str | None] | None = None
    restore: dict[str, Any] | None = None
    gates: tuple[str, ...] = ()


def title(facts: BodyFacts) -> str:
    klass = facts.change_class + (", destructive" if facts.destructive else "")
    if facts.kind == "rollback":
        return f"Roll back {facts.target} to {facts.version_to} [{klass}]"
    wave = f" ({facts.wave})" if facts.wave else ""
    return f"Promote {facts.version_to} to {facts.target}{wave} [{klass}]"


LABEL_MAX = 50  # GitHub refuses a longer label name (422)


def fit_label(label: str) -> str:
    """`label` within GitHub's 50 characters: a longer one keeps its start and a digest of the whole."""
    if len(label) <= LABEL_MAX:
        return label
    digest = hashlib.sha256(label.encode()).hexdigest()[:8]
    return f"{label[: LABEL_MAX - 9]}~{digest}"


def labels(facts: BodyFacts, *, cab_required: bool, emergency_label: str = "emergency") -> list[str]:
    found = [fit_label(f"env:{facts.target}"), f"change:{facts.change_class}"]
    if facts.destructive:
        found.append("change:destructive")
    if facts.modules and (not facts.schema.computed or facts.schema.changes):
        found.append("schema-change")
    if cab_required:
        found.append("cab-required")
    if facts.emergency:
        found.append(emergency_label)
    if facts.kind == "rollback":
        found.append("rollback")
    return found


def managed(label: str, emergency_label: str = "emergency") -> bool:
    """Labels odoo-gitops sets itself (others, added by people, are kept on update). The emergency label
    follows the promotion's declaration: it is removed when a re-run drops the emergency (--no-emergency)."""
    managed_names = {"schema-change", "cab-required", "rollback", emergency_label}
    return label.startswith(("env:", "change:")) or label in managed_names


def render_body(facts: BodyFacts, marker: str) -> str:
    repo_from, _, digest_from = (facts.image_from or "").partition("@")
    repo_to, _, digest_to = facts.image_to.partition("@")
    text = _ENV.get_template("pr_body.md.j2").render(
        **{k: v for k, v in asdict(facts).items() if k not in {"schema", "modules"}},
        schema=facts.schema,
        modules=facts.modules,
        repository_from=repo_from or None,
        digest_from=digest_from or None,
        repository_to=repo_to,
        digest_to=digest_to,
    )
    return bounded(text.rstrip("\n") + "\n\n" + marker + "\n")


def describe_window(window: WindowState | None) -> str:
    if window is None:
        return Markdown("Not gated by change windows.")
    if window.open:
        until = f" until {window.open_until.isoformat()}" if window.open_until else ""
        return Markdown(f"Open now{until}.")
    blocked = (
        f" (blocked by {', '.join(md_escape(b) for b in window.blocked_by)})" if window.blocked_by else ""
    )
    nxt = window.next_open.isoformat() if window.next_open else "none scheduled"
    return Markdown(f"**Closed now**{blocked}. Next open window: {nxt}. The gate stays pending until then.")


def describe_approvals(rule: str, count: int, sources: Sequence[str], *, backup: bool) -> str:
    if count == 0:
        text = f"`{rule}`: no approvals required."
    else:
        who = f" from {', '.join(sources)}" if sources else ""
        text = f"`{rule}`: {count} approval{'s' if count != 1 else ''}{who}."
    text += " The PR author, the promotion actor and commit authors never count."
    if backup:
        text += " A database backup must be recorded before merging (`--backup-id`)."
    return Markdown(text)

"""`odoo-gitops status` on a terminal: the board (gitops.board.model) as rich tables, with colour on a TTY
and as plain text otherwise. Only renders; every state comes from the model.

Every string from the config repository or the forge goes in as `rich.text.Text` (never as markup), with
control characters replaced, so a hostile name can neither style the output nor move the cursor.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import datetime

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from gitops.board.model import Board, Cell, CellState, EnvBoard, PullGate, local_text

# The matrix is shown up to this size; beyond, a summary (counts per state and the cells not verified).
MATRIX_MAX_ENVS = 4
MATRIX_MAX_TENANTS = 10
SUMMARY_MAX_CELLS = 40
WIDTH = 120
STYLE: dict[CellState, str] = {
    "verified": "green",
    "promoting": "cyan",
    "blocked": "bold red",
    "drifted": "yellow",
}
GATE_STYLE = {"success": "green", "pending": "yellow", "failure": "bold red", "error": "bold red"}
# SIMPLE_HEAD with an ASCII rule, for plain text
PLAIN_HEAD = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(value: object) -> str:
    """Text safe to put on a terminal: control characters (escape sequences included) become '?'."""
    return _CONTROL_RE.sub("?", str(value))


def text(*parts: tuple[object, str] | object) -> Text:
    """Text from (value, style) pairs or plain values, every value cleaned; no markup is interpreted."""
    out = Text()
    for part in parts:
        value, style = part if isinstance(part, tuple) else (part, "")
        out.append(clean(value), style=style)
    return out


def console(*, color: bool, width: int) -> Console:
    return Console(
        file=io.StringIO(),
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


def render(items: Iterable[RenderableType], *, color: bool, width: int = WIDTH) -> str:
    out = console(color=color, width=width)
    for item in items:
        out.print(item)
    file = out.file
    assert isinstance(file, io.StringIO)
    return "\n".join(line.rstrip() for line in file.getvalue().splitlines()) + "\n"


def _when(moment: datetime | None, timezone: str) -> str:
    return local_text(moment, timezone) or "not within 400 days"


def window_line(env: EnvBoard) -> Text:
    w = env.window
    gated = "" if w.gated else " (not gated)"
    if w.open:
        until = f" until {_when(w.open_until, w.timezone)}" if w.open_until else ""
        return text(("window open", "green"), f"{until}{gated}")
    blocked = f" by {', '.join(w.blocked_by)}" if w.blocked_by else ""
    return text(
        ("window closed", "yellow"), f"{blocked}{gated}; next opening {_when(w.next_open, w.timezone)}"
    )


def freeze_line(env: EnvBoard, now: datetime) -> Text:
    freeze = env.next_freeze
    if freeze is None:
        return text("no freeze ahead")
    span = f"{local_text(freeze.start, env.timezone)} → {local_text(freeze.end, env.timezone)}"
    if freeze.active(now):
        return text(("in freeze ", "yellow"), f"{freeze.name} until {local_text(freeze.end, env.timezone)}")
    return text("next freeze ", freeze.name, f" {span}")


def promotion_line(env: EnvBoard) -> Text:
    p = env.promotion
    if p is None:
        return text("first stage of its pipeline")
    head = f"{p.source} → {env.name}"
    if p.error:
        return text(head, ": ", (p.error, "red"))
    if p.up_to_date:
        return text(head, f": runs {p.version} already")
    waves = " · ".join(f"{w.name} {w.state}" for w in p.waves) or "no waves"
    verdict = ("allowed", "green") if p.allowed else ("NOT allowed", "yellow")
    line = text(head, f" {p.version}: ", verdict, f" ({waves})")
    if p.refusals:
        line.append(clean(f"; {p.refusals[0]}"))
    return line


def pull_line(pull: PullGate, env: EnvBoard) -> Text:
    wave = f" {pull.wave}" if pull.wave else ""
    approvals = (
        f" {pull.approvals_counted}/{pull.approvals_needed} approvals ({pull.rule})" if pull.rule else ""
    )
    return text(
        f"PR #{pull.number}{wave} {pull.version or ''} gate ",
        (pull.state, GATE_STYLE[pull.state]),
        f"{approvals}: {pull.reasons[0] if pull.reasons else pull.description}",
    )


def audit_line(env: EnvBoard) -> Text:
    a = env.audit
    if a.ok and not a.entries:
        return text("no audit entries yet")
    if a.ok:
        checked = "" if a.history_checked else " (history not checked)"
        return text(("audit ok", "green"), f" ({a.entries} entries){checked}")
    return text(("audit BROKEN", "bold red"), f": {'; '.join(a.problems)}")


def rehearsal_line(env: EnvBoard) -> Text:
    r = env.rehearsal
    style = {"success": "green", "pending": "yellow"}.get(r.state, "bold red") if r else ""
    return text(("restore rehearsal", style), f" {r.text()}") if r else text("")


def env_table(board: Board) -> Table:
    table = Table(box=None, show_header=False, pad_edge=False, padding=(0, 1, 0, 0))
    table.add_column("env", style="bold", no_wrap=True)
    table.add_column("what", overflow="fold")
    for env in board.envs:
        lines = [
            text(f"{env.version or 'no release'} · {env.timezone} · "), window_line(env),
            freeze_line(env, board.generated_at), promotion_line(env),
            *(pull_line(p, env) for p in env.pulls), audit_line(env),
            *([rehearsal_line(env)] if env.rehearsal else []),
        ]  # fmt: skip
        lines[0].append_text(lines.pop(1))
        table.add_row(text(env.name), Text("\n").join(lines), end_section=True)
    return table


def cell_text(cell: Cell, timezone: str) -> Text:
    """Two lines of at most 23 characters: state (PR number or soak left), then version, digest, date."""
    extra = f" #{cell.pull}" if cell.pull else ""
    if cell.soak_left and not extra:
        extra = f" soak {_duration(cell.soak_left.total_seconds())}"
    when = (local_text(cell.verified_at, timezone) or "")[5:10] if cell.verified_at else ""
    if cell.drift:
        when = "unverified"
    digest = (cell.short_digest or "")[:8]
    line1 = text((cell.state, STYLE[cell.state]), extra)
    return Text("\n").join([line1, text(f"{cell.version or '-'} {digest} {when}".strip())])


def _duration(seconds: float) -> str:
    minutes = int(seconds + 59) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def matrix(board: Board, rule: box.Box = box.SIMPLE_HEAD) -> Table:
    """Tenants down, environments across; an environment without tenants fills the '(env)' row."""
    table = Table(box=rule, pad_edge=False, show_edge=False, padding=(0, 1))
    table.add_column("tenant", no_wrap=True, max_width=18, overflow="ellipsis")
    for env in board.envs:
        table.add_column(clean(env.name), no_wrap=True, max_width=24, overflow="ellipsis")
    tenants = sorted({c.tenant for c in board.cells() if c.tenant is not None})
    rows: list[str | None] = [None] if any(c.tenant is None for c in board.cells()) else []
    for tenant in rows + tenants:
        cells: list[RenderableType] = [text("(env)" if tenant is None else tenant)]
        for env in board.envs:
            found = next((c for c in env.cells if c.tenant == tenant), None)
            cells.append(cell_text(found, env.timezone) if found else Text(""))
        table.add_row(*cells, end_section=tenant is None)
    return table


def summary(
    board: Board, limit: int = SUMMARY_MAX_CELLS, rule: box.Box = box.SIMPLE_HEAD
) -> list[RenderableType]:
    """Counts per state for each env, then the cells that are not verified (at most `limit`)."""
    counts = Table(box=rule, pad_edge=False, show_edge=False, padding=(0, 1))
    counts.add_column("env", no_wrap=True)
    for state, style in STYLE.items():
        counts.add_column(state, justify="right", style=style)
    for env in board.envs:
        found = env.counts()
        counts.add_row(text(env.name), *(str(found[s]) for s in STYLE))
    odd = [c for c in board.cells() if c.state != "verified"]
    items: list[RenderableType] = [counts]
    if not odd:
        return [*items, text("every cell is verified")]
    listing = Table(box=rule, pad_edge=False, show_edge=False, padding=(0, 1))
    for name in ("env", "tenant", "state", "version", "why"):
        listing.add_column(name, overflow="fold", no_wrap=name != "why")
    for cell in odd[:limit]:
        listing.add_row(
            text(cell.env), text(cell.tenant or "(env)"), text((cell.state, STYLE[cell.state])),
            text(cell.version or "-"), text(cell.why),
        )  # fmt: skip
    items.append(listing)
    if len(odd) > limit:
        items.append(text(f"… and {len(odd) - limit} more not verified (--json lists every cell)"))
    return items


def fits_matrix(board: Board) -> bool:
    tenants = {c.tenant for c in board.cells()}
    return len(board.envs) <= MATRIX_MAX_ENVS and len(tenants) <= MATRIX_MAX_TENANTS + 1


def render_status(board: Board, *, color: bool, width: int = WIDTH) -> str:
    """The whole `status` screen: where it was read from, each env's line, then the matrix or a summary."""
    commit = f" @ {board.commit[:12]}" if board.commit else ""
    head = text(
        ("odoo-gitops status", "bold"),
        f" · {board.source}{commit} · {board.generated_at.strftime('%Y-%m-%d %H:%M UTC')}",
    )
    rule = box.SIMPLE_HEAD if color else PLAIN_HEAD
    body = [matrix(board, rule)] if fits_matrix(board) else summary(board, rule=rule)
    totals = board.counts()
    foot = text(*(p for s in STYLE for p in ((f"{totals[s]} ", ""), (s, STYLE[s]), ("  ", ""))))
    return render([head, env_table(board), *body, foot], color=color, width=width)

"""The site's input from the board model (gitops.board.model): the same snapshot `status` and `pr show`
render, plus what only the site shows: each env's calendars and its audit entries, read from the same commit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from gitops.audit.log import AuditEntry, parse_entries
from gitops.audit_trail.source import AuditSource, is_plain_directory, session_source
from gitops.board.collect import audit_checks, board_from_session
from gitops.board.model import Board, EnvBoard, PullGate
from gitops.board.site_cab import cab_page_html
from gitops.board.site_input import CabSection, Cell, Env, EnvAudit, Promotion, SiteInput
from gitops.board.snapshot import build_board
from gitops.config.loader import ConfigRepo, load_config
from gitops.errors import ConfigError, GitopsError
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import Session, open_session
from gitops.promote.stage_seams import engine_window_check

BLOCKING = {"failure", "error"}


def _cells(env: EnvBoard) -> list[Cell]:
    return [
        Cell(
            env=env.name,
            tenant=cell.tenant or "",
            state=cell.state,
            version=cell.version,
            digest=cell.digest,
            verified_at=cell.verified_at,
            detail=cell.why,
            promotion=str(cell.pull) if cell.pull is not None else None,
        )
        for cell in env.cells
    ]


def cab_sections(pull: PullGate) -> tuple[CabSection, ...]:
    """The CAB view of one PR as the gate engine gave it: what is missing, approvals, evidence, window."""
    sections = [CabSection(title="Gate", lines=(pull.description, *pull.reasons), severity=_severity(pull))]
    verdict, facts = pull.verdict, pull.facts
    if facts is not None:
        change = f"change class {facts.change_class}" + (" (destructive)" if facts.destructive else "")
        lines = [change, f"version {pull.version or '—'}", f"image {pull.image or '—'}"]
        lines += [f"backup recorded: {', '.join(facts.backup_ids)}"] if facts.backup_recorded else []
        sections.append(
            CabSection(title="Change", lines=tuple(lines), severity=_change_severity(facts.destructive))
        )
    if verdict is not None:
        approvals = [f"{pull.approvals_counted} of {pull.approvals_needed} counted (rule {pull.rule})"]
        approvals += [f"counted: {a.user}" for a in verdict.counted]
        approvals += [f"ignored: {a.user} ({a.reason})" for a in verdict.ignored]
        sections.append(CabSection(title="Approvals", lines=tuple(approvals)))
        checks = tuple(
            f"{g.name}: {g.state}" + (f" ({'; '.join(g.reasons)})" if g.reasons else "")
            for g in verdict.gates
        )
        if checks:
            sections.append(CabSection(title="Checks", lines=checks))
    return tuple(sections)


def _severity(pull: PullGate) -> str:
    return {"success": "ok", "pending": "warning"}.get(pull.state, "danger")


def _change_severity(destructive: bool) -> str:
    return "danger" if destructive else "info"


def _promotion(env: EnvBoard, pull: PullGate, cab: str | None = None) -> Promotion:
    return Promotion(
        id=str(pull.number),
        env=env.name,
        source=env.promotion.source if env.promotion else "",
        wave=pull.wave or "",
        tenants=tuple(t for t in pull.covers if t),
        state="blocked" if pull.state in BLOCKING else "promoting",
        verdict=pull.description,
        title=f"#{pull.number} {pull.title}",
        url=pull.url if pull.url.startswith(("https://", "http://")) else None,
        digest=pull.image.rpartition("@")[2] if pull.image else None,
        next_open=None if env.window.open else env.window.next_open,
        window=window_words(env),
        sections=cab_sections(pull),
        cab_html=cab,
    )


def window_words(env: EnvBoard) -> str:
    window = env.window
    gated = "" if window.gated else " (the window is not a gate of this stage)"
    if window.open:
        return f"open now{gated}"
    blocked = f" by {', '.join(window.blocked_by)}" if window.blocked_by else ""
    later = "" if window.next_open else "; no opening within 400 days"
    return f"closed now{blocked}{later}{gated}"


def _audit(env: EnvBoard, text: str | None) -> EnvAudit:
    problems = env.audit.problems
    try:
        entries: Sequence[AuditEntry] = parse_entries(text or "", f"audit/{env.name}.jsonl")
    except ConfigError as exc:
        entries, problems = (), (*problems, exc.render())
    return EnvAudit(env=env.name, entries=tuple(entries), chain_ok=env.audit.ok, problems=tuple(problems))


def site_from_board(
    board: Board,
    repo: ConfigRepo,
    audit_texts: Mapping[str, str | None],
    cabs: Mapping[int, str | None] | None = None,
) -> SiteInput:
    """Pure: the board model, the repository's calendars, the audit logs' text and the CAB views (HTML, by
    PR number) as one site input."""
    cabs = cabs or {}
    envs = tuple(
        Env(
            name=env.name,
            timezone=env.timezone,
            calendars=tuple(repo.calendars[c] for c in repo.env(env.name).config.calendars),
            version=env.version,
            digest=env.image.rpartition("@")[2] if env.image else None,
            rehearsal=env.rehearsal,
        )
        for env in board.envs
    )
    return SiteInput(
        generated_at=board.generated_at,
        source=board.source + (f" @ {board.commit[:12]}" if board.commit else ""),
        envs=envs,
        cells=tuple(cell for env in board.envs for cell in _cells(env)),
        promotions=tuple(
            _promotion(env, pull, cabs.get(pull.number)) for env in board.envs for pull in env.pulls
        ),
        audits=tuple(_audit(env, audit_texts.get(env.name)) for env in board.envs),
    )


def read_site(config_repo: str, settings: ForgeSettings, *, now: datetime) -> SiteInput:
    """The site of `config_repo`: one fresh clone of its remote's main and its forge's open PRs (a plain
    directory is read as it is, with no PRs)."""
    directory = is_plain_directory(config_repo)
    if directory is not None:
        repo = load_config(directory)
        source = AuditSource(str(directory), frozenset(repo.envs), directory=directory)
        board = build_board(
            repo, now=now, pulls=(), audits=audit_checks(source), window_check=engine_window_check,
            source=str(directory),
        )  # fmt: skip
        return site_from_board(board, repo, source.read(repo.envs))
    with open_session(config_repo, settings) as session:
        board = board_from_session(session, now=now)
        cabs = {pull.number: _cab(session, pull, now) for env in board.envs for pull in env.pulls}
        audits = session_source(session).read(session.repo.envs)
        return site_from_board(board, session.repo, audits, cabs)


def _cab(session: Session, pull: PullGate, now: datetime) -> str | None:
    """The CAB view `pr show` gives, as HTML; None (the gate's own lines shown) when it cannot be built."""
    try:
        return cab_page_html(session.repo, pull, session.forge.reviews(pull.number), now=now)
    except GitopsError:
        return None

"""Read what the board needs: main of the config repository, the open promotion PRs on the forge with the
gate verdict `gate check --no-publish` gives each (gitops.promote.pulls.evaluate_pull), and the audit chains
as `audit verify` checks them. Then build the board (gitops.board.snapshot.build_board)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gitops.audit_trail.service import verify_audit
from gitops.audit_trail.source import AuditSource, is_plain_directory, session_source
from gitops.board.model import AuditCheck, Board, PullGate
from gitops.board.snapshot import build_board, covered_cells
from gitops.config.loader import ConfigRepo, load_config
from gitops.errors import GitopsError
from gitops.forge.protocol import ForgeSettings, PullRequest
from gitops.forge.session import Session, open_session
from gitops.gates.policy import GateVerdict
from gitops.promote.pullfacts import BRANCH_RE, PullFacts
from gitops.promote.pulls import evaluate_pull
from gitops.promote.stage_seams import WindowCheck, engine_window_check


def pull_gate(
    repo: ConfigRepo, pull: PullRequest, facts: PullFacts | None, verdict: GateVerdict | str
) -> PullGate:
    """One PR's row of the board, from the gate engine's facts and verdict (or the error it raised)."""
    match = BRANCH_RE.fullmatch(pull.head)
    target = facts.target if facts else match["target"] if match else ""
    url = str(pull.to_dict()["url"])
    if not isinstance(verdict, GateVerdict) or facts is None:
        known = target in repo.envs
        return PullGate(
            number=pull.number, url=url, title=pull.title, branch=pull.head, target=target,
            kind=_kind(match["prefix"] if match else ""), wave=None, version=None, image=None,
            covers=covered_cells(repo, target, None, (), True) if known else (), state="error",
            description=f"cannot evaluate the gate: {verdict}", reasons=(str(verdict),),
            approvals_counted=0, approvals_needed=0, rule=None, error=str(verdict),
        )  # fmt: skip
    return PullGate(
        number=pull.number, url=url, title=pull.title, branch=pull.head, target=target,
        kind=facts.kind, wave=facts.wave, version=facts.version, image=facts.image,
        covers=covered_cells(repo, target, facts.release, facts.tenants, facts.completes_env),
        state=verdict.state, description=verdict.description, reasons=verdict.reasons,
        approvals_counted=len(verdict.counted), approvals_needed=verdict.required, rule=verdict.rule,
        facts=facts, verdict=verdict,
    )  # fmt: skip


def _kind(prefix: str) -> str:
    return "rollback" if prefix == "rollback" else "promotion"


def evaluate_open_pull(
    session: Session, pull: PullRequest, *, now: datetime, window_check: WindowCheck
) -> PullGate:
    """The gate of an open PR, evaluated exactly as `gate check --no-publish` does (nothing published)."""
    try:
        facts, verdict = evaluate_pull(
            session.forge, session.checkout, session.repo, pull, now=now, window_check=window_check
        )
    except GitopsError as exc:
        return pull_gate(session.repo, pull, None, str(exc))
    return pull_gate(session.repo, pull, facts, verdict)


def open_promotion_pulls(session: Session) -> list[PullRequest]:
    """Open PRs into main whose branch is promote/<env>/… or rollback/<env>/… for a known env."""
    pulls = session.forge.open_pulls(base=session.checkout.branch)
    wanted = []
    for pull in pulls:
        match = BRANCH_RE.fullmatch(pull.head)
        if match is not None and match["target"] in session.repo.envs:
            wanted.append(pull)
    return sorted(wanted, key=lambda p: p.number)


def audit_checks(source: AuditSource) -> dict[str, AuditCheck]:
    """`audit verify` of every env that has or had a log."""
    result = verify_audit(source, None)
    return {
        log.chain.env: AuditCheck(
            ok=log.ok,
            entries=log.chain.entries,
            problems=tuple(log.problems()),
            history_checked=log.history is not None,
        )
        for log in result.logs
    }


def board_from_session(
    session: Session,
    *,
    now: datetime,
    envs: Sequence[str] = (),
    window_check: WindowCheck = engine_window_check,
) -> Board:
    """The board of the cloned main and the forge's open PRs."""
    source = session_source(session)
    pulls = [
        evaluate_open_pull(session, p, now=now, window_check=window_check)
        for p in open_promotion_pulls(session)
    ]
    return build_board(
        session.repo, now=now, pulls=pulls, audits=audit_checks(source), window_check=window_check,
        envs=envs, source=source.remote, commit=source.commit,
    )  # fmt: skip


def read_board(
    config_repo: str, settings: ForgeSettings, *, now: datetime, envs: Sequence[str] = (),
    window_check: WindowCheck = engine_window_check,
) -> Board:  # fmt: skip
    """The board of `config_repo`: its remote's main and forge; a plain directory (not git) as it is, with
    no PRs and no history check."""
    directory = is_plain_directory(config_repo)
    if directory is not None:
        repo = load_config(directory)
        source = AuditSource(str(directory), frozenset(repo.envs), directory=directory)
        return build_board(
            repo, now=now, pulls=(), audits=audit_checks(source), window_check=window_check, envs=envs,
            source=str(directory),
        )  # fmt: skip
    with open_session(config_repo, settings) as session:
        return board_from_session(session, now=now, envs=envs, window_check=window_check)

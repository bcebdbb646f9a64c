"""`odoo-gitops pr list|show|approve|merge`: promotion PRs on either forge (local: the embedded one)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from gitops.board.cab import CabView, cab_view
from gitops.board.cabtext import cab_markdown, text_block
from gitops.board.snapshot import covered_cells, window_now
from gitops.cli.forge_options import forge_options
from gitops.cli.gate import render_gate
from gitops.cli.options import config_repo_option, emit, info, json_option
from gitops.errors import GitopsError
from gitops.forge.protocol import CommitStatus, ForgeSettings, ListsAllPulls, PullRequest
from gitops.forge.session import Session, open_session
from gitops.gates.policy import GateVerdict, Review
from gitops.promote.marker import strip_marker
from gitops.promote.pullfacts import PullFacts
from gitops.promote.pulls import evaluate_pull, merge_pull
from gitops.promote.stage_seams import engine_window_check
from gitops.redact import redact


@click.group("pr")
def pr() -> None:
    """Promotion pull requests."""


@pr.command("list")
@config_repo_option
@forge_options
@click.option("--all", "show_all", is_flag=True, help="Include closed and merged PRs (local forge).")
@json_option
def list_(*, config_repo: str, forge: ForgeSettings, show_all: bool, as_json: bool) -> None:
    """List open promotion PRs."""
    with open_session(config_repo, forge) as s:
        if show_all and isinstance(s.forge, ListsAllPulls):
            pulls = s.forge.all_pulls()
        else:
            pulls = s.forge.open_pulls(base=s.checkout.branch)
    emit(
        {"pull_requests": [p.to_dict() for p in pulls]},
        as_json=as_json,
        human=lambda: (
            "\n".join(f"#{p.number:<4} {p.state:<7} {p.title}  ({p.head})" for p in pulls)
            or "no promotion PRs"
        ),
    )


@pr.command("show")
@click.argument("number", type=int, metavar="PR")
@config_repo_option
@forge_options
@click.option(
    "--addons-repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The addons repository: list the schema changes and the migration scripts the release brings.",
)
@click.option("--body", "show_body", is_flag=True, help="Also print the PR description (marker removed).")
@click.option(
    "--registry", "check_registry", is_flag=True,
    help="Read the image's SBOM and provenance attestations from its registry (verified with the env's key).",
)  # fmt: skip
@json_option
def show(
    *,
    number: int, config_repo: str, forge: ForgeSettings, addons_repo: Path | None, show_body: bool,
    check_registry: bool, as_json: bool,
) -> None:  # fmt: skip
    """Show one PR for the CAB: the gate verdict and what is missing first, then the schema changes
    (destructive first, explained), migration scripts, evidence, the window in the env's time zone, the
    rollback target and each review (counted or ignored, and why). Facts come from git and the audit log on
    main, never from the PR body."""
    now = datetime.now(UTC)
    with open_session(config_repo, forge) as s:
        pull = s.forge.get_pull(number)
        reviews = s.forge.reviews(number)
        statuses = s.forge.statuses(pull.head_sha) if pull.head_sha else []
        evaluated = _evaluate(s, pull, now)
        view = (
            None
            if isinstance(evaluated, str)
            else _cab(s, pull, evaluated, reviews, addons_repo, check_registry=check_registry)
        )
    verdict = evaluated[1] if not isinstance(evaluated, str) else evaluated
    marks = review_marks(reviews, verdict)
    body = strip_marker(pull.body)
    data = {
        **pull.to_dict(),
        "body": body,
        "gate": verdict.to_dict() if isinstance(verdict, GateVerdict) else {"error": verdict},
        "reviews": [
            {"id": r.id, "user": r.user, "state": r.state, "commit_id": r.commit_id, **marks[r.id]}
            for r in reviews
        ],
        "statuses": [
            {"context": c.context, "state": c.state, "description": c.description} for c in statuses
        ],
        "cab": view.to_dict() if view else None,
    }
    if as_json:
        emit(data, as_json=True, human="")
        return
    if view is None:
        emit(data, as_json=False, human=lambda: _plain_show(pull, str(verdict), reviews, marks, statuses))
        return
    text = cab_markdown(
        view, head=pull.head, head_sha=pull.head_sha, statuses=statuses, now=now,
        body=body if show_body else None,
    )  # fmt: skip
    print_markdown(text)


def _evaluate(s: Session, pull: PullRequest, now: datetime) -> tuple[PullFacts, GateVerdict] | str:
    """(facts, verdict) as `gate check --no-publish` gives them, or why there are none."""
    if pull.state != "open":
        return f"PR is {pull.state}"
    try:
        return evaluate_pull(s.forge, s.checkout, s.repo, pull, now=now, window_check=engine_window_check)
    except GitopsError as exc:
        return str(exc)


def _cab(
    s: Session,
    pull: PullRequest,
    evaluated: tuple[PullFacts, GateVerdict],
    reviews: Sequence[Review],
    addons_repo: Path | None,
    *,
    check_registry: bool,
) -> CabView:
    facts, verdict = evaluated
    present, error = _attestations(s, facts) if check_registry else (None, None)
    # a lifecycle `create` PR's target is not on main yet: the env that governs it gives the time zone
    governing = s.repo.envs.get(facts.target) or s.repo.envs.get(facts.policy_env or "")
    timezone = governing.config.timezone if governing is not None else "UTC"
    window = None if verdict.window is None else window_now(verdict.window, timezone=timezone, gated=True)
    covers = (
        (None,)
        if facts.lifecycle
        else covered_cells(s.repo, facts.target, facts.release, facts.tenants, facts.completes_env)
    )
    return cab_view(
        s.repo, number=pull.number, title=pull.title, facts=facts, verdict=verdict, reviews=reviews,
        window=window, covers=covers, addons_repo=addons_repo, attestations=present, attestations_error=error,
    )  # fmt: skip


def _attestations(s: Session, facts: PullFacts) -> tuple[dict[str, bool] | None, str | None]:
    """The image's SBOM / provenance attestations under the target's key, or why they cannot be read."""
    signing = s.repo.env(facts.target).config.signing
    if signing is None or facts.image is None:
        return None, f"{facts.target!r} has no signing.public_key to verify attestations with"
    from gitops.board.attestations import attestations_present

    try:
        return attestations_present(facts.image, s.repo.files.read(signing.public_key)), None
    except GitopsError as exc:
        return None, str(exc)


def print_markdown(text: str) -> None:
    """Markdown rendered by rich on a terminal; the Markdown text itself otherwise. Redacted either way."""
    text = redact(text)
    if not sys.stdout.isatty():
        click.echo(text, nl=False)
        return
    from rich.console import Console
    from rich.markdown import Markdown

    Console(highlight=False, emoji=False).print(Markdown(text))


def _plain_show(
    pull: PullRequest,
    why: str,
    reviews: Sequence[Review],
    marks: dict[int, dict[str, Any]],
    statuses: Sequence[CommitStatus],
) -> str:
    """A PR whose gate cannot be evaluated (closed, merged, not a promotion): what there is to show."""
    lines = [
        f"gate: cannot evaluate: {why}",
        f"#{pull.number} {pull.state}: {pull.title}",
        f"head {pull.head} @ {pull.head_sha[:12]}",
        "",
        strip_marker(pull.body),
    ]
    lines += [_review_line(r, marks[r.id]) for r in reviews]
    lines += [f"status: {c.context} {c.state} — {c.description}" for c in statuses]
    return text_block("\n".join(lines))


def _verdict(s: Session, pull: PullRequest) -> GateVerdict | str:
    """The gate verdict as `gate check --no-publish` would give it, or why there is none."""
    if pull.state != "open":
        return f"PR is {pull.state}"
    try:
        _facts, verdict = evaluate_pull(
            s.forge, s.checkout, s.repo, pull, now=datetime.now(UTC), window_check=engine_window_check
        )
    except GitopsError as exc:
        return str(exc)
    return verdict


def _review_line(review: Review, mark: dict[str, Any]) -> str:
    status = "counted" if mark["counted"] else f"ignored: {mark['reason']}" if mark["reason"] else ""
    return f"review: {review.user} {review.state} at {review.commit_id[:12]}" + (
        f" ({status})" if status else ""
    )


@pr.command("approve")
@click.argument("number", type=int, metavar="PR")
@click.option("--as", "as_user", default=None, metavar="USER", help="The reviewer (local forge).")
@click.option("--comment", default="", help="Review comment.")
@config_repo_option
@forge_options
@json_option
def approve(
    *, number: int, as_user: str | None, comment: str, config_repo: str, forge: ForgeSettings, as_json: bool
) -> None:
    """Approve PR as USER (the approval is bound to the content at the current head).

    The review is always recorded (as GitHub would); whether it counts for the gate is said on stderr."""
    with open_session(config_repo, forge) as s:
        review = s.forge.approve(number, user=as_user, body=comment)
        verdict = _verdict(s, s.forge.get_pull(number))
    mark = review_marks([review], verdict)[review.id]
    if not mark["counted"]:
        info(f"warning: this approval does not count for the gate: {mark['reason'] or 'unknown'}")
    emit(
        {"pr": number, "review_id": review.id, "user": review.user, "commit_id": review.commit_id, **mark},
        as_json=as_json,
        human=f"approved #{number} as {review.user} at {review.commit_id[:12]}"
        + (" (counted)" if mark["counted"] else " (not counted)"),
    )


def review_marks(reviews: Sequence[Review], verdict: GateVerdict | str) -> dict[int, dict[str, Any]]:
    """Per review: does it count for the gate, and if not, why (author, promoter, team, stale, expired…)."""
    if not isinstance(verdict, GateVerdict):
        return {r.id: {"counted": False, "reason": f"gate cannot be evaluated: {verdict}"} for r in reviews}
    counted = {a.review_id for a in verdict.counted}
    ignored = {a.review_id: a.reason for a in verdict.ignored}
    marks = {}
    for review in reviews:
        reason = ignored.get(review.id)
        if review.state != "APPROVED":
            reason = None
        elif review.id not in counted and reason is None:
            reason = "superseded by the reviewer's later review"
        marks[review.id] = {"counted": review.id in counted, "reason": reason}
    return marks


@pr.command("merge")
@click.argument("number", type=int, metavar="PR")
@config_repo_option
@forge_options
@json_option
def merge(*, number: int, config_repo: str, forge: ForgeSettings, as_json: bool) -> None:
    """Merge PR if its gate is green (exit 3 otherwise)."""
    with open_session(config_repo, forge) as s:
        report, sha = merge_pull(
            s.forge, s.checkout, s.repo, number, now=datetime.now(UTC),
            window_check=engine_window_check, actor=s.actor,
        )  # fmt: skip
    emit(
        {**report.to_dict(), "merge_commit": sha},
        as_json=as_json,
        human=lambda: render_gate(report) + f"\nmerged as {sha[:12]}",
    )

"""`odoo-gitops pr list|show|approve|merge`: promotion PRs on either forge (local: the embedded one)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gitops.cli.forge_options import forge_options
from gitops.cli.gate import render_gate
from gitops.cli.options import config_repo_option, emit, json_option
from gitops.promote.evidence import engine_window_check
from gitops.promote.forges import ForgeSettings, open_session
from gitops.promote.localforge import LocalForge
from gitops.promote.marker import parse_marker
from gitops.promote.pulls import merge_pull


@click.group("pr")
def pr() -> None:
    """Promotion pull requests."""


@pr.command("list")
@config_repo_option
@forge_options
@click.option("--all", "show_all", is_flag=True, help="Include closed and merged PRs (local forge).")
@json_option
def list_(
    *,
    config_repo: str, forge: str, github_url: str | None, github_repo: str | None, actor: str | None,
    show_all: bool, as_json: bool,
) -> None:  # fmt: skip
    """List open promotion PRs."""
    with open_session(config_repo, ForgeSettings(forge, actor, github_url, github_repo)) as s:
        if show_all and isinstance(s.forge, LocalForge):
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
@json_option
def show(
    *,
    number: int, config_repo: str, forge: str, github_url: str | None, github_repo: str | None,
    actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Show one PR: its body, reviews and statuses."""
    with open_session(config_repo, ForgeSettings(forge, actor, github_url, github_repo)) as s:
        pull = s.forge.get_pull(number)
        reviews = s.forge.reviews(number)
        statuses = s.forge.statuses(pull.head_sha) if pull.head_sha else []
    marker = parse_marker(pull.body)
    data = {
        **pull.to_dict(),
        "body": pull.body,
        "marker": None if marker is None else {"target": marker.target, "content_hash": marker.content_hash},
        "reviews": [
            {"id": r.id, "user": r.user, "state": r.state, "commit_id": r.commit_id} for r in reviews
        ],
        "statuses": [
            {"context": c.context, "state": c.state, "description": c.description} for c in statuses
        ],
    }
    emit(
        data,
        as_json=as_json,
        human=lambda: "\n".join(
            [
                f"#{pull.number} {pull.state}: {pull.title}",
                f"head {pull.head} @ {pull.head_sha[:12]}",
                "",
                pull.body,
            ]
            + [f"review: {r.user} {r.state} at {r.commit_id[:12]}" for r in reviews]
            + [f"status: {c.context} {c.state} — {c.description}" for c in statuses]
        ),
    )


@pr.command("approve")
@click.argument("number", type=int, metavar="PR")
@click.option("--as", "as_user", default=None, metavar="USER", help="The reviewer (local forge).")
@click.option("--comment", default="", help="Review comment.")
@config_repo_option
@forge_options
@json_option
def approve(
    *,
    number: int, as_user: str | None, comment: str, config_repo: str, forge: str, github_url: str | None,
    github_repo: str | None, actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Approve PR as USER (the approval is bound to the content at the current head)."""
    with open_session(config_repo, ForgeSettings(forge, actor, github_url, github_repo)) as s:
        review = s.forge.approve(number, user=as_user, body=comment)
    emit(
        {"pr": number, "review_id": review.id, "user": review.user, "commit_id": review.commit_id},
        as_json=as_json,
        human=f"approved #{number} as {review.user} at {review.commit_id[:12]}",
    )


@pr.command("merge")
@click.argument("number", type=int, metavar="PR")
@config_repo_option
@forge_options
@json_option
def merge(
    *,
    number: int, config_repo: str, forge: str, github_url: str | None, github_repo: str | None,
    actor: str | None, as_json: bool,
) -> None:  # fmt: skip
    """Merge PR if its gate is green (exit 3 otherwise)."""
    with open_session(config_repo, ForgeSettings(forge, actor, github_url, github_repo)) as s:
        report, sha = merge_pull(
            s.forge, s.checkout, s.repo, number, now=datetime.now(UTC),
            window_check=engine_window_check, actor=s.actor,
        )  # fmt: skip
    emit(
        {**report.to_dict(), "merge_commit": sha},
        as_json=as_json,
        human=lambda: render_gate(report) + f"\nmerged as {sha[:12]}",
    )

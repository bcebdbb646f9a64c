"""The typed functions behind `env create|extend|expire` and `refresh`: open a session on the config
repository's main branch, decide the change, propose it as a PR (gitops.lifecycle.requests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import Session, open_session
from gitops.gitstore import plumbing
from gitops.lifecycle import envs
from gitops.lifecycle.refresh import RefreshAsk, refresh_request
from gitops.lifecycle.requests import ChangeRequest, ChangeResult, branch_name, propose
from gitops.lifecycle.yamltext import parse


def _run(
    config_repo: str,
    settings: ForgeSettings,
    decide: Callable[[Session], list[ChangeRequest]],
    now: datetime | None,
) -> list[ChangeResult]:
    moment = now or datetime.now(UTC)
    with open_session(config_repo, settings) as session:
        requests = decide(session)
        return [propose(session, request, now=moment) for request in requests]


def create_env(
    config_repo: str, settings: ForgeSettings, new: envs.NewEnv, *, now: datetime | None = None
) -> ChangeResult:
    today = (now or datetime.now(UTC)).date()
    (result,) = _run(
        config_repo, settings, lambda session: [envs.create_request(session.repo, new, today=today)], now
    )
    return result


def extend_env(
    config_repo: str, settings: ForgeSettings, env: str, until: date, *, now: datetime | None = None
) -> ChangeResult:
    today = (now or datetime.now(UTC)).date()
    (result,) = _run(
        config_repo,
        settings,
        lambda session: [envs.extend_request(session.repo, env, until, today=today)],
        now,
    )
    return result


def expire_envs(
    config_repo: str, settings: ForgeSettings, *, now: datetime | None = None
) -> list[ChangeResult]:
    """One PR per expired environment (none when nothing has expired)."""
    today = (now or datetime.now(UTC)).date()

    def decide(session: Session) -> list[ChangeRequest]:
        return [envs.expire_request(session.repo, name) for name in envs.expired(session.repo, today)]

    return _run(config_repo, settings, decide, now)


def refresh_env(
    config_repo: str,
    settings: ForgeSettings,
    *,
    source: str,
    target: str,
    masking: str | None,
    backup: str,
    tenant: str | None = None,
    now: datetime | None = None,
) -> ChangeResult:
    moment = now or datetime.now(UTC)

    def decide(session: Session) -> list[ChangeRequest]:
        ask = RefreshAsk(
            source=source,
            target=target,
            masking=masking,
            backup=backup,
            requested_by=session.actor,
            at=moment,
            tenant=tenant,
        )
        return [refresh_request(session.repo, ask, earlier=_earlier_refresh(session, target))]

    (result,) = _run(config_repo, settings, decide, moment)
    return result


def _earlier_refresh(session: Session, target: str) -> dict[str, Any] | None:
    """The `refresh:` block an open refresh PR of `target` already proposes (a re-run keeps its time)."""
    branch = branch_name("refresh", target)
    sha = session.checkout.remote_sha(branch)
    if sha is None:
        return None
    session.checkout.fetch(f"+refs/heads/{branch}:refs/remotes/origin/{branch}")
    raw = plumbing.read_blob(session.checkout, sha, f"envs/{target}/env.yaml")
    try:
        data = parse(raw.decode()) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
    block = data.get("refresh") if isinstance(data, dict) else None
    return block if isinstance(block, dict) else None

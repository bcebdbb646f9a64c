"""Break-glass: a closed verdict plus emergency, reason and ticket becomes an audited override."""

from __future__ import annotations

import importlib.metadata
from datetime import datetime, timedelta
from typing import Any

import pytest
import tzdata

from gitops.errors import PolicyError, UsageError
from gitops.windows.breakglass import DEFAULT_TTL, MAX_TTL, Override, break_glass
from gitops.windows.verdict import WindowVerdict, check
from tests.fixtures.windows import ISSUE_EXAMPLE, calendar_from, utc

CALENDAR = calendar_from(ISSUE_EXAMPLE, "payroll")
CLOSED = check([CALENDAR], utc(2026, 4, 24, 12), env="prod")
OPEN = check([CALENDAR], utc(2026, 4, 14, 17, 30), env="prod")


def test_override_records_who_when_why_and_the_data_versions() -> None:
    override = break_glass(
        CLOSED,
        emergency=True,
        reason=" db corruption ",
        ticket="INC-42",
        who="rel-maria",
        when=utc(2026, 4, 24, 12, 1),
        allowed=True,
    )
    assert override is not None
    data = override.to_dict()
    assert data["who"] == "rel-maria" and data["reason"] == "db corruption" and data["ticket"] == "INC-42"
    assert data["when"] == "2026-04-24T12:01:00Z" and data["at"] == "2026-04-24T12:00:00Z"
    assert [w["window"] for w in data["windows_violated"]] == [r.window for r in CLOSED.blocked_by]
    assert "payroll" in [w["window"] for w in data["windows_violated"]]
    assert data["tzdata_version"] == tzdata.IANA_VERSION
    assert data["holidays_version"] == importlib.metadata.version("holidays")


def test_nothing_to_override_when_open_or_not_an_emergency() -> None:
    assert OPEN.open
    assert (
        break_glass(
            OPEN, emergency=True, reason="r", ticket="t", who="w", when=utc(2026, 4, 28), allowed=True
        )
        is None
    )
    assert (
        break_glass(
            CLOSED, emergency=False, reason=None, ticket=None, who="w", when=utc(2026, 4, 24), allowed=True
        )
        is None
    )


@pytest.mark.parametrize(
    ("reason", "ticket", "missing"),
    [(None, "T-1", "--reason"), ("why", "  ", "--ticket"), (None, None, "--reason and --ticket")],
)
def test_emergency_needs_reason_and_ticket(reason: str | None, ticket: str | None, missing: str) -> None:
    with pytest.raises(UsageError, match=f"--emergency needs {missing}"):
        break_glass(
            CLOSED, emergency=True, reason=reason, ticket=ticket, who="w", when=utc(2026, 4, 24), allowed=True
        )


def test_policy_refusal_is_a_policy_error() -> None:
    with pytest.raises(PolicyError) as caught:
        break_glass(
            CLOSED,
            emergency=True,
            reason="r",
            ticket="t",
            who="dev-bob",
            when=utc(2026, 4, 24),
            allowed=False,
        )
    assert caught.value.exit_code == 3
    assert "payroll/payroll (deny)" in caught.value.reasons


def test_reason_without_emergency_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        break_glass(
            CLOSED, emergency=False, reason="r", ticket=None, who="w", when=utc(2026, 4, 24), allowed=True
        )


def _override(verdict: WindowVerdict = CLOSED, **changes: object) -> Override:
    args: dict[str, Any] = {
        "emergency": True, "reason": "r", "ticket": "INC-1", "who": "rel-maria",
        "when": utc(2026, 4, 24, 12, 1), "allowed": True, **changes,
    }  # fmt: skip
    override = break_glass(verdict, **args)
    assert override is not None
    return override


def test_the_record_always_carries_the_env() -> None:
    anonymous = check([CALENDAR], utc(2026, 4, 24, 12))  # a verdict computed without an env
    assert anonymous.env == ""
    assert _override(anonymous, env="prod").to_dict()["env"] == "prod"
    assert _override(CLOSED).to_dict()["env"] == "prod"
    with pytest.raises(UsageError, match="which environment"):
        _override(anonymous)


def test_expiry_defaults_to_the_reopening_or_the_default_ttl() -> None:
    short = check([CALENDAR], utc(2026, 4, 14, 15, 30), env="prod")  # closed: the evening window opens soon
    assert short.next_open is not None and short.next_open - short.at < DEFAULT_TTL
    assert _override(short).expires == short.next_open
    assert CLOSED.next_open is not None and CLOSED.next_open - CLOSED.at > DEFAULT_TTL
    assert _override(CLOSED).expires == CLOSED.at + DEFAULT_TTL
    assert _override(CLOSED).to_dict()["expires"] == "2026-04-24T16:00:00Z"


@pytest.mark.parametrize(
    "expires", [utc(2026, 4, 24, 12), utc(2026, 4, 24, 11), CLOSED.at + MAX_TTL + timedelta(seconds=1)]
)
def test_an_explicit_expiry_is_after_the_instant_and_within_the_maximum(expires: datetime) -> None:
    with pytest.raises(UsageError, match="--expires"):
        _override(expires=expires)
    assert _override(expires=CLOSED.at + MAX_TTL).expires == CLOSED.at + MAX_TTL


def test_the_audit_key_is_one_per_env_ticket_and_window_occurrence() -> None:
    key = _override().audit_key()
    assert key.startswith("break-glass:prod:INC-1:")
    assert _override(who="dev-bob", reason="other words", when=utc(2026, 4, 24, 13)).audit_key() == key
    assert _override(ticket="INC-2").audit_key() != key
    assert _override(env="prod-eu").audit_key() != key
    later = check([CALENDAR], utc(2026, 5, 22, 12), env="prod")  # the next payroll freeze
    assert not later.open and _override(later).audit_key() != key

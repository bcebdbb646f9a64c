"""Break-glass: a closed verdict plus emergency, reason and ticket becomes an audited override."""

from __future__ import annotations

import importlib.metadata

import pytest
import tzdata

from gitops.errors import PolicyError, UsageError
from gitops.windows.breakglass import break_glass
from gitops.windows.engine import check
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

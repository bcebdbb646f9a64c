"""gitops/verify/verdict.py: the one result type of every verify verdict and the readers over API objects:
combining fails closed (failed beats pending beats ok; nothing observed is not ok), and odd API data reads
as absent instead of crashing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gitops.verify.verdict import (
    State,
    Verdict,
    combine,
    condition,
    condition_is,
    describe,
    dig,
    generation_current,
    parse_time,
)

OK = Verdict.ok("Deployment odoo-prod/odoo-web")
WAITING = Verdict.pending("Deployment odoo-prod/odoo-cron", "2/3 replicas updated")
BROKEN = Verdict.failed("Application argocd/odoo-prod", "sync failed", "health Degraded")


def test_a_verdict_says_its_lines_with_its_subject() -> None:
    assert (OK.done, WAITING.done, BROKEN.done) == (True, False, True)
    assert WAITING.details() == ("Deployment odoo-prod/odoo-cron: 2/3 replicas updated",)
    assert BROKEN.details() == (
        "Application argocd/odoo-prod: sync failed",
        "Application argocd/odoo-prod: health Degraded",
    )
    assert OK.details() == ()
    assert BROKEN.to_dict() == {"subject": "Application argocd/odoo-prod", "state": "failed", "missing": [],
                                "reasons": ["sync failed", "health Degraded"]}  # fmt: skip


@pytest.mark.parametrize(
    ("parts", "state", "lines"),
    [
        ([OK, OK], State.OK, ()),
        ([OK, WAITING], State.PENDING, WAITING.details()),
        ([WAITING, BROKEN, OK], State.FAILED, BROKEN.details()),  # failed beats pending
        ([], State.PENDING, ("nothing observed yet",)),  # nothing seen is not a success
    ],
)
def test_combining_fails_closed(parts: list[Verdict], state: State, lines: tuple[str, ...]) -> None:
    combined = combine("prod", parts)
    assert combined.state is state
    assert (combined.reasons if state is State.FAILED else combined.missing) == lines


def test_dig_reads_a_path_or_none() -> None:
    obj = {"status": {"sync": {"revision": "abc"}, "list": [1]}}
    assert dig(obj, "status", "sync", "revision") == "abc"
    assert dig(obj, "status", "health", "status") is None
    assert dig(obj, "status", "list", "x") is None  # not a mapping on the way
    assert dig(None, "status") is None
    assert dig(obj) == obj


def test_conditions_are_found_by_type_and_odd_entries_ignored() -> None:
    obj = {"status": {"conditions": ["junk", {"type": "Ready", "status": "True"}, {"type": "Stalled"}]}}
    assert condition(obj, "Ready") == {"type": "Ready", "status": "True"}
    assert condition_is(obj, "Ready", "True") is True
    assert condition_is(obj, "Ready", "False") is False
    assert condition_is(obj, "Reconciling", "True") is False
    assert condition({"status": {}}, "Ready") is None


def test_describe_names_kind_namespace_and_name() -> None:
    assert describe({"metadata": {"namespace": "argocd", "name": "odoo"}}, "Application") == (
        "Application argocd/odoo"
    )
    assert describe({}, "Kustomization") == "Kustomization ?/?"


@pytest.mark.parametrize(
    ("meta", "status", "current"),
    [
        ({"generation": 3}, {"observedGeneration": 3}, True),
        ({"generation": 3}, {"observedGeneration": 4}, True),
        ({"generation": 3}, {"observedGeneration": 2}, False),  # the controller has not seen the change
        ({"generation": 3}, {}, False),
        ({}, {}, True),  # kinds without generations
    ],
)
def test_a_status_counts_only_for_the_current_generation(
    meta: dict[str, int], status: dict[str, int], current: bool
) -> None:
    assert generation_current({"metadata": meta, "status": status}) is current


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-08T18:30:00Z", datetime(2026, 12, 8, 18, 30, tzinfo=UTC)),
        ("2026-12-08T18:30:00.123456789Z", datetime(2026, 12, 8, 18, 30, 0, 123456, tzinfo=UTC)),
        ("2026-12-08T19:30:00.5+01:00", datetime(2026, 12, 8, 19, 30, 0, 500000,
                                                  tzinfo=timezone(timedelta(hours=1)))),
        ("2026-12-08T18:30:00", datetime(2026, 12, 8, 18, 30, tzinfo=UTC)),  # naive: UTC
        ("yesterday", None),
        ("", None),
        (None, None),
        (1765218600, None),
    ],
)  # fmt: skip
def test_api_times_parse_with_nanoseconds_or_read_as_absent(text: object, expected: datetime | None) -> None:
    assert parse_time(text) == expected

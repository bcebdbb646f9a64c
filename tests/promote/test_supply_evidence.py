"""gitops/promote/supply_evidence.py: the promote-time signature and scan gates, fed by the supply seam
(a double answering by value here; tests/promote/test_supply_real.py checks a real registry)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gitops.config.loader import ConfigRepo, load_config
from gitops.promote.supply_evidence import public_key, supply_reasons
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import SupplyDouble, enable_signing

IMAGE = "registry.example.com/acme/odoo-custom@sha256:" + "ab" * 32
AT = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
GATES = ("window", "approvals", "scan", "signature")


@pytest.fixture
def repo(tmp_path: Path) -> ConfigRepo:
    work = copy_examples(tmp_path / "cfg")
    enable_signing(work)
    return load_config(work)


def test_passing_checks_are_seen_and_said(repo: ConfigRepo) -> None:
    supply = SupplyDouble()
    prod = repo.env("prod")
    assert public_key(repo, prod) is not None
    reasons, seen = supply_reasons(supply, repo, prod, IMAGE, GATES, now=AT)
    assert reasons == []
    assert dict(seen)["signature"].text == "verified (key test-key)"
    assert dict(seen)["scan"].text.startswith("passed (HIGH 0, LOW 2; trivy 0.58.0")
    assert sorted(supply.calls) == [("scan", IMAGE), ("signature", IMAGE)]  # each asked once


def test_failing_checks_refuse_with_their_reason(repo: ConfigRepo) -> None:
    supply = SupplyDouble(signature_ok=False, scan_ok=False)
    reasons, seen = supply_reasons(supply, repo, repo.env("prod"), IMAGE, GATES, now=AT)
    assert any("no signature matches the key" in r for r in reasons)
    assert any("1 finding at or above HIGH" in r for r in reasons)
    assert [ok for _, r in seen for ok in [r.ok]] == [False, False]


def test_a_stage_without_supply_gates_asks_nothing(repo: ConfigRepo) -> None:
    supply = SupplyDouble()
    assert supply_reasons(supply, repo, repo.env("prod"), IMAGE, ("window",), now=AT) == ([], ())
    assert supply.calls == []

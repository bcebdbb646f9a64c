"""The site's input from the board model: the same cell states, a PR whose gate fails or cannot be evaluated
is blocked, one that waits is promoting, and the window is worded from the model's own verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.board.site_collect import site_from_board, window_words
from tests.board.test_snapshot import board, examples, gate
from tests.fixtures.promote import CLOSED, NOW


@pytest.mark.parametrize(
    ("gate_state", "site_state"),
    [("pending", "promoting"), ("success", "promoting"), ("failure", "blocked"), ("error", "blocked")],
)
def test_promotion_and_cells_take_the_models_state(tmp_path: Path, gate_state: str, site_state: str) -> None:
    repo = examples(tmp_path)
    model = board(repo, pulls=(gate(12, "prod", ("acme-build",), gate_state),))
    site = site_from_board(model, repo, {})
    cells = {(c.env, c.tenant): c for c in site.cells}
    assert {k: c.state for k, c in cells.items()} == {(c.env, c.tenant or ""): c.state for c in model.cells()}
    assert cells[("prod", "acme-build")].state == site_state
    assert cells[("prod", "acme-build")].promotion == "12"
    [promotion] = site.promotions
    assert (promotion.id, promotion.state, promotion.tenants) == ("12", site_state, ("acme-build",))
    assert promotion.verdict == f"gate {gate_state}"


def test_window_words_follow_the_model(tmp_path: Path) -> None:
    repo = examples(tmp_path)
    assert window_words(board(repo, now=NOW).env("prod")).startswith("open now")
    closed = window_words(board(repo, now=CLOSED).env("prod"))
    assert closed.startswith("closed now by ")


def test_calendars_and_audit_entries_come_along(tmp_path: Path) -> None:
    repo = examples(tmp_path)
    site = site_from_board(board(repo), repo, {"prod": "not json\n"})
    prod = next(e for e in site.envs if e.name == "prod")
    assert [c.name for c in prod.calendars] == ["payroll", "month-end", "prod-windows"]
    audit = next(a for a in site.audits if a.env == "prod")
    assert audit.entries == () and any("not valid JSON" in p for p in audit.problems)

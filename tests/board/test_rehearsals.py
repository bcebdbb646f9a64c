"""The restore rehearsal the CAB view and the board show: read from the audit log on main with the rehearsal
gate's own facts and rule (passed / failed, measured RTO and RPO against the env's objectives, age)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from gitops.board.rehearsals import rehearsal_view
from gitops.config.loader import load_config
from tests.fixtures.configrepo import copy_examples
from tests.gates.test_rehearsal import NOW, _log


def test_a_passed_rehearsal_within_the_objectives_is_shown_with_its_measurements(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "cfg")
    good = {"backup": "bk-1", "passed": True, "restore_seconds": 60, "backup_age_seconds": 600}
    _log(root, "prod", [good], NOW - timedelta(hours=2))
    view = rehearsal_view(load_config(root), "prod", NOW)
    assert (view.state, view.backup, view.passed) == ("success", "bk-1", True)
    assert view.to_dict()["rto"] == {"measured_seconds": 60, "objective_seconds": 1800}
    assert view.to_dict()["rpo"] == {"measured_seconds": 600, "objective_seconds": 3600}
    assert view.age_seconds == 7200
    assert "rehearsal of bk-1 passed, 2.0h ago; RTO 60s (objective 1800s), RPO 600s" in view.text()


def test_a_failed_slow_old_or_missing_rehearsal_is_shown_as_such(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "cfg")
    repo = load_config(root)
    assert rehearsal_view(repo, "prod", NOW).state == "pending"  # never rehearsed
    _log(root, "prod", [{"backup": "bk-1", "passed": False, "reason": "corrupt"}], NOW - timedelta(hours=1))
    view = rehearsal_view(load_config(root), "prod", NOW)
    assert (view.state, view.passed) == ("failure", False) and "corrupt" in view.reason
    slow = {"backup": "bk-2", "passed": True, "restore_seconds": 3600, "backup_age_seconds": 60}
    _log(root, "prod", [{}, slow], NOW)  # {} is skipped (malformed); key r1 is new
    view = rehearsal_view(load_config(root), "prod", NOW)
    assert view.state == "failure" and "exceeds the objective" in view.reason and view.rto_seconds == 3600
    assert rehearsal_view(load_config(root), "prod", NOW + timedelta(days=8)).state == "pending"  # too old


def test_a_tampered_log_shows_no_rehearsal_as_passed(tmp_path: Path) -> None:
    root = copy_examples(tmp_path / "cfg")
    _log(root, "prod", [{"backup": "bk-1", "passed": False, "restore_seconds": 60}], NOW)
    log = root / "audit" / "prod.jsonl"
    log.write_text(log.read_text().replace('"passed":false', '"passed":true'))
    view = rehearsal_view(load_config(root), "prod", NOW)
    assert view.state == "failure" and view.passed is None and "chain" in view.reason


def test_the_board_shows_each_envs_rehearsal_in_the_model_and_on_the_terminal(tmp_path: Path) -> None:
    from gitops.board.snapshot import build_board
    from gitops.board.terminal import render_status
    from gitops.promote.stage_seams import engine_window_check

    root = copy_examples(tmp_path / "cfg")
    good = {"backup": "bk-7", "passed": True, "restore_seconds": 90, "backup_age_seconds": 300}
    _log(root, "prod", [good], NOW - timedelta(hours=3))
    board = build_board(load_config(root), now=NOW, pulls=(), audits={}, window_check=engine_window_check)
    prod = board.env("prod").to_dict()["rehearsal"]
    assert (prod["state"], prod["backup"], prod["passed"]) == ("success", "bk-7", True)
    assert prod["age_seconds"] == 10800
    assert board.env("staging").to_dict()["rehearsal"]["state"] == "pending"
    out = render_status(board, color=False, width=200)
    assert "restore rehearsal success: rehearsal of bk-7 passed, 3.0h ago; RTO 90s (objective 1800s)" in out


def test_the_sites_env_page_shows_the_rehearsal(tmp_path: Path) -> None:
    from gitops.board.site_collect import site_from_board
    from gitops.board.site_render import render_site
    from gitops.board.snapshot import build_board
    from gitops.promote.stage_seams import engine_window_check

    root = copy_examples(tmp_path / "cfg")
    bad = {"backup": "bk-9", "passed": False, "reason": "<b>corrupt</b>"}
    _log(root, "prod", [bad], NOW - timedelta(hours=1))
    repo = load_config(root)
    board = build_board(repo, now=NOW, pulls=(), audits={}, window_check=engine_window_check)
    pages = render_site(site_from_board(board, repo, {}))
    page = next(v for k, v in pages.items() if k.startswith("env-prod")).decode()
    assert 'data-rehearsal="failure"' in page and "rehearsal of bk-9 FAILED" in page
    assert "&lt;b&gt;corrupt&lt;/b&gt;" in page and "<b>corrupt" not in page  # hostile text stays text

"""`odoo-gitops board --out DIR`: the site shows the states `status` and `gate check` give (one model), a
broken audit chain is shown and exits 4, and DIR is replaced only when it is a board."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from gitops.cli.main import main
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import Stage
from tests.gates.test_bypass import approve, cli


class _Cells(HTMLParser):
    """(env, tenant) -> (state, href) of every board cell of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], list[str]] = {}
        self._open: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "td" and "data-state" in found:
            self._open = (found["data-env"] or "", found["data-tenant"] or "")
            self.cells[self._open] = [found["data-state"] or ""]
        elif tag == "a" and self._open is not None:
            self.cells[self._open].append(found["href"] or "")
            self._open = None


def board_cells(site: Path) -> dict[tuple[str, str], list[str]]:
    parser = _Cells()
    for page in [*sorted(site.glob("board-*.html")), site / "index.html"]:
        parser.feed(page.read_text())
    return parser.cells


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main([*args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def status_states(capsys: pytest.CaptureFixture[str], config_repo: str) -> dict[tuple[str, str], str]:
    code, data = run(capsys, "status", "--config-repo", config_repo)
    assert code == 0
    return {(c["env"], c["tenant"] or ""): c["state"] for e in data["envs"] for c in e["cells"]}


def test_the_examples_board_has_status_states(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = copy_examples(tmp_path / "config")
    out = tmp_path / "site"
    code, summary = run(capsys, "board", "--out", str(out), "--config-repo", str(work))
    assert code == 0
    assert summary["index"] == str(out / "index.html")
    cells = board_cells(out)
    assert {k: v[0] for k, v in cells.items()} == status_states(capsys, str(work))
    assert cells[("prod", "acme-build")][1] == "env-prod.html#tenant-acme-build"
    for name in ("calendar-prod.html", "env-prod.html", "board.css", ".odoo-gitops-board"):
        assert (out / name).is_file()
    assert "Europe/Berlin" in (out / "calendar-prod.html").read_text()


def test_an_open_promotion_gets_its_page_with_the_gate_state(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines")
    _, gate = cli(capsys, stage, "gate", "check", str(number))  # audits the counted approval
    assert gate["verdict"]["state"] == "pending"
    out = tmp_path / "site"
    code, summary = run(capsys, "board", "--out", str(out), "--config-repo", str(stage.repo.remote))
    assert code == 0
    assert summary["promotions"] == [str(number)]
    cells = board_cells(out)
    assert {k: v[0] for k, v in cells.items()} == status_states(capsys, str(stage.repo.remote))
    assert cells[("prod", "acme-build")] == ["promoting", f"promotion-{number}.html"]
    page = (out / f"promotion-{number}.html").read_text()
    assert 'data-state="promoting"' in page
    assert gate["verdict"]["description"] in page
    assert "<dt>Window (Europe/Berlin)</dt><dd>open now" in page  # the stage's clock stands in prod's window
    # the CAB view `pr show` prints, rendered: verdict line, sections, reviews marked counted
    assert "gate: PENDING: normal: 1/2 approvals" in page
    assert "<h2>Schema changes</h2>" in page and "<h2>Rollback</h2>" in page
    assert re.search(r"review: cab-ines APPROVED at [0-9a-f]{12} \(counted\)", page), page
    kinds = re.findall(r'<li data-kind="(\w+)">', page)
    assert kinds[:1] == ["promotion"] and "approval" in kinds


def test_a_broken_audit_chain_is_shown_and_exits_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = copy_examples(tmp_path / "config")
    (work / "audit").mkdir()
    (work / "audit" / "prod.jsonl").write_text('{"seq": 1, "prev": "forged"}\n')
    out = tmp_path / "site"
    code, summary = run(capsys, "board", "--out", str(out), "--config-repo", str(work))
    assert code == 4
    assert summary["audit_ok"]["prod"] is False
    assert 'data-chain="broken"' in (out / "env-prod.html").read_text()


def test_refuses_a_directory_that_is_not_a_board(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = copy_examples(tmp_path / "config")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    code = main(["board", "--out", str(precious), "--config-repo", str(work)])
    assert code == 2
    assert "not a board written by odoo-gitops" in capsys.readouterr().err
    assert [p.name for p in precious.iterdir()] == ["thesis.tex"]


def test_rewrites_its_own_board_and_drops_stale_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work = copy_examples(tmp_path / "config")
    out = tmp_path / "site"
    assert main(["board", "--out", str(out), "--config-repo", str(work)]) == 0
    (out / "promotion-99.html").write_text("a promotion merged since")
    assert main(["board", "--out", str(out), "--config-repo", str(work)]) == 0
    assert not (out / "promotion-99.html").exists()
    assert (out / "index.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # no temporary left behind


@pytest.mark.parametrize("weeks", ["0", "105", "eight"])
def test_weeks_out_of_range_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], weeks: str
) -> None:
    work = copy_examples(tmp_path / "config")
    out = tmp_path / "site"
    assert main(["board", "--out", str(out), "--weeks", weeks, "--config-repo", str(work)]) == 2
    assert "--weeks" in capsys.readouterr().err
    assert not out.exists()


def test_weeks_sets_the_calendar_length(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    work = copy_examples(tmp_path / "config")
    out = tmp_path / "site"
    assert main(["board", "--out", str(out), "--weeks", "3", "--config-repo", str(work)]) == 0
    assert (out / "calendar-prod.html").read_text().count('<table class="calendar"') == 3

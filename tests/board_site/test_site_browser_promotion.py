"""A real promotion's page in headless Chromium: `promote staging prod`, one CAB approval, `gate check`, then
`board --out`. The page shows the CAB view `pr show` prints and the audit timeline, passes axe-core, asks for
nothing outside file://, and is the screenshot docs/promotion.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitops.cli.main import main
from tests.board_site.conftest import requested_urls
from tests.board_site.test_site_browser import _open, _serious_violations, save_screenshot
from tests.fixtures.promote import Stage
from tests.gates.test_bypass import approve, cli

pytestmark = pytest.mark.timeout(300)


def test_a_real_promotion_page(
    chromium: Any, axe_source: str, stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines")
    cli(capsys, stage, "gate", "check", str(number))
    out = tmp_path / "site"
    assert main(["board", "--out", str(out), "--config-repo", str(stage.repo.remote)]) == 0
    page = out / f"promotion-{number}.html"
    _open(chromium, page)
    verdict = chromium.find_element(By.CSS_SELECTOR, ".verdict")
    assert verdict.get_attribute("data-state") == "promoting"
    cab = chromium.find_element(By.CSS_SELECTOR, ".cab-view")
    headings = [h.text for h in cab.find_elements(By.TAG_NAME, "h2")]
    assert headings[:2] == [f"#{number} {result['pull_request']['title']}", "Schema changes"]
    assert {"Modules", "Evidence", "Rollback", "Reviews"} <= set(headings)
    assert "gate: PENDING: normal: 1/2 approvals" in cab.text
    steps = [
        li.get_attribute("data-kind") for li in chromium.find_elements(By.CSS_SELECTOR, "ol.timeline li")
    ]
    assert steps[0] == "promotion" and "approval" in steps
    assert all(url.startswith("file://") for url in requested_urls(chromium))
    assert _serious_violations(chromium, axe_source) == []
    save_screenshot(chromium, page, "promotion.png", tmp_path)

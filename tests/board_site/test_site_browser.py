"""The board site in real headless Chromium from file://: cells, states, links, the calendar's freeze blocks
in Berlin's local hours across the 2026-03-29 DST change, no request leaving file://, axe-core finds no
serious or critical violation. With ODOO_GITOPS_UPDATE_SCREENSHOTS=1 it refreshes docs/board.png and
docs/promotion.png."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from gitops.board.site_render import render_site
from gitops.board.site_write import write_site
from tests.board_site.conftest import make_site, requested_urls, write_audit

DOCS = Path(__file__).resolve().parents[2] / "docs"
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("board")
    audit = write_audit(root / "config")
    names = ["acme-build", "globex-consult", "initech-services", "northwind-civil"]
    return write_site(root / "site", render_site(make_site(audit, names=names)))


def _open(driver: Any, page: Path) -> None:
    driver.get_log("performance")  # drop earlier pages' requests
    driver.get(page.as_uri())


def _cells(driver: Any) -> dict[tuple[str, str], dict[str, str]]:
    from selenium.webdriver.common.by import By

    found = {}
    for td in driver.find_elements(By.CSS_SELECTOR, "table.board td[data-state]"):
        link = td.find_element(By.TAG_NAME, "a")
        found[(td.get_attribute("data-env"), td.get_attribute("data-tenant"))] = {
            "state": td.get_attribute("data-state"),
            "text": td.text,
            "href": link.get_attribute("href"),
            "background": td.value_of_css_property("background-color"),
        }
    return found


def test_board_cells_states_and_links(chromium: Any, site_dir: Path) -> None:
    _open(chromium, site_dir / "index.html")
    cells = _cells(chromium)
    assert cells[("prod", "acme-build")]["state"] == "blocked"
    assert cells[("prod", "acme-build")]["href"] == (site_dir / "promotion-7.html").as_uri()
    assert cells[("prod", "globex-consult")]["state"] == "verified"
    assert cells[("prod", "globex-consult")]["href"].endswith("env-prod.html#tenant-globex-consult")
    assert cells[("staging", "")]["state"] == "drifted"
    assert cells[("dev", "")]["text"].startswith("verified 1.3.0")
    # each state has its own colour
    colours = {cells[k]["state"]: cells[k]["background"] for k in cells}
    assert len(set(colours.values())) == len(colours) == 3
    # every link of the board resolves to a page of the site
    from selenium.webdriver.common.by import By

    for link in chromium.find_elements(By.CSS_SELECTOR, "main a[href]"):
        target = link.get_attribute("href").split("#")[0]
        assert target.startswith("file://")
        assert Path(target.removeprefix("file://")).is_file(), target


def _segments(driver: Any, day: str) -> list[tuple[str, str, str]]:
    from selenium.webdriver.common.by import By

    row = driver.find_element(By.CSS_SELECTOR, f'tr[data-date="{day}"]')
    return [
        (s.get_attribute("data-kind"), s.get_attribute("data-start"), s.get_attribute("data-end"))
        for s in row.find_elements(By.CSS_SELECTOR, ".seg")
    ]


def test_calendar_freeze_blocks_in_local_hours_across_dst(chromium: Any, site_dir: Path) -> None:
    _open(chromium, site_dir / "calendar-prod.html")
    # the freeze covers whole local days on both sides of the change, the 23-hour Sunday included
    for day in ("2026-03-28", "2026-03-29", "2026-03-30"):
        assert _segments(chromium, day) == [("freeze", "00:00", "24:00")], day
    # the evening window opens at 19:00 local in winter time and in summer time
    assert ("open", "19:00", "23:00") in _segments(chromium, "2026-03-24")
    assert ("open", "19:00", "23:00") in _segments(chromium, "2026-03-31")
    assert _segments(chromium, "2026-03-27") == [("closed", "00:00", "24:00")]
    # the block is drawn where its label says: 19:00 is 79.167 % of the day's width
    left = chromium.execute_script(
        "const s = document.querySelector('tr[data-date=\"2026-03-31\"] .seg-open');"
        "return s.offsetLeft / s.parentElement.clientWidth;"
    )
    assert abs(left - 19 / 24) < 0.01
    # payroll on the 25th (a Wednesday) is frozen and named; the pending promotion sits at the next opening
    from selenium.webdriver.common.by import By

    payroll = chromium.find_element(By.CSS_SELECTOR, 'tr[data-date="2026-03-25"]')
    assert "prod-windows/payroll" in payroll.get_attribute("textContent")
    pending = chromium.find_elements(By.CSS_SELECTOR, "a.pending")
    assert [p.text for p in pending] == ["staging → prod canary opens 19:00"]
    row = pending[0].find_element(By.XPATH, "ancestor::tr")
    assert row.get_attribute("data-date") == "2026-03-24"


def test_promotion_page_shows_cab_view_and_timeline(chromium: Any, site_dir: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(chromium, site_dir / "promotion-7.html")
    verdict = chromium.find_element(By.CSS_SELECTOR, ".verdict")
    assert verdict.get_attribute("data-state") == "blocked"
    assert "1 more CAB approval" in verdict.text
    assert "column dropped (DROP COLUMN … CASCADE)" in chromium.find_element(By.CSS_SELECTOR, ".cab").text
    steps = chromium.find_elements(By.CSS_SELECTOR, "ol.timeline li")
    assert [s.get_attribute("data-kind") for s in steps] == ["promotion", "approval"]
    assert "approved by cab-ines" in steps[1].text


def test_print_media_hides_navigation_and_keeps_the_board(chromium: Any, site_dir: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(chromium, site_dir / "calendar-prod.html")
    chromium.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not chromium.find_element(By.CSS_SELECTOR, "header nav").is_displayed()
        label = chromium.find_element(By.CSS_SELECTOR, 'tr[data-date="2026-03-29"] .seg .txt')
        # printed as words, not only as a colour
        assert label.is_displayed() and label.text.startswith("freeze 00:00–24:00")
    finally:
        chromium.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert chromium.find_element(By.CSS_SELECTOR, "header nav").is_displayed()


def test_env_page_shows_audit_chain(chromium: Any, site_dir: Path) -> None:
    from selenium.webdriver.common.by import By

    _open(chromium, site_dir / "env-prod.html")
    chain = chromium.find_element(By.CSS_SELECTOR, ".chain")
    assert chain.get_attribute("data-chain") == "ok"
    assert len(chromium.find_elements(By.CSS_SELECTOR, "table.audit tbody tr")) == 3


PAGES = ["index.html", "calendar-prod.html", "promotion-7.html", "env-prod.html"]


@pytest.mark.parametrize("page", PAGES)
def test_no_request_leaves_file_urls(chromium: Any, site_dir: Path, page: str) -> None:
    _open(chromium, site_dir / page)
    urls = requested_urls(chromium)
    assert urls, "the network log recorded nothing: the check would be blind"
    assert all(url.startswith("file://") for url in urls), urls
    entries = chromium.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".concat(performance.getEntriesByType('navigation').map(e => e.name))"
    )
    assert entries and all(name.startswith("file://") for name in entries), entries


def test_network_check_sees_an_outside_request(chromium: Any, tmp_path: Path) -> None:
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><body><img alt="" src="http://192.0.2.1/x.png"></body></html>'
    )
    _open(chromium, page)
    assert "http://192.0.2.1/x.png" in requested_urls(chromium)


def _serious_violations(driver: Any, axe_source: str) -> list[tuple[str, str, int]]:
    driver.execute_script(axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)));"
    )
    return [
        (v["id"], v["impact"], len(v["nodes"]))
        for v in json.loads(result)
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("page", PAGES)
def test_accessible_by_axe_core(chromium: Any, axe_source: str, site_dir: Path, page: str) -> None:
    _open(chromium, site_dir / page)
    assert _serious_violations(chromium, axe_source) == []


def test_axe_check_is_not_blind(chromium: Any, axe_source: str, tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>x</title></head><body><main>"
        '<p style="color:#bbb;background:#fff">faint text</p><img src="x.png"></main></body></html>'
    )
    _open(chromium, page)
    found = {rule for rule, _, _ in _serious_violations(chromium, axe_source)}
    assert {"color-contrast", "image-alt", "html-has-lang"} <= found


def save_screenshot(driver: Any, page: Path, name: str, tmp_path: Path) -> None:
    """A PNG of `page` as Chromium draws it; copied into docs/ (README and docs/board-site.md show it) only
    when ODOO_GITOPS_UPDATE_SCREENSHOTS=1, so a test run leaves the checkout unchanged."""
    _open(driver, page)
    shot = tmp_path / name
    assert driver.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("ODOO_GITOPS_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, DOCS / name)


def test_board_screenshot_into_docs(chromium: Any, site_dir: Path, tmp_path: Path) -> None:
    """docs/board.png: every state on one board (docs/promotion.png: test_site_browser_promotion.py)."""
    save_screenshot(chromium, site_dir / "index.html", "board.png", tmp_path)

"""Real headless Chromium (Debian `chromium` + `chromium-driver`, driven by Selenium) and small builders of
board sites for the tests. Missing Chromium skips locally and fails with CI=true."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gitops.audit.log import append_entry, audit_path, read_entries, verify_chain
from gitops.board.site_input import CabSection, Cell, Env, EnvAudit, Promotion, SiteInput
from tests.fixtures.components import TOOLS, missing
from tests.fixtures.windows import calendar_from

# Debian's chromium + chromium-driver (scripts/setup-system.sh); elsewhere (e.g. GitHub's Ubuntu runners,
# which ship Google Chrome with a matching chromedriver in $CHROMEWEBDRIVER) what is on PATH. Overridable.
BROWSERS = ("chromium", "google-chrome", "google-chrome-stable")


def find_browser() -> tuple[str, str] | None:
    """(browser, chromedriver) executables, or None."""
    browser = os.environ.get("ODOO_GITOPS_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    driver = os.environ.get("ODOO_GITOPS_CHROMEDRIVER") or shutil.which("chromedriver")
    webdriver_dir = os.environ.get("CHROMEWEBDRIVER")
    if driver is None and webdriver_dir and Path(webdriver_dir, "chromedriver").is_file():
        driver = str(Path(webdriver_dir, "chromedriver"))
    return (browser, driver) if browser and driver else None


AXE = TOOLS / "npm-axe" / "node_modules" / "axe-core" / "axe.min.js"
# Flags that keep Chromium offline and quiet here; a fresh profile per session.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)

# Berlin switches to summer time on Sunday 2026-03-29 at 02:00; the freeze covers Sat 28 to Mon 30.
DST_CALENDAR = """\
timezone: Europe/Berlin
business_days:
  weekend: [sat, sun]
  holidays: {country: DE, subdiv: BY}
anchors:
  freeze_days: {dates: ["2026-03-28", "2026-03-29", "2026-03-30"]}
  payroll: {rrule: "FREQ=MONTHLY;BYMONTHDAY=25", adjust: preceding}
windows:
  - {id: evenings, kind: allow, days: [tue, wed, thu], start: "19:00", end: "23:00"}
  - {id: spring-freeze, kind: deny, on: [freeze_days]}
  - {id: payroll, kind: deny, on: [payroll]}
"""
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def write_audit(directory: Path) -> EnvAudit:
    """prod's audit log, written by the product's own writer: promoted and approved (PR 7), then a
    verification of another release."""
    path = audit_path(directory, "prod")
    steps = [
        (
            "promotion",
            {"pr": 7, "branch": "promote/prod/canary", "tenants": ["tenant-000"]},
            "2026-03-18T10:00",
        ),
        ("approval", {"pr": 7, "user": "cab-ines"}, "2026-03-19T09:00"),
        ("verification", {"digest": "sha256:" + "c" * 64, "tenant": "tenant-001"}, "2026-03-19T10:00"),
    ]
    for kind, data, at in steps:
        when = datetime.fromisoformat(at).replace(tzinfo=UTC)
        append_entry(path, env="prod", kind=kind, actor="ci-bot", data=data, at=when)
    chain = verify_chain(path, "prod")
    return EnvAudit(env="prod", entries=tuple(read_entries(path)), chain_ok=chain.ok)


def make_site(
    audit: EnvAudit | None = None, *, tenants: int = 4, names: list[str] | None = None
) -> SiteInput:
    """A board of dev, staging and prod (prod with tenants), one blocked promotion to prod."""
    calendar = calendar_from(DST_CALENDAR, "prod-windows")
    envs = (
        Env(name="dev", timezone="Europe/Berlin", calendars=(), version="1.3.0"),
        Env(name="staging", timezone="Europe/Berlin", calendars=(), version="1.3.0"),
        Env(name="prod", timezone="Europe/Berlin", calendars=(calendar,), version="1.2.0"),
    )
    tenant_names = names or [f"tenant-{i:03}" for i in range(tenants)]
    cells = [
        Cell(env="dev", tenant="", state="verified", version="1.3.0", digest="sha256:" + "a" * 64),
        Cell(env="staging", tenant="", state="drifted", version="1.3.0", detail="never verified"),
    ]
    for i, name in enumerate(tenant_names):
        state = "blocked" if i == 0 else "verified"
        cells.append(
            Cell(
                env="prod",
                tenant=name,
                state=state,
                version="1.2.0",
                digest="sha256:" + "b" * 64,
                promotion="7" if state == "blocked" else None,
            )
        )
    promotion = Promotion(
        id="7",
        env="prod",
        source="staging",
        wave="canary",
        tenants=(tenant_names[0],),
        state="blocked",
        verdict="missing: 1 more CAB approval (1/2 counted)",
        title="Promote 1.3.0 to prod (canary)",
        sections=(
            CabSection(
                title="Schema changes",
                severity="danger",
                lines=("acme_site_diary: column dropped (DROP COLUMN … CASCADE)",),
            ),
        ),
    )
    return SiteInput(
        generated_at=NOW,
        source="tests",
        envs=envs,
        cells=tuple(cells),
        promotions=(promotion,),
        audits=(audit,) if audit else (),
    )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A Selenium session on real headless Chromium, with the network (CDP) log enabled."""
    found = find_browser()
    if found is None:
        missing("chromium + chromium-driver", "run `make test` as root: setup-system.sh installs them")
    assert found is not None
    browser, chromedriver = found
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="board-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        missing("axe-core", "run `make tools` (scripts/install-axe.sh installs it from npm)")
    return AXE.read_text()


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser asked for since the last call (Chrome DevTools network log)."""
    urls = []
    for record in driver.get_log("performance"):
        message = json.loads(record["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls

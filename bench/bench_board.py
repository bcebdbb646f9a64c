"""Benchmark: `odoo-gitops board` for 500 tenants x 3 environments with a year (52 weeks) of calendar, and
the index page's DOMContentLoaded in headless Chromium.

Baselines, measured in the same run:
- generation: the same facts as JSON only (the board model's `to_dict` as `status --json` prints it, plus
  `window list` intervals for the year per environment), i.e. what the site adds on top of reading the facts;
- DOMContentLoaded: the same board as ONE unpaginated page of 500 rows (what paginating by 100 avoids).

Targets (issue 17): generation < 2 s, index DOMContentLoaded < 1 s.
Run: .venv/bin/python bench/bench_board.py
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitops.audit_trail.source import AuditSource  # noqa: E402
from gitops.board import site_render  # noqa: E402
from gitops.board.collect import audit_checks  # noqa: E402
from gitops.board.site_collect import read_site  # noqa: E402
from gitops.board.site_render import render_site  # noqa: E402
from gitops.board.site_write import write_site  # noqa: E402
from gitops.board.snapshot import build_board  # noqa: E402
from gitops.config.loader import load_config  # noqa: E402
from gitops.forge.protocol import ForgeSettings  # noqa: E402
from gitops.promote.stage_seams import engine_window_check  # noqa: E402
from gitops.windows.verdict import clear_caches, evaluate  # noqa: E402

TENANTS = 500
WEEKS = 52
NOW = datetime.now(UTC)
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def config_repo(root: Path) -> Path:
    """The example config repository (a plain directory) with TENANTS tenants in prod."""
    work = root / "config"
    shutil.copytree(
        ROOT, work, ignore=shutil.ignore_patterns(".*", "tests", "bench", "gitops", "docs", "*.egg-info")
    )
    prod = work / "envs" / "prod"
    template = (prod / "tenants" / "acme-build.yaml").read_text()
    names = [f"tenant-{i:03d}" for i in range(TENANTS - 4)]
    for name in names:
        (prod / "tenants" / f"{name}.yaml").write_text(template.replace("acme-build", name))
    env_yaml = prod / "env.yaml"
    env_yaml.write_text(env_yaml.read_text() + "".join(f"  {n}: {{enabled: true}}\n" for n in names))
    return work


def best(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        clear_caches()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def generate(work: Path, out: Path) -> None:
    site = read_site(str(work), ForgeSettings(kind="local"), now=NOW)
    write_site(out, render_site(site, weeks=WEEKS))


def facts_as_json(work: Path) -> None:
    repo = load_config(work)
    source = AuditSource(str(work), frozenset(repo.envs), directory=work)
    board = build_board(
        repo,
        now=NOW,
        pulls=(),
        audits=audit_checks(source),
        window_check=engine_window_check,
        source=str(work),
    )
    listing = {
        name: [i.to_dict() for i in evaluate([repo.calendars[c] for c in repo.env(name).config.calendars],
                                             NOW, NOW + timedelta(weeks=WEEKS))]
        for name in repo.envs
    }  # fmt: skip
    json.dumps({"board": board.to_dict(), "windows": listing})


def dom_content_loaded(pages: list[Path]) -> list[float]:
    """DOMContentLoaded (ms after navigation start) of each page: median of 5 loads in headless Chromium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bench-board-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        results = []
        for page in pages:
            samples = []
            for _ in range(5):
                driver.get("about:blank")
                driver.get(page.as_uri())
                samples.append(
                    driver.execute_script(
                        "return performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                    )
                )
            results.append(statistics.median(samples))
        return results
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        work = config_repo(root)
        out = root / "site"
        product = best(3, lambda: generate(work, out))
        baseline = best(3, lambda: facts_as_json(work))
        index = out / "index.html"
        print(
            f"board: {TENANTS} tenants x 3 envs, {WEEKS} weeks of calendar; {len(list(out.iterdir()))} files"
        )
        print(f"  generate the site (read + render + write): {product:.3f} s   (target < 2 s)")
        print(f"  baseline, the same facts as JSON only:      {baseline:.3f} s")
        print(f"  ratio site / JSON: {product / baseline:.2f}x")
        print(f"  index.html: {index.stat().st_size / 1024:.0f} KiB")
        if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
            print(
                "  DOMContentLoaded: skipped (no /usr/bin/chromium + chromedriver; scripts/setup-system.sh)"
            )
            return
        single = root / "single"
        site_render.PAGE_SIZE = TENANTS + 10  # the baseline: every tenant on one page
        write_site(
            single, render_site(read_site(str(work), ForgeSettings(kind="local"), now=NOW), weeks=WEEKS)
        )
        paged_ms, single_ms = dom_content_loaded([index, single / "index.html"])
        print(f"  index DOMContentLoaded in Chromium:  {paged_ms:.0f} ms   (target < 1000 ms)")
        print(f"  baseline, one page of {TENANTS} rows:    {single_ms:.0f} ms "
              f"({(single / 'index.html').stat().st_size / 1024:.0f} KiB)")  # fmt: skip
        print(f"  ratio paginated / single page: {paged_ms / single_ms:.2f}x")


if __name__ == "__main__":
    main()

"""A real promotion (PyGithub against the loopback GitHub, which refuses bodies over 65,536 characters) to
10,000 tenants: the PR opens, its body stays under 60,000 characters, and the promotion makes the same number
of API requests (<= 10) as one to 100 tenants. Counts, not time; bench/bench_promote.py prints the figures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.bench_promote import make_repo, run_promote
from gitops.promote.body import BODY_BUDGET
from tests.fixtures.github import BODY_MAX, start_fake_github


def promote_to(tmp: Path, tenants: int) -> tuple[int, str, int]:
    """API requests, PR body and the number of tenant files the PR's branch changes."""
    bare = make_repo(tmp, tenants)
    fake, httpd = start_fake_github(bare, {"ci-bot-token": "ci-bot"})
    try:
        run_promote(bare, fake.host, tmp / "run")
        [pull] = fake.pulls.values()
        changed = subprocess.run(
            ["git", "diff", "--name-only", f"main...{pull.head}", "--", "envs/prod/tenants/"],
            cwd=bare,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return fake.total_requests(), pull.body, len(changed)
    finally:
        httpd.shutdown()
        httpd.server_close()
        fake.validate_pending()
        assert fake.validation_errors == []


def test_ten_thousand_tenants_open_one_pr_with_a_bounded_body_and_constant_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
    }.items():
        monkeypatch.setenv(key, value)
    small = promote_to(tmp_path / "small", 100)
    large = promote_to(tmp_path / "large", 10_000)
    assert (small[2], large[2]) == (100, 10_000)  # every tenant's file is in the PR: the gate reads those
    assert small[0] == large[0] <= 10
    assert len(large[1]) < BODY_BUDGET < BODY_MAX
    assert "| tenants | **10000** tenants" in large[1]

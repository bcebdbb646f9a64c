"""tests/fixtures/github.py enforces GitHub's documented limits (PR/comment/review body 65,536 characters,
title 256, label name 50, 100 labels per PR) with GitHub's 422 "Validation Failed" shape, so a test fails
where GitHub would; PyGithub is the client, as in the product."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops.errors import ExternalError
from gitops.forge.github import GitHubForge
from tests.fixtures.github import BODY_MAX, SLUG, FakeGitHub, start_fake_github


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[tuple[FakeGitHub, GitHubForge]]:
    bare, work = tmp_path / "remote.git", tmp_path / "work"
    run = lambda *a, cwd=tmp_path: subprocess.run(a, cwd=cwd, check=True, capture_output=True)  # noqa: E731
    run("git", "init", "-q", "--bare", "-b", "main", str(bare))
    run("git", "init", "-q", "-b", "main", str(work))
    (work / "f").write_text("x\n")
    run("git", "add", "f", cwd=work)
    run("git", "-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "c", cwd=work)
    run("git", "push", "-q", str(bare), "HEAD:main", "HEAD:refs/heads/topic", cwd=work)
    fake, httpd = start_fake_github(bare, {"ci-bot-token": "ci-bot"})
    yield fake, GitHubForge(SLUG, token="ci-bot-token", base_url=fake.host)
    httpd.shutdown()
    httpd.server_close()
    fake.validate_pending()
    assert fake.validation_errors == []


def open_pull(forge: GitHubForge, body: str = "ok", labels: tuple[str, ...] = ()) -> Any:
    return forge.create_pull(head="topic", base="main", title="t", body=body, labels=labels, reviewers=())


def raw(fake: FakeGitHub, method: str, path: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{fake.base_url}/repos/{SLUG}{path}",
        data=json.dumps(payload).encode(),
        method=method,
        headers={"Authorization": "token ci-bot-token", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as response:  # the loopback server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_an_oversize_pr_body_is_refused_with_githubs_422(loopback: tuple[FakeGitHub, GitHubForge]) -> None:
    fake, forge = loopback
    status, error = raw(
        fake, "POST", "/pulls", {"head": "topic", "base": "main", "title": "t", "body": "x" * (BODY_MAX + 1)}
    )
    assert status == 422
    assert error["message"] == "Validation Failed"
    assert error["errors"] == [
        {
            "resource": "PullRequest",
            "code": "custom",
            "field": "body",
            "message": f"body is too long (maximum is {BODY_MAX} characters)",
        }
    ]
    with pytest.raises(ExternalError) as refused:
        open_pull(forge, body="é" * (BODY_MAX + 1))  # characters, not bytes
    assert str(refused.value) == (  # the user reads what GitHub objected to, not only "Validation Failed"
        "GitHub create pull failed (422): Validation Failed: "
        f"body is too long (maximum is {BODY_MAX} characters)"
    )
    assert fake.pulls == {}
    pull = open_pull(forge, body="é" * BODY_MAX)  # exactly the limit is accepted
    with pytest.raises(ExternalError, match=r"\(422\)"):
        forge.update_pull(pull, title="t", body="y" * (BODY_MAX + 1), labels=())
    assert fake.pulls[pull.number].body == "é" * BODY_MAX


def test_comments_and_reviews_have_the_same_limit(loopback: tuple[FakeGitHub, GitHubForge]) -> None:
    fake, forge = loopback
    pull = open_pull(forge)
    with pytest.raises(ExternalError, match=r"\(422\)"):
        forge.comment(pull.number, "c" * (BODY_MAX + 1))
    forge.comment(pull.number, "c" * BODY_MAX)
    assert [len(c["body"]) for c in fake.comments[pull.number]] == [BODY_MAX]
    status, error = raw(
        fake, "POST", f"/pulls/{pull.number}/reviews", {"event": "COMMENT", "body": "r" * (BODY_MAX + 1)}
    )
    assert (status, error["errors"][0]["resource"]) == (422, "PullRequestReview")


def test_titles_and_labels_have_githubs_limits(loopback: tuple[FakeGitHub, GitHubForge]) -> None:
    fake, forge = loopback
    with pytest.raises(ExternalError, match=r"\(422\)"):
        forge.create_pull(head="topic", base="main", title="t" * 257, body="", labels=(), reviewers=())
    with pytest.raises(ExternalError, match=r"\(422\)"):
        open_pull(forge, labels=("l" * 51,))  # the PR is opened, its labels are refused
    [pull] = fake.pulls.values()
    assert pull.labels == []
    status, _ = raw(fake, "POST", f"/issues/{pull.number}/labels", {"labels": [f"l{i}" for i in range(101)]})
    assert status == 422
    status, _ = raw(fake, "PUT", f"/issues/{pull.number}/labels", {"labels": [f"l{i}" for i in range(100)]})
    assert status == 200
    assert len(fake.pulls[pull.number].labels) == 100

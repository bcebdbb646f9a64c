"""Attacks on the gate through the GitHub forge (PyGithub against the loopback GitHub, real git).

Review records GitHub can hold (later reviews by the same user, dismissals, lookalike logins, bots, a
review pinned to another commit), a PR retargeted to another base after its approval, and a push between
the gate check and the merge. Each asserts the verdict and exit code of the real CLI, and that main is
unchanged when it says no."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.attacks.github_helpers import CAB, Pr, main_sha, verdict_of
from tests.fixtures.configrepo import git
from tests.fixtures.promote import Stage

# ---------------------------------------------------------------- review records


def dismissed(p: Pr) -> None:
    """GitHub turns a dismissed approval's state into DISMISSED in place."""
    p.approve(*CAB)
    p.fake.reviews[p.number][-1]["state"] = "DISMISSED"


def commented_after_approval(p: Pr) -> None:
    p.approve(*CAB)
    p.review("cab-jonas", "COMMENTED")  # a comment does not withdraw an approval (GitHub agrees)


def changes_requested_after_approval(p: Pr) -> None:
    p.approve(*CAB)
    p.review("cab-jonas", "CHANGES_REQUESTED")


def approved_again_after_changes_requested(p: Pr) -> None:
    p.review("cab-jonas", "CHANGES_REQUESTED")
    p.approve(*CAB)


def lookalike_login(p: Pr) -> None:
    p.approve("cab-ines")
    p.review("cab-j\u043enas", "APPROVED")  # Cyrillic o: another account


def author_in_other_case(p: Pr) -> None:
    p.approve("cab-ines")
    p.review("CI-Bot", "APPROVED")  # the PR author (GitHub logins are case-insensitive)


def bot_approval(p: Pr) -> None:
    p.approve("cab-ines")
    p.review("github-actions[bot]", "APPROVED")


def approval_pinned_to_main(p: Pr) -> None:
    """A review submitted with `commit_id` of a commit whose content is not the PR's."""
    p.approve("cab-ines")
    p.review("cab-jonas", "APPROVED", commit_id=main_sha(p.stage))


def approval_pinned_to_unknown_commit(p: Pr) -> None:
    p.approve("cab-ines")
    p.review("cab-jonas", "APPROVED", commit_id="0" * 40)


def approvals_counted_once_per_user(p: Pr) -> None:
    p.approve("cab-ines")
    p.review("cab-ines", "APPROVED")
    p.review("CAB-INES", "APPROVED")


def listed_member_seen_as_contributor(p: Pr) -> None:
    """A CAB member whose org membership the token cannot see: the rule names the login, so it counts."""
    p.approve("cab-ines")
    p.review("cab-jonas", "APPROVED", association="CONTRIBUTOR")


def control(p: Pr) -> None:
    p.approve(*CAB)


@dataclass(frozen=True)
class Case:
    id: str
    attack: Callable[[Pr], None]
    state: str
    reason: str = ""
    ignored: str = ""


CASES = [
    Case("dismissed-approval", dismissed, "pending", "needs 1 more approval from cab"),
    Case("commented-after-approval", commented_after_approval, "success"),
    Case("changes-requested-after-approval", changes_requested_after_approval, "failure",
         "cab-jonas requested changes"),
    Case("approved-after-changes-requested", approved_again_after_changes_requested, "success"),
    Case("lookalike-login", lookalike_login, "pending", "needs 1 more approval", ignored="not in cab"),
    Case("author-other-case", author_in_other_case, "pending", "needs 1 more approval",
         ignored="PR author: may not approve"),
    Case("bot-approval", bot_approval, "pending", "needs 1 more approval", ignored="not in cab"),
    Case("approval-pinned-to-main", approval_pinned_to_main, "pending", "needs 1 more approval",
         ignored="stale: approved different content"),
    Case("approval-pinned-to-unknown-commit", approval_pinned_to_unknown_commit, "pending",
         "needs 1 more approval", ignored="stale: approved unknown content"),
    Case("same-user-approves-thrice", approvals_counted_once_per_user, "pending", "needs 1 more approval"),
    Case("listed-member-seen-as-contributor", listed_member_seen_as_contributor, "success"),
    Case("control", control, "success"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_review_records(case: Case, pr: Pr) -> None:
    case.attack(pr)
    code, result, err = pr.cli("gate", "check", str(pr.number))
    verdict = verdict_of(result)
    assert (code, verdict["state"]) == (0 if case.state == "success" else 3, case.state), verdict["reasons"]
    if case.reason:
        assert any(case.reason in r for r in verdict["reasons"]), verdict["reasons"]
    if case.ignored:
        assert any(case.ignored in i["reason"] for i in verdict["approvals"]["ignored"]), verdict["approvals"]
    if case.state != "success":
        before = main_sha(pr.stage)
        code, _, err = pr.cli("pr", "merge", str(pr.number))
        assert code == 3, err
        assert pr.fake.pulls[pr.number].merged_at is None
        changed = git(pr.stage.repo.remote, "diff", "--name-only", before, "main").split()
        assert all(p.startswith("audit/") for p in changed), changed


# ---------------------------------------------------------------- the PR itself moves


def push_commit(stage: Stage, tmp: Path, branch: str, path: str, text: str, *, start: str) -> str:
    """Mallory's commit (plain git) on `branch`, started from `start` of the remote."""
    work = tmp / "mallory"
    if not work.exists():
        subprocess.run(["git", "clone", "-q", str(stage.repo.remote), str(work)], check=True)
    git(work, "fetch", "-q", "origin", start)
    git(work, "checkout", "-q", "-B", branch, "FETCH_HEAD")
    (work / path).write_text(text)
    git(work, "commit", "-q", "-am", "mallory", "--author=mallory <mallory@example.com>")
    git(work, "push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")
    return git(work, "rev-parse", "HEAD").strip()


def test_retargeting_the_base_after_approval_fails_the_gate(pr: Pr, tmp_path: Path) -> None:
    """GitHub lets the author change a PR's base: the gate checked the head against main, so a merge into
    another branch (here one that lowers prod's approvals) is not what it approved."""
    env_yaml = (pr.stage.repo.work / "envs/prod/env.yaml").read_text()
    lowered = env_yaml.replace("normal: {count: 2, from: [cab]}", "normal: {count: 0, from: [cab]}")
    assert lowered != env_yaml
    evil = push_commit(pr.stage, tmp_path, "release-evil", "envs/prod/env.yaml", lowered, start="main")
    pr.approve(*CAB)
    pr.fake.pulls[pr.number].base = "release-evil"  # PATCH /pulls/N {"base": …}
    code, result, err = pr.cli("gate", "check", str(pr.number))
    verdict = verdict_of(result)
    assert (code, verdict["state"]) == (3, "failure"), verdict
    assert any("base is release-evil, not main" in r for r in verdict["reasons"]), verdict["reasons"]
    code, _, err = pr.cli("pr", "merge", str(pr.number))
    assert code == 3 and "cannot be merged" in err, err
    assert main_sha(pr.stage, "release-evil") == evil
    assert pr.fake.pulls[pr.number].merged_at is None


def test_a_push_between_the_gate_check_and_the_merge_is_not_merged(
    pr: Pr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TOCTOU: `pr merge` merges the exact SHA it checked; a push after the check makes GitHub refuse."""
    from gitops.promote import pulls

    pr.approve(*CAB)
    checked = pulls.evaluate_pull
    pushed: list[str] = []

    def evaluate_then_push(*args: Any, **kwargs: Any) -> Any:
        result = checked(*args, **kwargs)
        path = pr.stage.repo.work / "envs/prod/values.yaml"
        pushed.append(
            push_commit(pr.stage, tmp_path, pr.branch, "envs/prod/values.yaml",
                        path.read_text() + "replicaCount: 9\n", start=pr.branch)
        )  # fmt: skip
        return result

    monkeypatch.setattr(pulls, "evaluate_pull", evaluate_then_push)
    before = main_sha(pr.stage)
    code, _, err = pr.cli("pr", "merge", str(pr.number))
    assert code == 1 and "Head branch was modified" in err, err
    assert pr.fake.pulls[pr.number].merged_at is None
    ancestor = subprocess.run(
        ["git", "merge-base", "--is-ancestor", pushed[0], "main"], cwd=pr.stage.repo.remote
    )
    assert ancestor.returncode == 1  # the pushed commit is not on main
    changed = git(pr.stage.repo.remote, "diff", "--name-only", before, "main").split()
    assert all(p.startswith("audit/") for p in changed), changed


# ---------------------------------------------------------------- reviews by people outside the repository


def anyone_may_approve(stage: Stage) -> None:
    """prod's normal rule names no team: 'an empty `from` accepts anyone not excluded'."""
    stage.pull()
    env_yaml = stage.repo.work / "envs/prod/env.yaml"
    old = "normal: {count: 2, from: [cab]}"
    assert old in env_yaml.read_text()
    env_yaml.write_text(env_yaml.read_text().replace(old, "normal: {count: 2}"))
    stage.repo.commit_all("prod: any two reviewers (a reviewed change on main)")


@pytest.mark.parametrize("association", ["NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR"])
def test_an_outsiders_approval_never_counts(pr: Pr, association: str) -> None:
    """On GitHub anyone who can read the repository (everyone, for a public one) can submit an APPROVE
    review; it has no write access (author_association NONE, CONTRIBUTOR, …) and must not count."""
    anyone_may_approve(pr.stage)
    pr.approve("cab-ines")
    pr.review("random-stranger", "APPROVED", association=association)
    code, result, _ = pr.cli("gate", "check", str(pr.number))
    verdict = verdict_of(result)
    assert (code, verdict["state"]) == (3, "pending"), verdict
    [ignored] = verdict["approvals"]["ignored"]
    assert ignored["user"] == "random-stranger"
    assert "no write access to the repository" in ignored["reason"], ignored
    code, _, err = pr.cli("pr", "merge", str(pr.number))
    assert code == 3, err


def test_an_outsiders_change_request_does_not_block(pr: Pr) -> None:
    anyone_may_approve(pr.stage)
    pr.approve(*CAB)
    pr.review("random-stranger", "CHANGES_REQUESTED", association="NONE")
    code, result, _ = pr.cli("gate", "check", str(pr.number))
    assert (code, verdict_of(result)["state"]) == (0, "success"), verdict_of(result)

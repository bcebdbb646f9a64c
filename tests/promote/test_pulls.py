"""gitops/promote/pulls.py: the inputs of the approval gate that pulls.py decides itself, tested with values:
who may not approve, which policy governs (main's, never the PR's), the emergency label check, and the audit
entries a verdict writes (their keys make a re-run write nothing twice). The git/forge flow around them
(check_gate, merge_pull) is covered by tests/gates/test_gate_flow.py and test_bypass.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gitops.config.loader import ConfigRepo, load_config
from gitops.config.models import GatePolicy
from gitops.forge.protocol import PullRequest
from gitops.gates.approvals import CountedApproval
from gitops.gates.evidence import Emergency, WindowState
from gitops.gates.policy import GateVerdict
from gitops.promote.pullfacts import PullFacts
from gitops.promote.pulls import _audit_entries, _label_problems, _policy, excluded_identities
from tests.fixtures.promote import NOW


@pytest.fixture(scope="module")
def repo() -> ConfigRepo:
    return load_config(Path(__file__).resolve().parents[2])


def pull(*, author: str = "Dev-Anna", labels: tuple[str, ...] = ()) -> PullRequest:
    return PullRequest(
        number=12, url="file:///x#12", title="Promote prod", body="", head="promote/prod/1.5.0-0123456789ab",
        base="main", head_sha="f" * 40, author=author, labels=labels, state="open",
    )  # fmt: skip


FACTS = PullFacts(
    number=12, kind="promotion", target="prod", branch="promote/prod/1.5.0-0123456789ab", head="f" * 40,
    paths=("envs/prod/release.yaml",), tenants=(), completes_env=True, content_hash="ch2:abc",
    hashed_paths=("envs/prod/release.yaml",), release=None, run=None, promoters=("CI-Bot", "dev-bob"),
    change_class="normal", destructive=False, emergency=None, backup_recorded=False, backup_ids=(),
    problems=(),
)  # fmt: skip


class Authors:
    """The one forge read excluded_identities makes."""

    def __init__(self, *authors: str) -> None:
        self.authors = list(authors)

    def commit_authors(self, number: int) -> list[str]:
        assert number == 12
        return self.authors


def test_pr_author_promoters_and_commit_authors_may_not_approve_whatever_their_case() -> None:
    excluded = excluded_identities(Authors("Cab-Kofi", "kofi@example.com"), pull(), FACTS)  # type: ignore[arg-type]
    assert excluded == {
        "cab-kofi": "commit author",
        "kofi@example.com": "commit author",
        "ci-bot": "promotion actor",
        "dev-bob": "promotion actor",
        "dev-anna": "PR author",
    }


def test_the_pr_author_is_excluded_even_when_also_a_commit_author() -> None:
    excluded = excluded_identities(Authors("dev-anna"), pull(), FACTS)  # type: ignore[arg-type]
    assert excluded["dev-anna"] == "PR author"


# ---------------------------------------------------------------- policy


def test_a_promotion_is_governed_by_its_targets_policy_on_main(repo: ConfigRepo) -> None:
    assert _policy(repo, FACTS) == repo.env("prod").config.gate_policy
    assert _policy(repo, replace(FACTS, target="staging")) == repo.env("staging").config.gate_policy


def test_a_lifecycle_pr_is_governed_by_its_policy_env_or_an_empty_policy(repo: ConfigRepo) -> None:
    create = replace(FACTS, kind="lifecycle:create", target="review-42", policy_env="prod")
    assert _policy(repo, create) == repo.env("prod").config.gate_policy
    assert _policy(repo, replace(create, policy_env=None)) == GatePolicy()
    assert _policy(repo, replace(create, policy_env="nowhere")) == GatePolicy()


# ---------------------------------------------------------------- emergency label


def test_the_emergency_label_and_the_declaration_must_agree(repo: ConfigRepo) -> None:
    declared = replace(FACTS, emergency=Emergency("payroll broken", "INC-7"))
    assert _label_problems(repo, pull(), FACTS) == []
    assert _label_problems(repo, pull(labels=("emergency",)), declared) == []
    only_label = _label_problems(repo, pull(labels=("emergency",)), FACTS)
    assert len(only_label) == 1
    assert only_label[0].startswith("the PR is labelled 'emergency' but its promotion declares no emergency")
    only_declared = _label_problems(repo, pull(labels=("env:prod",)), declared)
    assert len(only_declared) == 1
    assert "lacks the 'emergency' label" in only_declared[0]


def test_the_label_name_comes_from_the_policy_on_main(repo: ConfigRepo) -> None:
    prod = repo.env("prod")
    assert prod.config.gate_policy.emergency is not None
    policy = prod.config.gate_policy.model_copy(
        update={"emergency": prod.config.gate_policy.emergency.model_copy(update={"label": "break-glass"})}
    )
    config = prod.config.model_copy(update={"gate_policy": policy})
    relabelled = replace(repo, envs={**repo.envs, "prod": replace(prod, config=config)})
    declared = replace(FACTS, emergency=Emergency("payroll broken", "INC-7"))
    assert _label_problems(relabelled, pull(labels=("break-glass",)), declared) == []
    assert len(_label_problems(relabelled, pull(labels=("emergency",)), declared)) == 1


# ---------------------------------------------------------------- audit entries


def verdict(**overrides: object) -> GateVerdict:
    base = GateVerdict(
        state="success", description="2/2 approvals", rule="normal", required=2, eligible_from=("cab",),
        counted=(CountedApproval("cab-ines", 101, "f" * 40), CountedApproval("cab-lena", 102, "e" * 40)),
        ignored=(), reasons=(), content_hash="ch2:abc", window=None, window_overridden=False, emergency=False,
        post_review=False, backup_required=False, backup_recorded=False,
    )  # fmt: skip
    return replace(base, **overrides)  # type: ignore[arg-type]


def test_every_counted_approval_and_the_verdict_are_audited_under_stable_keys() -> None:
    entries = _audit_entries(pull(), FACTS, verdict(), NOW)
    assert [(kind, key) for kind, _, key in entries] == [
        ("approval", "approval:prod#12:101:ch2:abc"),
        ("approval", "approval:prod#12:102:ch2:abc"),
        ("gate", f"gate:prod#12:{'f' * 40}:success:2:0"),
    ]
    assert entries[0][1] == {
        "pr": 12, "user": "cab-ines", "review_id": 101, "commit": "f" * 40, "content_hash": "ch2:abc",
        "rule": "normal",
    }  # fmt: skip
    assert entries[-1][1] == {
        "pr": 12, "head": "f" * 40, "state": "success", "rule": "normal", "content_hash": "ch2:abc",
        "reasons": [],
    }  # fmt: skip


def test_a_changed_verdict_gets_a_new_key_and_the_same_verdict_the_same_one() -> None:
    def key(v: GateVerdict) -> str:
        return _audit_entries(pull(), FACTS, v, NOW)[-1][2]

    assert key(verdict()) == key(verdict())
    pending = verdict(state="pending", counted=(), reasons=("needs 2 more approvals from cab",))
    assert key(pending) == f"gate:prod#12:{'f' * 40}:pending:0:1"
    # an approval re-counted for other content is a new approval entry
    other = _audit_entries(pull(), FACTS, verdict(content_hash="ch2:def"), NOW)
    assert other[0][2] == "approval:prod#12:101:ch2:def"


def test_a_window_override_is_audited_only_for_a_declared_emergency() -> None:
    closed = WindowState(open=False, blocked_by=("payroll/freeze",))
    overridden = verdict(window=closed, window_overridden=True, emergency=True, post_review=True)
    assert [k for k, _, _ in _audit_entries(pull(), FACTS, overridden, NOW)] == [
        "approval",
        "approval",
        "gate",
    ]
    declared = replace(FACTS, emergency=Emergency("payroll broken", "INC-7"))
    entries = _audit_entries(pull(), declared, overridden, NOW)
    assert [k for k, _, _ in entries] == ["approval", "approval", "override", "gate"]
    _, data, key = entries[2]
    assert key == "override:prod#12:ch2:abc"
    assert data["reason"] == "payroll broken"
    assert data["ticket"] == "INC-7"
    assert data["windows_violated"] == ["payroll/freeze"]
    assert data["broke_glass"] == ["CI-Bot", "dev-bob"]
    assert data["approvers"] == ["cab-ines", "cab-lena"]
    assert data["who"] == "CI-Bot, dev-bob"
    assert data["post_review"] is True

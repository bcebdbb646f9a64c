"""gitops/promote/lifecyclefacts.py: what a lifecycle PR (`env create|extend|expire`, `refresh`) may touch and
how its content is keyed, tested with values. The git reads (diff, audit log on main) are covered by
tests/lifecycle/test_gate.py and test_attacks.py."""

from __future__ import annotations

import pytest

from gitops.audit import AuditEntry
from gitops.promote.lifecyclefacts import (
    CHANGE_RULES,
    LIFECYCLE_RE,
    _run_key,
    allowed,
    content_at,
    content_key,
    is_lifecycle_branch,
)


@pytest.mark.parametrize(
    ("branch", "ok"),
    [
        ("lifecycle/create/review-42", True),
        ("lifecycle/extend/review-42", True),
        ("lifecycle/expire/review-42", True),
        ("lifecycle/refresh/staging", True),
        ("lifecycle/delete/review-42", False),
        ("lifecycle/create/review-42/x", False),
        ("lifecycle/create/.hidden", False),
        ("promote/prod/1.5.0-abc", False),
    ],
)
def test_a_lifecycle_branch_names_a_known_change_and_one_env(branch: str, ok: bool) -> None:
    assert is_lifecycle_branch(branch) is ok
    if ok:
        match = LIFECYCLE_RE.fullmatch(branch)
        assert match is not None
        assert match["env"] == branch.rsplit("/", 1)[1]


# (change, path, created, deleted) -> may the PR touch it?
CASES = [
    ("create", "envs/review-42/env.yaml", True, False, True),
    ("create", "envs/review-42/env.yaml", False, False, False),  # an existing env is not created
    ("create", "envs/review-42/values.yaml", False, True, False),
    ("create", "pipelines/odoo.yaml", False, False, True),  # the new env joins a pipeline
    ("create", "pipelines/new.yaml", True, False, False),
    ("create", "pipelines/odoo.yaml", False, True, False),
    ("create", "pipelines/sub/odoo.yaml", False, False, False),
    ("create", "envs/prod/env.yaml", False, False, False),  # another env's policy
    ("create", "envs/review-42x/env.yaml", True, False, False),
    ("create", "audit/review-42.jsonl", True, False, False),
    ("expire", "envs/review-42/env.yaml", False, True, True),
    ("expire", "envs/review-42/env.yaml", False, False, False),  # editing before expiring: no
    ("expire", "pipelines/odoo.yaml", False, False, True),
    ("expire", "envs/prod/release.yaml", False, True, False),
    ("extend", "envs/review-42/env.yaml", False, False, True),
    ("extend", "envs/review-42/values.yaml", False, False, False),
    ("extend", "envs/review-42/env.yaml", False, True, False),
    ("extend", "pipelines/odoo.yaml", False, False, False),
    ("refresh", "envs/review-42/env.yaml", False, False, True),
    ("refresh", "envs/review-42/values.yaml", False, False, True),
    ("refresh", "envs/review-42/release.yaml", False, False, False),
    ("refresh", "envs/review-42/values.yaml", True, False, False),
]


@pytest.mark.parametrize(("change", "path", "created", "deleted", "ok"), CASES)
def test_each_change_may_touch_only_its_own_paths_in_its_own_way(
    change: str, path: str, created: bool, deleted: bool, ok: bool
) -> None:
    assert allowed(change, "review-42", path, created=created, deleted=deleted) is ok


def test_deleting_an_env_and_refreshing_data_are_counted_as_destructive() -> None:
    assert {c for c, rule in CHANGE_RULES.items() if rule == "destructive"} == {"expire", "refresh"}


def test_the_content_key_covers_paths_contents_and_deletions() -> None:
    base = {"envs/a/env.yaml": b"x: 1\n", "pipelines/odoo.yaml": b"stages: []\n"}
    key = content_key(base)
    assert len(key) == 32
    assert content_key(dict(reversed(list(base.items())))) == key  # order does not matter
    assert content_key({**base, "envs/a/env.yaml": b"x: 2\n"}) != key
    assert content_key({**base, "envs/a/env.yaml": None}) != key  # deleted is not empty
    assert content_key({**base, "envs/a/env.yaml": b""}) != content_key({**base, "envs/a/env.yaml": None})
    assert content_key({"envs/b/env.yaml": b"x: 1\n", "pipelines/odoo.yaml": b"stages: []\n"}) != key
    # a path and content cannot be shifted into each other
    assert content_key({"a": b"b"}) != content_key({"ab": b""})


def entry(key: str | None) -> AuditEntry:
    return AuditEntry(seq=1, at="", env="review-42", kind="lifecycle", actor="dev", data={}, key=key, prev="",
                      hash="")  # fmt: skip


@pytest.mark.parametrize(
    ("key", "content"),
    [
        ("lifecycle:create:review-42:0123abcd:dev-anna", "0123abcd"),
        ("lifecycle:create:review-42:0123abcd", None),  # no actor: not a run key
        ("refresh:create:review-42:0123abcd:dev-anna", None),
        (None, None),
    ],
)
def test_a_runs_content_is_read_from_its_audit_key(key: str | None, content: str | None) -> None:
    assert _run_key(entry(key)) == content


def test_a_review_at_an_older_commit_is_keyed_over_the_prs_paths() -> None:
    texts = {("old", "envs/a/env.yaml"): "x: 1\n", ("old", "pipelines/odoo.yaml"): "stages: []\n"}
    paths = ("envs/a/env.yaml", "pipelines/odoo.yaml")

    def read(sha: str, path: str) -> str | None:
        return texts.get((sha, path))

    assert content_at(read, "old", paths) == content_key(
        {"envs/a/env.yaml": b"x: 1\n", "pipelines/odoo.yaml": b"stages: []\n"}
    )
    assert content_at(read, "gone", paths) == content_key(dict.fromkeys(paths))
    assert content_at(read, "gone", paths) != content_at(read, "old", paths)

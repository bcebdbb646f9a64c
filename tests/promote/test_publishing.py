"""gitops/promote/publishing.py: one set of facts feeds the PR's body, marker, labels and reviewers
(decided from values; the forge calls run end to end in tests/promote/test_service.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gitops.config.loader import EnvBundle, load_config
from gitops.config.models import EmergencyDeclaration, ReleaseRecord
from gitops.forge.protocol import PullRequest
from gitops.gates.evidence import WindowState
from gitops.promote import body as pr_body
from gitops.promote.marker import PromotionMarker, parse_marker
from gitops.promote.promotion import Install
from gitops.promote.publishing import (
    Publication,
    approval_text,
    draft_of,
    facts_of,
    marker_of,
    publish,
    reviewers,
    rollback_text,
)
from gitops.promote.stage_seams import SchemaDiff
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import release_data


@pytest.fixture
def prod(tmp_path: Path) -> EnvBundle:
    return load_config(copy_examples(tmp_path / "cfg")).env("prod")


def install(*, destructive: bool = False, kind: Any = "promotion", **kw: Any) -> Install:
    rel = ReleaseRecord.model_validate(release_data("1.5.0"))
    schema = SchemaDiff(computed=True, change_class="normal", destructive=destructive, fingerprint="fp")
    base: dict[str, Any] = {
        "kind": kind,
        "source": "staging",
        "target": "prod",
        "image": rel.image,
        "version": rel.version,
        "source_commit": rel.source_commit,
        "modules": dict(rel.modules),
        "schema": schema,
        "wave": "canary",
        "tenants": ("acme-build",),
        "completes_env": False,
        "changes": (),
    }
    return Install(**{**base, **kw})


def where(target: EnvBundle, **kw: Any) -> Publication:
    base: dict[str, Any] = {
        "target": target,
        "branch": "promote/prod/1.5.0-abc-canary",
        "head": "a" * 40,
        "content_hash": "sha256:" + "c" * 64,
        "actor": "ci-bot",
        "window": WindowState(open=True),
        "emergency": None,
        "gates": ("window", "approvals"),
    }
    return Publication(**{**base, **kw})


def test_the_facts_carry_the_install_and_its_surroundings(prod: EnvBundle) -> None:
    facts = facts_of(install(), where(prod))
    assert (facts.kind, facts.source, facts.target, facts.wave, facts.tenants) == (
        "promotion",
        "staging",
        "prod",
        "canary",
        ("acme-build",),
    )
    assert (facts.actor, facts.content_hash, facts.gates) == (
        "ci-bot",
        "sha256:" + "c" * 64,
        ("window", "approvals"),
    )
    assert facts.version_from == (prod.release.version if prod.release else None)
    assert facts.scan_policy == "target policy: fail at HIGH and above"
    assert facts.window == "Open now."
    assert facts.emergency is None


def test_marker_and_labels_say_what_the_body_says(prod: EnvBundle) -> None:
    declared = EmergencyDeclaration(reason="payroll broken", ticket="INC-7")
    the_install = install(destructive=True)
    facts = facts_of(the_install, where(prod, emergency=declared))
    earlier = PromotionMarker(
        **{**marker_of(the_install, facts, "b", None).__dict__, "bindings": {"f" * 40: "x"}}
    )
    marker = marker_of(the_install, facts, "promote/prod/1.5.0-abc-canary", earlier).bind("a" * 40)
    assert (marker.emergency_reason, marker.emergency_ticket) == ("payroll broken", "INC-7")
    assert (marker.change_class, marker.destructive, marker.actor) == ("normal", True, "ci-bot")
    assert marker.bindings == {"f" * 40: "x", "a" * 40: facts.content_hash}  # earlier runs' heads kept
    body = pr_body.render_body(facts, marker.render())
    assert parse_marker(body) == marker
    _, cab = approval_text(prod, the_install)
    labels = pr_body.labels(facts, cab_required=cab)
    assert {"env:prod", "change:normal", "change:destructive", "cab-required", "emergency"} <= set(labels)


def test_approvals_follow_the_change_class(prod: EnvBundle) -> None:
    text, cab = approval_text(prod, install(destructive=True))
    assert cab
    assert text.startswith("`destructive`: 2 approvals from cab.")
    assert "A database backup must be recorded before merging" in text
    assert "Emergency path:" in text
    standard = install(
        schema=SchemaDiff(computed=True, change_class="standard", destructive=False, fingerprint=None)
    )
    assert approval_text(prod, standard)[1] is False


def test_reviewers_never_include_the_author(prod: EnvBundle) -> None:
    everyone = reviewers(prod, "nobody")
    assert everyone == sorted(everyone)
    assert everyone
    assert everyone[0] not in reviewers(prod, everyone[0].upper())


def test_the_rollback_line_names_the_release_to_return_to() -> None:
    current = ReleaseRecord.model_validate(release_data("1.4.0"))
    assert "`odoo-gitops rollback prod` returns to 1.4.0" in rollback_text(current, install())
    assert "verified)" in rollback_text(current, install())
    assert rollback_text(None, install()).startswith("None: this is the first release")
    assert rollback_text(current, install(kind="rollback")).startswith("This PR is itself a rollback")


class _Recording:
    """A forge that keeps what it is sent (publishing's own logic; the real forges run in test_service)."""

    name = "recording"

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.statuses: list[str] = []

    def whoami(self) -> str:
        return "ci-bot"

    def create_pull(self, **kw: Any) -> PullRequest:
        self.created.append(kw)
        return PullRequest(
            number=7, url="https://forge.example/pr/7", title=kw["title"], body=kw["body"], head=kw["head"],
            base=kw["base"], head_sha="a" * 40, author="ci-bot", labels=tuple(kw["labels"]), state="open",
        )  # fmt: skip

    def set_status(self, sha: str, status: Any) -> None:
        self.statuses.append(sha)


def test_a_draft_made_while_the_branch_is_pushed_is_what_is_sent_for_that_very_publication(
    prod: EnvBundle,
) -> None:
    """The PR's title, body, marker and labels are made while the branch is pushed (install_release) and
    sent as they are when published for the same Publication; for any other one they are made again."""
    the_install, pushed = install(), where(prod)
    made = draft_of(the_install, pushed, [])
    forge = _Recording()
    publish(forge, "main", the_install, pushed, open_pulls=[])  # type: ignore[arg-type]
    assert forge.created[0]["body"] == made.text and forge.created[0]["labels"] == made.labels
    marked = replace(made, text=made.text + "\n(drafted)")
    publish(forge, "main", the_install, pushed, open_pulls=[], draft=marked)  # type: ignore[arg-type]
    assert forge.created[1]["body"] == marked.text
    other = where(prod)  # equal, but not the publication the draft was made for
    publish(forge, "main", the_install, other, open_pulls=[], draft=marked)  # type: ignore[arg-type]
    assert forge.created[2]["body"] == made.text
    assert forge.statuses == ["a" * 40] * 3

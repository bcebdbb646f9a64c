"""gitops/promote/promotion.py: the values a promotion is made of: its branch name (the gate reads target and
kind back from it), the result before anything is pushed and the result's JSON document."""

from __future__ import annotations

import json

import pytest

from gitops.config.models import ReleaseRecord
from gitops.forge.protocol import PullRequest
from gitops.promote.promotion import Install, PromotionResult, branch_name, short_digest
from gitops.promote.pullfacts import BRANCH_RE
from gitops.promote.stage_seams import SchemaDiff
from tests.fixtures.promote import digest, release_data

IMAGE = f"registry.example.com/acme/odoo-custom@{digest('1.5.0')}"


def test_the_short_digest_is_the_first_twelve_hex_digits() -> None:
    assert short_digest(IMAGE) == digest("1.5.0").removeprefix("sha256:")[:12]
    assert short_digest("registry.example.com/acme/odoo:17") == ""


@pytest.mark.parametrize(
    ("kind", "wave", "name"),
    [
        ("promotion", None, "promote/prod/1.5.0-{d}"),
        ("promotion", "canary", "promote/prod/1.5.0-{d}-canary"),
        ("rollback", None, "rollback/prod/1.5.0-{d}"),
        ("rollback", "tenants-0a1b2c3d", "rollback/prod/1.5.0-{d}-tenants-0a1b2c3d"),
    ],
)
def test_a_branch_names_kind_target_version_image_and_wave(kind: str, wave: str | None, name: str) -> None:
    branch = branch_name(kind, "prod", "1.5.0", IMAGE, wave)
    assert branch == name.format(d=short_digest(IMAGE))
    match = BRANCH_RE.fullmatch(branch)  # the gate reads the target and the kind back from it
    assert match is not None
    assert (match["prefix"], match["target"]) == ("rollback" if kind == "rollback" else "promote", "prod")


def test_another_image_of_the_same_version_is_another_branch() -> None:
    other = f"registry.example.com/acme/odoo-custom@{digest('1.5.0-rebuilt')}"
    assert branch_name("promotion", "prod", "1.5.0", IMAGE, None) != branch_name(
        "promotion", "prod", "1.5.0", other, None
    )


def install(**schema: bool) -> Install:
    record = ReleaseRecord.model_validate(release_data("1.5.0"))
    return Install(
        kind="rollback", source="prod", target="prod", image=record.image, version="1.5.0",
        source_commit=record.source_commit, modules=dict(record.modules),
        schema=SchemaDiff(computed=True, change_class="standard", fingerprint=None,
                          destructive=schema.get("destructive", False)),
        wave="canary", tenants=("acme-build",), completes_env=False, changes=(),
    )  # fmt: skip


def test_before_anything_is_pushed_the_result_is_up_to_date_with_the_installs_facts() -> None:
    result = PromotionResult.up_to_date(install(destructive=True))
    assert result.to_dict() == {
        "action": "up-to-date", "kind": "rollback", "source": "prod", "target": "prod", "wave": "canary",
        "tenants": ["acme-build"], "branch": None, "head_sha": None, "pushed": False, "pull_request": None,
        "content_hash": None, "change_class": "standard", "destructive": True, "superseded": [],
        "audit_seq": None, "notes": [],
    }  # fmt: skip


def test_the_json_document_carries_the_pr_without_credentials() -> None:
    pull = PullRequest(
        number=3, url="https://bot:s3cret@git.example.com/acme/config/pulls/3", title="t", body="", head="h",
        base="main", head_sha="a" * 40, author="ci-bot", labels=("env:prod",), state="open",
    )  # fmt: skip
    result = PromotionResult(
        action="created", kind="promotion", source="staging", target="prod", wave=None, tenants=(),
        branch="promote/prod/x", head_sha="a" * 40, pushed=True, pull=pull, content_hash="ch2:x",
        change_class="normal", destructive=False, superseded=(1, 2), audit_seq=7, notes=("n",),
    )  # fmt: skip
    document = result.to_dict()
    assert document["pull_request"]["number"] == 3
    assert "s3cret" not in json.dumps(document)
    assert (document["superseded"], document["audit_seq"], document["notes"]) == ([1, 2], 7, ["n"])

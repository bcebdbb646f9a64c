"""gitops/promote/pullfacts.py: the decisions that turn what git shows of a promotion PR into the gate's
facts, tested with values (which paths a promotion may edit, which edits of values files and verifications are
forged, which backups cover the PR, how the change class and the destructive flag are claimed, how a review
at an older commit is bound to content). The git reads around them are covered by tests/gates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from gitops.audit import AuditEntry
from gitops.config.models import ReleaseRecord
from gitops.forge.protocol import PullRequest
from gitops.gates.content import hash_files
from gitops.gates.evidence import Emergency, SupplyResult
from gitops.promote.pullfacts import (
    BRANCH_RE,
    PullFacts,
    _backups,
    _facts,
    _Head,
    _parse_release,
    _strictest,
    _value_edit_problems,
    _verification_problems,
    _wave_tenants,
    allowed_path,
    content_at,
)
from tests.fixtures.promote import NOW, release_data

TENANTS = ("acme", "globex")
BRANCH = "promote/prod/1.5.0-0123456789ab"
IMAGE = "r/o@sha256:" + "1" * 64


def pull(head: str = BRANCH) -> PullRequest:
    return PullRequest(
        number=12, url="file:///x#12", title="Promote prod", body="", head=head, base="main",
        head_sha="f" * 40, author="dev-anna", labels=(), state="open",
    )  # fmt: skip


def entry(kind: str, actor: str, **data: Any) -> AuditEntry:
    return AuditEntry(seq=1, at="2026-12-08T18:00:00Z", env="prod", kind=kind, actor=actor, data=data,
                      key=None, prev="", hash="")  # fmt: skip


def release(**extra: Any) -> ReleaseRecord:
    return ReleaseRecord.model_validate(release_data("1.5.0", **extra))


def backup(ident: str) -> dict[str, Any]:
    return {"id": ident, "completed_at": NOW - timedelta(hours=1)}


# ---------------------------------------------------------------- branches and paths


@pytest.mark.parametrize(
    ("branch", "target"),
    [
        ("promote/prod/1.5.0-0123456789ab", "prod"),
        ("rollback/prod/1.3.0-0123456789ab-canary", "prod"),
        ("promote/prod/1.5.0/extra", None),  # a nested name is not a promotion branch
        ("promote/../1.5.0", None),
        ("feature/prod/1.5.0", None),
        ("promote/prod/", None),
    ],
)
def test_only_promote_and_rollback_branches_of_one_target_are_promotion_branches(
    branch: str, target: str | None
) -> None:
    match = BRANCH_RE.fullmatch(branch)
    assert (match["target"] if match else None) == target


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("envs/prod/release.yaml", True),
        ("envs/prod/values.yaml", True),
        ("envs/prod/tenants/acme.yaml", True),
        ("envs/prod/env.yaml", False),  # the gate policy lives there
        ("envs/prod/tenants/initech.yaml", False),  # not an enabled tenant
        ("envs/prod/tenants/sub/acme.yaml", False),
        ("envs/prod/tenants/acme.yml", False),
        ("envs/staging/release.yaml", False),
        ("pipelines/odoo.yaml", False),
        ("audit/prod.jsonl", False),
        ("keys/cosign.pub", False),
    ],
)
def test_a_promotion_may_edit_only_the_targets_release_values_and_enabled_tenant_files(
    path: str, ok: bool
) -> None:
    assert allowed_path("prod", path, TENANTS) is ok


def test_wave_tenants_are_read_from_the_tenant_files_the_pr_changes() -> None:
    paths = ["envs/prod/release.yaml", "envs/prod/tenants/globex.yaml", "envs/prod/tenants/acme.yaml"]
    assert _wave_tenants("prod", paths) == ("acme", "globex")
    assert _wave_tenants("prod", ["envs/prod/release.yaml", "envs/prod/values.yaml"]) == ()


# ---------------------------------------------------------------- values files


VALUES = "image:\n  repository: reg/odoo\n  digest: sha256:aa\nreplicas: 2\nodoo:\n  workers: 4\n"


@pytest.mark.parametrize(
    ("base", "head", "problem"),
    [
        (VALUES, VALUES.replace("sha256:aa", "sha256:bb"), None),
        (VALUES, VALUES + "release:\n  version: 1.5.0\n", None),
        (VALUES, VALUES.replace("replicas: 2", "replicas: 9"), "changes keys other than image and release"),
        (
            VALUES,
            VALUES + "extraEnv: [{name: ADMIN, value: x}]\n",
            "changes keys other than image and release",
        ),
        (VALUES, None, "changes keys other than image and release"),  # deleted
        (None, VALUES, "is created by the PR"),
        (VALUES, "image: [unclosed\n", "at the head is not valid YAML"),
    ],
)
def test_a_values_file_may_change_only_in_its_image_and_release_blocks(
    base: str | None, head: str | None, problem: str | None
) -> None:
    problems = _value_edit_problems("envs/prod/values.yaml", base, head)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert problems[0].startswith("envs/prod/values.yaml ")
        assert problem in problems[0]


# ---------------------------------------------------------------- verifications


def verification(seed: str) -> dict[str, Any]:
    return {"revision": seed * 40, "verified_at": "2026-12-06T10:00:00Z"}


MAIN = {
    "version": "1.4.0",
    "verification": verification("a"),
    "previous": {"version": "1.3.0", "verification": verification("b")},
    "tenants": {"acme": {"version": "1.4.0", "verification": verification("c")}},
}


@pytest.mark.parametrize(
    ("head", "forged"),
    [
        ({"version": "1.5.0", "previous": {"version": "1.4.0", "verification": verification("a")}}, []),
        ({"version": "1.5.0", "previous": {"version": "1.3.0", "verification": verification("b")}}, []),
        ({**MAIN, "version": "1.5.0"}, []),  # main's own records, where main has them
        ({"version": "1.5.0", "verification": verification("d")}, ["verification"]),
        ({"version": "1.5.0", "previous": {"verification": verification("d")}}, ["previous.verification"]),
        (
            {"version": "1.5.0", "tenants": {"acme": {"verification": verification("a")}}},
            ["tenants.acme.verification"],  # the env's record is not the tenant's
        ),
        (
            {"version": "1.5.0", "tenants": {"globex": {"verification": verification("c")}}},
            ["tenants.globex.verification"],
        ),
    ],
)
def test_a_promotion_may_carry_only_the_verifications_main_recorded(
    head: dict[str, Any], forged: list[str]
) -> None:
    problems = _verification_problems("prod", MAIN, head)
    assert [p.split(" records ")[1].split(" that ")[0] for p in problems] == forged
    assert all(p.startswith("envs/prod/release.yaml at the head") for p in problems)


def test_a_verification_on_a_new_release_file_is_forged() -> None:
    problems = _verification_problems("prod", {}, {"verification": verification("a")})
    assert len(problems) == 1


# ---------------------------------------------------------------- release record


def test_a_head_release_is_parsed_or_said_why_not() -> None:
    good = release()
    assert _parse_release(good.model_dump_json()) == (good, None)
    assert _parse_release(None) == (None, "is missing or not a YAML mapping")
    assert _parse_release("- a list\n") == (None, "is missing or not a YAML mapping")
    assert _parse_release("{{ not yaml") == (None, "is missing or not a YAML mapping")
    record, why = _parse_release("version: 1.5.0\n")
    assert record is None
    assert why is not None
    assert why.startswith("is not a valid release record (image: ")


# ---------------------------------------------------------------- backups


@pytest.mark.parametrize(
    ("extra", "tenants", "completes", "ids"),
    [
        ({"backup": backup("bk-env")}, (), True, ["bk-env"]),
        ({}, (), True, None),  # the whole env installs without a backup
        ({"backup": backup("bk-env")}, (), False, ["bk-env"]),  # an env without tenants
        (
            {"tenants": {"acme": {"image": IMAGE, "version": "1.5.0", "backup": backup("bk-a")},
                         "globex": {"image": IMAGE, "version": "1.5.0", "backup": backup("bk-g")}}},
            ("acme", "globex"), False, ["bk-a", "bk-g"],
        ),
        (
            {"tenants": {"acme": {"image": IMAGE, "version": "1.5.0",
                                  "backup": backup("bk-a")}}},
            ("acme", "globex"), False, None,  # globex would install without one
        ),
        (
            {"backup": backup("bk-env"),
             "tenants": {"acme": {"image": IMAGE, "version": "1.5.0"}}},
            ("acme",), True, ["bk-env"],  # the last wave: the env-wide backup covers its tenants
        ),
        (
            {"backup": backup("bk-env"),
             "tenants": {"acme": {"image": IMAGE, "version": "1.5.0"}}},
            ("acme",), False, None,  # a canary wave is not covered by the env's backup
        ),
    ],
)  # fmt: skip
def test_backups_cover_every_part_the_pr_installs_or_none_count(
    extra: dict[str, Any], tenants: tuple[str, ...], completes: bool, ids: list[str] | None
) -> None:
    assert _backups(release(**extra), tenants, completes) == ids


def test_no_release_has_no_backups() -> None:
    assert _backups(None, (), True) is None


# ---------------------------------------------------------------- change class


@pytest.mark.parametrize(
    ("classes", "strictest"),
    [
        (["standard"], "standard"),
        (["standard", None], "standard"),
        (["standard", "normal"], "normal"),
        (["standard", "emergency", "normal"], "emergency"),
        ([None], "normal"),  # nothing claimed: not standard
        ([], "normal"),
        (["None"], "normal"),  # a run that recorded no class
    ],
)
def test_the_strictest_claimed_class_governs(classes: list[str | None], strictest: str) -> None:
    assert _strictest(classes) == strictest


def facts(
    *,
    run: AuditEntry | None,
    rel: ReleaseRecord | None,
    tenants: tuple[str, ...] = (),
    completes: bool = True,
    entries: tuple[AuditEntry, ...] = (),
    runs: tuple[AuditEntry, ...] = (),
) -> PullFacts:
    head = _Head(["envs/prod/release.yaml"], {"envs/prod/release.yaml": "x"}, [])
    return _facts(
        pull=pull(), kind="promotion", target="prod", head="f" * 40, seen=head, content="ch2:c", release=rel,
        run=run, runs=list(runs), entries=list(entries), tenants=tenants, completes=completes, problems=[],
    )  # fmt: skip


def test_content_no_run_pushed_is_normal_and_destructive() -> None:
    seen = facts(run=None, rel=release(change_class="standard"))
    assert (seen.change_class, seen.destructive) == ("normal", True)


def test_the_run_and_the_release_both_claim_and_the_strictest_wins() -> None:
    run = entry("promotion", "dev-anna", change_class="standard", destructive=False)
    assert facts(run=run, rel=release(change_class="standard")).change_class == "standard"
    assert facts(run=run, rel=release(change_class="normal")).change_class == "normal"
    assert facts(run=run, rel=release(change_class="standard", destructive=True)).destructive is True
    assert facts(
        run=entry("promotion", "a", change_class="normal", destructive=True), rel=release()
    ).destructive


def test_a_wave_is_classed_by_its_tenants_records_not_the_envs() -> None:
    run = entry("promotion", "dev-anna", change_class="standard")
    rel = release(
        change_class="standard",
        tenants={
            "acme": {"image": IMAGE, "version": "1.5.0", "change_class": "emergency", "destructive": True}
        },
    )
    seen = facts(run=run, rel=rel, tenants=("acme",), completes=False)
    assert (seen.change_class, seen.destructive) == ("emergency", True)


def test_promoters_are_every_actor_of_a_run_on_the_branch_once() -> None:
    runs = (entry("promotion", "dev-bob"), entry("promotion", "dev-anna"), entry("promotion", "dev-bob"))
    assert facts(run=runs[-1], rel=release(), runs=runs).promoters == ("dev-anna", "dev-bob")


def test_a_backup_counts_only_when_the_audit_log_recorded_it() -> None:
    run = entry("promotion", "dev-anna", change_class="normal")
    rel = release(backup=backup("bk-1"))
    unaudited = facts(run=run, rel=rel)
    assert (unaudited.backup_recorded, unaudited.backup_ids) == (False, ("bk-1",))
    assert unaudited.problems == (
        "the head records backup(s) bk-1 that audit/prod.jsonl does not "
        "(record backups with promote --backup-id)",
    )
    audited = facts(run=run, rel=rel, entries=(entry("backup", "dev-anna", id="bk-1"),))
    assert (audited.backup_recorded, audited.problems) == (True, ())
    other = facts(run=run, rel=rel, entries=(entry("backup", "dev-anna", id="bk-2"),))
    assert other.backup_recorded is False
    assert facts(run=run, rel=release()).backup_recorded is False  # none recorded


def test_the_emergency_comes_from_the_head_release() -> None:
    run = entry("promotion", "dev-anna", change_class="emergency")
    rel = release(emergency={"reason": "payroll broken", "ticket": "INC-7"})
    assert facts(run=run, rel=rel).emergency == Emergency("payroll broken", "INC-7")
    assert facts(run=run, rel=release()).emergency is None


def test_supply_evidence_is_what_the_matched_run_recorded() -> None:
    supply = {"signature": {"ok": True, "text": "verified (key k)"}, "scan": "forged text"}
    seen = facts(
        run=entry("promotion", "a", supply=supply, wave="canary", image="i", version="1.5.0"), rel=None
    )
    assert seen.supply("signature") == SupplyResult(ok=True, text="verified (key k)")
    assert seen.supply("scan") is None  # not a recorded result
    assert seen.supply("rehearsal") is None
    assert (seen.wave, seen.image, seen.version) == ("canary", "i", "1.5.0")
    assert facts(run=None, rel=release()).supply("signature") is None
    assert facts(run=None, rel=release()).version == "1.5.0"


# ---------------------------------------------------------------- reviews at older commits


def test_a_review_at_an_older_commit_is_bound_to_that_commits_content() -> None:
    files = {"envs/prod/release.yaml": "version: 1.5.0\n", "envs/prod/values.yaml": "image: {digest: a}\n"}
    seen = facts(run=None, rel=None)
    seen = PullFacts(**{**seen.__dict__, "hashed_paths": tuple(sorted(files))})
    old = {("old", p): t for p, t in files.items()}
    old[("older", "envs/prod/release.yaml")] = "version: 1.4.0\n"
    old[("older", "envs/prod/values.yaml")] = files["envs/prod/values.yaml"]

    def read(sha: str, path: str) -> str | None:
        return old.get((sha, path))

    assert content_at(read, seen.head, seen) == seen.content_hash
    assert content_at(read, "old", seen) == hash_files(files, release_path="envs/prod/release.yaml")
    assert content_at(read, "older", seen) != content_at(read, "old", seen)
    assert content_at(read, "gone", seen) is None  # force-pushed away

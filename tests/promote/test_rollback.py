"""`rollback ENV [--tenants a,b | --wave NAME]` (gitops/promote/rollback.py): scoped rollbacks, and an unknown
schema said as unknown, through the CLI on a real git config repo and the local forge; which tenants a scope
names (rollback_tenants), by value."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.audit import read_entries
from gitops.cli.main import main
from gitops.config.loader import ConfigRepo, load_config
from gitops.config.models import ReleaseRecord, ReleaseRef
from gitops.errors import UsageError
from gitops.promote.edit import render_release
from gitops.promote.promotion import PromoteOptions
from gitops.promote.rollback import rollback_tenants
from gitops.promote.service import schema_changed
from gitops.promote.waves import _explicit_wave
from tests.fixtures.configrepo import git
from tests.fixtures.promote import NOW, Stage, release_data

PROD_IMAGE = (
    "registry.example.com/acme/odoo-custom"
    "@sha256:817ba1f956e4fdecb25bf4e3c49f81a21db3fb90d0621101169156d12ffd08cc"
)
UNKNOWN_132 = (
    "it is unknown whether 1.3.2 changed the database schema (no schema fingerprint recorded); treated as a "
    "schema change (fail closed): re-run with --with-db-restore to restore a database backup"
)


def cli(capsys: pytest.CaptureFixture[str], stage: Stage, *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--config-repo", str(stage.repo.remote), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def changed_files(stage: Stage, branch: str) -> list[str]:
    return git(stage.repo.remote, "diff", "--name-only", "main..." + branch).split()


def on_branch(stage: Stage, branch: str, path: str) -> str:
    return git(stage.repo.remote, "show", f"{branch}:{path}")


def edit_prod_release(stage: Stage, change: Any, message: str) -> None:
    stage.pull()
    path = stage.repo.work / "envs/prod/release.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(render_release(data))
    stage.repo.commit_all(message)


def merged_canary(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    """1.5.0 promoted to prod's canary wave (acme-build) and merged; the rest still runs 1.3.2."""
    code, promoted = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0 and promoted["wave"] == "canary"
    number = str(promoted["pull_request"]["number"])
    for user in ("cab-ines", "cab-jonas"):
        assert cli(capsys, stage, "pr", "approve", number, "--as", user)[0] == 0
    assert cli(capsys, stage, "pr", "merge", number)[0] == 0


def add_backup(stage: Stage, backup_id: str, completed: Any) -> None:
    def change(data: dict[str, Any]) -> None:
        data["backup"] = {"id": backup_id, "completed_at": completed}

    edit_prod_release(stage, change, f"backup {backup_id} recorded")


# ---------------------------------------------------------------- schema_changed, by value


def _ref(version: str, **kw: Any) -> ReleaseRef:
    data = release_data(version, **kw)
    return ReleaseRef.model_validate({k: data[k] for k in ReleaseRef.model_fields if k in data})


NEWER = {"acme_project_costing": "17.0.1.5.0", "acme_payroll_bridge": "17.0.1.0.3"}


def _unknown_schemas(data: dict[str, Any]) -> dict[str, Any]:
    modules = {n: {k: v for k, v in m.items() if k != "schema"} for n, m in data["modules"].items()}
    return {**data, "modules": modules}


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (release_data("1.4.0", modules=NEWER, destructive=True), _ref("1.3.0"), True),
        # every changed module records the same schema fingerprint (build's): code only
        (release_data("1.4.0", modules=NEWER), _ref("1.3.0"), False),
        (_unknown_schemas(release_data("1.4.0", modules=NEWER)), _ref("1.3.0"), None),
        (
            {**_unknown_schemas(release_data("1.4.0", modules=NEWER)), "change_class": "standard"},
            _ref("1.3.0"),
            None,
        ),  # a recorded class alone is no evidence
        (release_data("1.4.0"), _ref("1.3.0"), False),  # the same modules
        ({**release_data("1.4.0"), "destructive": True}, _ref("1.3.0"), True),
    ],
)
def test_schema_changed_is_yes_no_or_unknown(
    current: dict[str, Any], previous: ReleaseRef, expected: Any
) -> None:
    assert schema_changed(ReleaseRecord.model_validate(current), previous) is expected


# ---------------------------------------------------------------- whole environment


def test_unknown_schema_is_said_as_unknown(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    code, result = cli(capsys, stage, "rollback", "prod")
    assert code == 3
    assert result["reasons"] == [UNKNOWN_132]
    assert "changed the database schema;" not in result["message"]


def test_a_known_schema_change_is_said_as_known(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    def fingerprints(data: dict[str, Any]) -> None:
        data["destructive"] = True  # promote's diff found a destructive change

    edit_prod_release(stage, fingerprints, "destructive release recorded")
    code, result = cli(capsys, stage, "rollback", "prod")
    assert code == 3
    assert result["reasons"] == [
        "release 1.3.2 changed the database schema; rolling back the image alone would leave the schema "
        "ahead of the code. Re-run with --with-db-restore to restore a database backup"
    ]


def test_equal_module_schemas_roll_back_without_a_restore(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    def fingerprints(data: dict[str, Any]) -> None:  # the previous release: other code, the same schemas
        data["previous"]["modules"] = {
            name: {**record, "checksum": "0" * 40} for name, record in data["modules"].items()
        }

    edit_prod_release(stage, fingerprints, "same schema fingerprints recorded")
    code, result = cli(capsys, stage, "rollback", "prod", "--actor", "ops")
    assert code == 0, result
    assert result["tenants"] == ["acme-build", "globex-consult", "initech-services", "northwind-civil"]
    assert result["wave"] is None and not result["destructive"]
    assert "envs/prod/values.yaml" in changed_files(stage, result["branch"])


def test_all_tenants_named_is_the_whole_environment(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    add_backup(stage, "pg-all", NOW - timedelta(days=30))
    every = "acme-build,globex-consult,initech-services,northwind-civil"
    code, result = cli(capsys, stage, "rollback", "prod", "--tenants", every, "--with-db-restore")
    assert code == 0, result
    assert result["wave"] is None and result["branch"].startswith("rollback/prod/1.3.1-")
    assert len(changed_files(stage, result["branch"])) == 6  # release, values and the four tenant files


# ---------------------------------------------------------------- a bad canary, undone alone


def test_a_bad_canary_is_rolled_back_alone(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    merged_canary(stage, capsys)
    code, result = cli(capsys, stage, "rollback", "prod", "--wave", "canary")
    assert code == 3
    assert result["reasons"] == [
        "it is unknown whether 1.5.0 changed the database schema of acme-build (release.yaml records no "
        "modules or schema fingerprint for a tenant's own release); treated as a schema change "
        "(fail closed): re-run with --with-db-restore to restore a database backup"
    ]
    add_backup(stage, "pg-before-1.3.2", NOW - timedelta(days=40))  # older than prod's 1.3.2 rollout
    code, result = cli(capsys, stage, "rollback", "prod", "--wave", "canary", "--with-db-restore")
    assert code == 3
    assert result["reasons"] == [
        "--with-db-restore: no backup recorded for 1.5.0 of acme-build (release.backup, completed after "
        "prod's 1.3.2 was promoted)"
    ]
    add_backup(stage, "pg-acme-canary", NOW - timedelta(hours=1))
    code, result = cli(
        capsys, stage, "rollback", "prod", "--wave", "canary", "--with-db-restore", "--actor", "ops"
    )
    assert code == 0, result
    assert (result["kind"], result["wave"], result["tenants"]) == ("rollback", "canary", ["acme-build"])
    branch = result["branch"]
    assert branch == "rollback/prod/1.3.2-817ba1f956e4-canary"
    assert changed_files(stage, branch) == ["envs/prod/release.yaml", "envs/prod/tenants/acme-build.yaml"]
    release = yaml.safe_load(on_branch(stage, branch, "envs/prod/release.yaml"))
    main_release = yaml.safe_load(git(stage.repo.remote, "show", "main:envs/prod/release.yaml"))
    assert release["tenants"]["acme-build"]["image"] == PROD_IMAGE
    assert release["tenants"]["acme-build"]["version"] == "1.3.2"
    assert {k: v for k, v in release.items() if k != "tenants"} == {
        k: v for k, v in main_release.items() if k != "tenants"
    }  # the env's own release is untouched
    assert PROD_IMAGE.partition("@")[2] in on_branch(stage, branch, "envs/prod/tenants/acme-build.yaml")
    _, shown = cli(capsys, stage, "pr", "show", str(result["pull_request"]["number"]))
    assert "backup `pg-acme-canary`" in shown["body"]
    stage.pull()
    entry = read_entries(stage.repo.work / "audit" / "prod.jsonl")[-1]
    assert (entry.kind, entry.data["tenants"], entry.data["wave"]) == ("rollback", ["acme-build"], "canary")
    assert entry.data["restore_from_backup"] == "pg-acme-canary"


def test_tenants_on_the_env_release_go_back_to_the_previous_one(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    code, result = cli(capsys, stage, "rollback", "prod", "--tenants", "northwind-civil")
    assert code == 3
    assert result["reasons"] == [
        "it is unknown whether 1.3.2 changed the database schema of northwind-civil (no schema fingerprint "
        "recorded); treated as a schema change (fail closed): re-run with --with-db-restore to restore a "
        "database backup"
    ]
    add_backup(stage, "pg-2026-11-03", NOW - timedelta(days=35))
    code, result = cli(
        capsys,
        stage,
        "rollback",
        "prod",
        "--tenants",
        "northwind-civil",
        "--with-db-restore",
        "--actor",
        "ops",
    )
    assert code == 0, result
    assert result["tenants"] == ["northwind-civil"] and result["wave"].startswith("tenants-")
    assert result["branch"].startswith("rollback/prod/1.3.1-")
    assert changed_files(stage, result["branch"]) == [
        "envs/prod/release.yaml",
        "envs/prod/tenants/northwind-civil.yaml",
    ]
    release = yaml.safe_load(on_branch(stage, result["branch"], "envs/prod/release.yaml"))
    assert release["version"] == "1.3.2" and release["tenants"]["northwind-civil"]["version"] == "1.3.1"


def test_tenants_on_different_releases_are_rolled_back_separately(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    merged_canary(stage, capsys)
    code, result = cli(capsys, stage, "rollback", "prod", "--tenants", "acme-build,northwind-civil")
    assert code == 2
    assert result["message"].startswith(
        "acme-build runs a release ahead of prod's 1.3.2 and northwind-civil runs 1.3.2: roll them back "
        "separately (--tenants acme-build, then --tenants northwind-civil)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tenants", "acme-build,nobody"), "--tenants: nobody not enabled tenants of 'prod'"),
        (("--wave", "pilot"), "--wave 'pilot': no such wave for 'prod'"),
        (("--wave", "canary", "--tenants", "acme-build"), "--tenants and --wave: give one of them"),
    ],
)
def test_unknown_scope_is_a_usage_error(
    stage: Stage, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    before = git(stage.repo.remote, "for-each-ref", "--format=%(refname)")
    code, result = cli(capsys, stage, "rollback", "prod", *args)
    assert code == 2 and result["message"].startswith(message)
    assert git(stage.repo.remote, "for-each-ref", "--format=%(refname)") == before  # nothing written


def test_a_whole_rollback_past_a_canary_fails_closed(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    def same_modules(data: dict[str, Any]) -> None:
        data["previous"]["modules"] = data["modules"]  # 1.3.2 → 1.3.1 alone would change no schema

    edit_prod_release(stage, same_modules, "previous release with the same modules")
    assert cli(capsys, stage, "rollback", "prod")[0] == 0  # no canary: nothing unknown
    merged_canary(stage, capsys)
    code, result = cli(capsys, stage, "rollback", "prod")
    assert code == 3
    assert result["reasons"] == [
        "it is unknown whether 1.3.2 changed the database schema (acme-build runs a later release whose "
        "schema release.yaml does not record); treated as a schema change (fail closed): re-run with "
        "--with-db-restore to restore a database backup"
    ]


# ---------------------------------------------------------------- rollback_tenants, by value


@pytest.fixture(scope="module")
def examples() -> ConfigRepo:
    return load_config(Path(__file__).resolve().parents[2])


def scope(repo: ConfigRepo, env: str, **chosen: Any) -> tuple[str | None, tuple[str, ...]]:
    options = PromoteOptions(remote="unused", workdir=Path("unused"), actor="ci-bot", **chosen)
    return rollback_tenants(repo, repo.env(env), options)


def test_no_scope_is_the_whole_environment(examples: ConfigRepo) -> None:
    assert scope(examples, "prod") == (None, ())
    assert scope(examples, "staging") == (None, ())


def test_a_wave_is_rolled_back_with_the_tenants_the_pipeline_gives_it(examples: ConfigRepo) -> None:
    assert scope(examples, "prod", wave="canary") == ("canary", ("acme-build",))
    wave, tenants = scope(examples, "prod", wave="rest")
    assert wave == "rest"
    assert sorted(tenants) == ["globex-consult", "initech-services", "northwind-civil"]


def test_named_tenants_are_one_explicit_wave_whatever_their_order(examples: ConfigRepo) -> None:
    one = scope(examples, "prod", tenants=("initech-services", "acme-build", "acme-build"))
    assert one == (_explicit_wave(["acme-build", "initech-services"]), ("acme-build", "initech-services"))
    assert scope(examples, "prod", tenants=("acme-build", "initech-services")) == one
    assert scope(examples, "prod", tenants=("acme-build",))[0] != one[0]


@pytest.mark.parametrize(
    ("env", "chosen", "message"),
    [
        ("prod", {"tenants": ("acme-build", "wayne")}, "--tenants: wayne not enabled tenants of 'prod'"),
        ("prod", {"wave": "late"}, "--wave 'late': no such wave for 'prod'"),
        ("staging", {"tenants": ("acme-build",)}, "--tenants/--wave: 'staging' has no enabled tenants"),
        ("staging", {"wave": "canary"}, "--tenants/--wave: 'staging' has no enabled tenants"),
    ],
)
def test_a_scope_the_environment_does_not_have_is_a_usage_error(
    examples: ConfigRepo, env: str, chosen: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        scope(examples, env, **chosen)
    assert caught.value.message == message

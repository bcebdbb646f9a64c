"""`plan`: semver bumps, module changes, pipeline direction, soak time, waves; human and JSON output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.config.loader import load_config
from gitops.config.models import ModuleRecord
from gitops.errors import UsageError
from gitops.promote.plan import GateStatus, make_plan, module_changes, version_bump
from gitops.promote.stage_seams import engine_window_check
from tests.fixtures.configrepo import copy_examples
from tests.fixtures.promote import CLOSED, REOPENS

DESTRUCTIVE = (
    "needed on the PR: 2 from cab (rule destructive); and a recorded database backup (promote --backup-id)"
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_examples(tmp_path / "cfg")


@pytest.mark.parametrize(
    ("old", "new", "bump"),
    [
        ("1.3.2", "1.4.0", "minor"),
        ("1.3.2", "2.0.0", "major"),
        ("1.3.2", "1.3.3", "patch"),
        ("1.4.0-rc.1", "1.4.0", "prerelease"),
        ("1.4.0", "1.4.0", "none"),
        ("1.4.0", "1.3.9", "downgrade"),
        ("1.4.0+a", "1.4.0+b", "build"),
        (None, "0.1.0", "initial"),
    ],
)
def test_version_bump(old: str | None, new: str, bump: str) -> None:
    assert version_bump(old, new) == bump


def test_module_changes() -> None:
    a = ModuleRecord(version="17.0.1.0.0", checksum="a" * 40)
    b = ModuleRecord(version="17.0.1.1.0", checksum="b" * 40)
    changes = module_changes({"x": a, "y": a, "gone": a}, {"x": a, "y": b, "new": b})
    assert [(c.name, c.change) for c in changes] == [("gone", "removed"), ("new", "added"), ("y", "changed")]
    changed = changes[2]
    assert (changed.from_version, changed.to_version) == ("17.0.1.0.0", "17.0.1.1.0")


def test_staging_to_prod_plan(repo: Path) -> None:
    plan = make_plan(load_config(repo), "staging", "prod", now=NOW)
    assert plan.step == "forward" and plan.allowed and not plan.reasons
    assert (plan.version_from, plan.version_to, plan.bump) == ("1.3.2", "1.4.0", "minor")
    assert {(m.name, m.change) for m in plan.modules} == {
        ("acme_project_costing", "changed"),
        ("acme_retention", "added"),
        ("acme_site_diary", "removed"),
    }
    assert [(w.name, w.tenants) for w in plan.waves] == [
        ("canary", ("acme-build",)),
        ("rest", ("globex-consult", "initech-services", "northwind-civil")),
    ]
    # the examples record no per-module schema fingerprints and acme_retention is new: without the addons
    # repo promote classifies the change as destructive (fail closed), and plan shows what promote will ask
    assert plan.approvals == {"rule": "destructive", "count": 2, "from": ["cab"], "require_backup": True}
    assert plan.soak.satisfied and plan.soak.required == timedelta(hours=24)


def test_soak_not_over(repo: Path) -> None:
    verified = datetime(2026, 11, 17, 10, 9, 13, tzinfo=UTC)
    plan = make_plan(load_config(repo), "staging", "prod", now=verified + timedelta(hours=5))
    assert not plan.allowed and not plan.soak.satisfied
    assert plan.reasons == ("soak time in 'staging' not over: 5h of 1d",)


def test_unverified_source_blocks(repo: Path) -> None:
    release = repo / "envs/staging/release.yaml"
    text = release.read_text()
    release.write_text(text[: text.index("verification:")])
    plan = make_plan(load_config(repo), "staging", "prod", now=NOW)
    assert not plan.allowed and "not been verified" in plan.reasons[0]


def test_skipping_a_stage_is_refused(repo: Path) -> None:
    plan = make_plan(load_config(repo), "dev", "prod", now=NOW)
    assert plan.step == "skip" and not plan.allowed
    assert "does not allow skipping staging" in plan.reasons[0]


def test_going_backwards_is_refused(repo: Path) -> None:
    plan = make_plan(load_config(repo), "prod", "staging", now=NOW)
    assert plan.step == "backward" and not plan.allowed and "rollback" in plan.reasons[0]


def test_same_env_is_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError):
        make_plan(load_config(repo), "prod", "prod", now=NOW)


def test_up_to_date(repo: Path) -> None:
    plan = make_plan(load_config(repo), "dev", "staging", now=NOW)
    assert plan.up_to_date and plan.modules == ()


def test_cli_json_matches_readme_keys(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "staging", "prod", "--config-repo", str(repo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {
        "source",
        "target",
        "pipeline",
        "step",
        "allowed",
        "reasons",
        "up_to_date",
        "image",
        "version",
        "modules",
        "change_class",
        "destructive",
        "source_verified",
        "soak",
        "tenants",
        "next_wave",
        "waves",
        "window",
        "gates",
        "approvals",
    }
    assert data["version"] == {"from": "1.3.2", "to": "1.4.0", "bump": "minor"}
    assert data["image"]["changed"] is True
    assert [m["name"] for m in data["modules"]["added"]] == ["acme_retention"]
    assert data["waves"][0] == {
        "name": "canary",
        "tenants": ["acme-build"],
        "soak": "4h",
        "state": "next",
        "reasons": [],
    }
    assert data["next_wave"] == {"name": "canary", "tenants": ["acme-build"], "completes_env": False}
    assert set(data["window"]) == {
        "open",
        "blocked_by",
        "next_open",
        "next_open_local",
        "open_until",
        "timezone",
    }
    assert [g["name"] for g in data["gates"]] == ["window", "approvals", "scan", "signature"]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for key in data:
        assert f"`{key}`" in readme, f"plan JSON key {key!r} is not documented in the README"


def test_cli_human_and_exit_3_when_blocked(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "dev", "prod", "--config-repo", str(repo)]) == 3
    out = capsys.readouterr().out
    assert "NOT allowed" in out and "does not allow skipping staging" in out


def test_unknown_env_is_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "staging", "qa", "--config-repo", str(repo)]) == 2
    assert "unknown environment 'qa'" in capsys.readouterr().err


def test_config_repo_as_git_url(config_repo, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["plan", "staging", "prod", "--config-repo", config_repo.remote.as_uri(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["target"] == "prod"


def test_config_repo_as_bare_repository_path(config_repo, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["plan", "staging", "prod", "--config-repo", str(config_repo.remote), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "staging"


# ---------------------------------------------------------------- window and gates


def test_a_closed_window_is_shown_with_the_next_opening_in_the_env_time_zone(repo: Path) -> None:
    plan = make_plan(load_config(repo), "staging", "prod", now=CLOSED, window_check=engine_window_check)
    assert plan.allowed  # promote opens the PR in a freeze; the gate keeps it pending
    assert plan.window is not None and plan.window.to_dict() == {
        "open": False,
        "blocked_by": ["payroll/payroll"],
        "next_open": "2027-01-12T18:00:00Z",
        "next_open_local": "2027-01-12T19:00:00+01:00",
        "open_until": None,
        "timezone": "Europe/Berlin",
    }
    assert REOPENS.isoformat() == "2027-01-12T18:00:00+00:00"
    assert plan.gate_status[0] == GateStatus(
        "window",
        "not met",
        "closed now by payroll/payroll; next opening 2027-01-12 19:00 Europe/Berlin (2027-01-12T18:00:00Z)",
    )


def test_an_open_window_is_met_until_it_closes(repo: Path) -> None:
    evening = datetime(2026, 12, 8, 18, 30, tzinfo=UTC)  # Tuesday 19:30 in Berlin
    plan = make_plan(load_config(repo), "staging", "prod", now=evening, window_check=engine_window_check)
    assert plan.window is not None and plan.window.open and plan.window.blocked_by == ()
    window = plan.gate_status[0]
    assert (window.name, window.status) == ("window", "met")
    assert window.detail.startswith("open now until 2026-12-08 ")
    assert "Europe/Berlin (2026-12-08T" in window.detail


def test_gates_follow_the_stage_and_say_what_plan_cannot_know(repo: Path) -> None:
    plan = make_plan(load_config(repo), "staging", "prod", now=NOW)
    assert [g.to_dict() for g in plan.gate_status] == [
        {"name": "window", "status": "checked by promote", "detail": "the window verdict was not computed"},
        {"name": "approvals", "status": "pending", "detail": DESTRUCTIVE},
        {
            "name": "scan",
            "status": "checked by promote",
            "detail": "a passing scan attestation (fail at HIGH and above)",
        },
        {
            "name": "signature",
            "status": "checked by promote",
            "detail": "the image's signature, with the key in signing.public_key",
        },
    ]
    pipeline = repo / "pipelines/odoo.yaml"
    pipeline.write_text(
        pipeline.read_text().replace("gates: [window, approvals, scan, signature]\n", "gates: [scan]\n")
    )
    plan = make_plan(load_config(repo), "staging", "prod", now=NOW)
    assert [g.name for g in plan.gate_status] == ["scan"]


def test_a_destructive_release_needs_a_backup_as_well(repo: Path) -> None:
    release = repo / "envs/staging/release.yaml"
    release.write_text(
        release.read_text().replace("change_class: normal\n", "change_class: normal\ndestructive: true\n")
    )
    plan = make_plan(load_config(repo), "staging", "prod", now=NOW)
    assert plan.gate_status[1] == GateStatus(
        "approvals",
        "pending",
        "needed on the PR: 2 from cab (rule destructive); "
        "and a recorded database backup (promote --backup-id)",
    )


def test_human_output_shows_the_next_wave_the_window_and_the_gates(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "staging", "prod", "--config-repo", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "next            wave canary: acme-build\n" in out
    assert f"\napprovals   pending             {DESTRUCTIVE}\n" in out
    assert "\ncanary      next      acme-build\n" in out
    assert "\nrest        waiting   globex-consult, initech-services, northwind-civil" in out


def test_approvals_are_the_ones_promote_asks_for_without_an_addons_diff(repo: Path) -> None:
    release = repo / "envs/staging/release.yaml"
    release.write_text(release.read_text().replace("change_class: normal\n", "change_class: standard\n"))
    plan = make_plan(load_config(repo), "staging", "prod", now=NOW)
    assert plan.change_class == "standard"  # as recorded with the source release
    assert plan.approvals["rule"] == "destructive"  # but modules changed, schemas unknown: fails closed
    assert plan.gate_status[1].detail == DESTRUCTIVE


def test_human_output_shows_a_blocked_wave_with_its_reasons(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging = load_config(repo).env("staging").release
    assert staging is not None
    release = repo / "envs/prod/release.yaml"
    release.write_text(
        release.read_text()
        + f"tenants:\n  acme-build:\n    image: {staging.image}\n    version: {staging.version}\n"
    )
    assert main(["plan", "staging", "prod", "--config-repo", str(repo)]) == 3
    out = capsys.readouterr().out
    reason = "wave 'canary': tenant acme-build is not verified yet (odoo-gitops verify)"
    assert "verdict         NOT allowed\n" in out
    assert "next            wave rest: globex-consult, initech-services, northwind-civil" in out
    assert "\ncanary      done      acme-build\n" in out
    assert (
        f"\nrest        blocked   globex-consult, initech-services, northwind-civil\n{'':<22}- {reason}\n"
        in out
    )
    assert out.endswith(f"promote would refuse because:\n  - {reason}\n")

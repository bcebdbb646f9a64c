"""`odoo-gitops window check ENV --emergency`: break-glass is one audited path.

Nothing prints OVERRIDDEN before the override is in audit/<env>.jsonl on the config repo's main; the entry
names the environment, the engineer who broke glass, the reason, the ticket, the windows violated and the
expiry; re-running is idempotent; a failed audit write overrides nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.audit.log import parse_entries
from gitops.cli.main import main
from tests.audit.helpers import remote_main
from tests.fixtures.configrepo import ConfigRepoFixture, git

Run = Callable[..., tuple[int, str, str]]
CLOSED_AT = "2026-12-30T19:00:00Z"  # prod: month-end close, reopens 2027-01-12T18:00:00Z
EMERGENCY = ("--emergency", "--reason", "payroll export broken", "--ticket", "INC-7")


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


@pytest.fixture
def engineer(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GITHUB_ACTOR", "rel-maria")
    return "rel-maria"


def check(run: Run, repo: ConfigRepoFixture, *extra: str, at: str = CLOSED_AT) -> tuple[int, str, str]:
    return run("window", "check", "prod", "--at", at, *extra, "--config-repo", str(repo.work))


def audit_on_main(repo: ConfigRepoFixture, env: str = "prod") -> list[dict[str, object]]:
    listing = git(repo.remote, "ls-tree", "--name-only", "main", "audit/")
    if f"audit/{env}.jsonl" not in listing.splitlines():
        return []
    text = git(repo.remote, "show", f"main:audit/{env}.jsonl")
    return [e.to_dict() for e in parse_entries(text, f"audit/{env}.jsonl")]


def test_emergency_override_exits_0_with_a_warning_and_the_record(
    run: Run, config_repo: ConfigRepoFixture, engineer: str
) -> None:
    code, out, err = check(run, config_repo, *EMERGENCY, "--json")
    data = json.loads(out)
    assert code == 0
    assert data["open"] is False
    assert data["override"]["who"] == "rel-maria" and data["override"]["ticket"] == "INC-7"
    assert [w["window"] for w in data["override"]["windows_violated"]] == ["close"]
    assert "WARNING: break-glass override" in err


def test_the_override_is_on_main_before_it_is_reported(
    run: Run, config_repo: ConfigRepoFixture, engineer: str
) -> None:
    before = remote_main(config_repo)
    code, out, err = check(run, config_repo, *EMERGENCY, "--json")
    data = json.loads(out)
    [entry] = audit_on_main(config_repo)
    assert code == 0
    assert (entry["kind"], entry["env"], entry["actor"], entry["seq"]) == ("override", "prod", engineer, 1)
    record = entry["data"]
    assert isinstance(record, dict)
    assert record == {**data["override"], "via": "window check"}
    assert (record["env"], record["who"], record["reason"], record["ticket"]) == (
        "prod", engineer, "payroll export broken", "INC-7",
    )  # fmt: skip
    assert record["expires"] == "2026-12-30T23:00:00Z"  # 4h after the instant: the window reopens later
    assert entry["key"] == data["audit"]["key"] and data["audit"]["seq"] == 1
    assert (data["audit"]["ref"], data["audit"]["commit"]) == ("origin/main", before)
    assert f"read origin/main @ {before}" in err and "audit/prod.jsonl seq 1" in err
    message = git(config_repo.remote, "log", "-1", "--format=%B", "main")
    assert "Audit-Env: prod" in message


def test_rerunning_is_idempotent(run: Run, config_repo: ConfigRepoFixture, engineer: str) -> None:
    assert check(run, config_repo, *EMERGENCY)[0] == 0
    head = remote_main(config_repo)
    code, out, _ = check(run, config_repo, *EMERGENCY, "--json")
    assert code == 0 and json.loads(out)["audit"]["seq"] == 1
    assert remote_main(config_repo) == head and len(audit_on_main(config_repo)) == 1


def test_the_actor_option_names_who_broke_glass(
    run: Run, config_repo: ConfigRepoFixture, engineer: str
) -> None:
    code, out, _ = check(run, config_repo, *EMERGENCY, "--actor", "dev-bob", "--json")
    [entry] = audit_on_main(config_repo)
    assert code == 0 and json.loads(out)["override"]["who"] == "dev-bob"
    assert (
        entry["actor"] == "dev-bob" and isinstance(entry["data"], dict) and entry["data"]["who"] == "dev-bob"
    )


@pytest.mark.parametrize(
    ("expires", "until"),
    [("2h", "2026-12-30T21:00:00Z"), ("2026-12-31T09:30:00+01:00", "2026-12-31T08:30:00Z")],
)
def test_expires_sets_the_end_of_the_override(
    run: Run, config_repo: ConfigRepoFixture, engineer: str, expires: str, until: str
) -> None:
    code, out, _ = check(run, config_repo, *EMERGENCY, "--expires", expires, "--json")
    [entry] = audit_on_main(config_repo)
    assert code == 0 and json.loads(out)["override"]["expires"] == until
    assert isinstance(entry["data"], dict) and entry["data"]["expires"] == until


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--emergency", "--reason", "x"), "--emergency needs --ticket"),
        (("--emergency", "--ticket", "T"), "--emergency needs --reason"),
        (("--emergency", "--reason", " ", "--ticket", " "), "--emergency needs --reason and --ticket"),
        # invisible text is blank: a zero-width space, a word joiner, a control character
        (
            ("--emergency", "--reason", "\u200b", "--ticket", "\u2060\x07"),
            "--emergency needs --reason and --ticket",
        ),
        ((*EMERGENCY, "--expires", "25h"), "at most 24h later"),
        ((*EMERGENCY, "--expires", "2026-12-30T18:00:00Z"), "must be after 2026-12-30T19:00:00Z"),
        ((*EMERGENCY, "--expires", "soon"), "--expires 'soon' is not an ISO 8601 date-time"),
        (("--expires", "2h"), "--expires/--actor only apply with --emergency"),
        (("--actor", "dev-bob"), "--expires/--actor only apply with --emergency"),
    ],
)
def test_bad_break_glass_input_exits_2_and_writes_nothing(
    run: Run, config_repo: ConfigRepoFixture, engineer: str, args: tuple[str, ...], message: str
) -> None:
    before = remote_main(config_repo)
    code, out, err = check(run, config_repo, *args)
    assert code == 2 and message in err
    assert "OVERRIDDEN" not in out + err and remote_main(config_repo) == before


def test_a_failed_audit_write_overrides_nothing(
    run: Run, config_repo: ConfigRepoFixture, engineer: str
) -> None:
    hook = config_repo.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = remote_main(config_repo)
    code, out, err = check(run, config_repo, *EMERGENCY)
    assert (
        code == 3
    )  # the server refused the push: a protected main (gitops.gitstore.checkout.ProtectedBranch)
    assert "main is protected" in err
    assert "OVERRIDDEN" not in out + err and "break-glass override" not in out + err
    assert remote_main(config_repo) == before and audit_on_main(config_repo) == []


def test_emergency_when_open_needs_no_override(
    run: Run, config_repo: ConfigRepoFixture, engineer: str
) -> None:
    before = remote_main(config_repo)
    code, out, _ = check(run, config_repo, "--emergency", "--reason", "r", "--ticket", "t", "--json",
                         at="2026-01-13T19:30:00Z")  # fmt: skip
    assert code == 0 and "override" not in json.loads(out)
    assert remote_main(config_repo) == before  # nothing was overridden, nothing audited


def test_the_calendars_on_main_decide_not_a_local_edit(
    run: Run, config_repo: ConfigRepoFixture, engineer: str
) -> None:
    (config_repo.work / "calendars" / "month-end.yaml").write_text(
        "timezone: Europe/Berlin\nwindows: []\n"
    )  # an uncommitted edit that would open the window
    code, out, _ = check(run, config_repo, *EMERGENCY, "--json")
    assert code == 0 and json.loads(out)["override"]["windows_violated"][0]["window"] == "close"
    assert len(audit_on_main(config_repo)) == 1


def test_a_config_directory_without_git_cannot_be_overridden(
    run: Run, window_repo: Callable[..., Path], engineer: str
) -> None:
    repo = window_repo()
    code, out, err = run("window", "check", "prod", "--at", CLOSED_AT, *EMERGENCY, "--config-repo", str(repo))
    assert code == 2 and "is not a git repository: break-glass cannot be audited there" in err
    assert "OVERRIDDEN" not in out + err and not (repo / "audit").exists()

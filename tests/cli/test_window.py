"""`odoo-gitops window …` end to end through the CLI entry point, on real config repositories."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from gitops.cli.main import main

Run = Callable[..., tuple[int, str, str]]
VERDICT_KEYS = ["env", "at", "open", "blocked_by", "open_until", "next_open"]
REASON_KEYS = ["calendar", "window", "kind", "from", "to"]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


@pytest.fixture
def repo(window_repo: Callable[..., Path]) -> str:
    return str(window_repo())  # the example config repository: prod, staging, dev


def test_check_open_exits_0_with_exactly_the_documented_keys(run: Run, repo: str) -> None:
    code, out, _ = run(
        "window", "check", "prod", "--at", "2026-01-13T20:30:00+01:00", "--config-repo", repo, "--json"
    )
    data = json.loads(out)
    assert code == 0
    assert list(data) == VERDICT_KEYS
    assert data == {
        "env": "prod",
        "at": "2026-01-13T19:30:00Z",
        "open": True,
        "blocked_by": [],
        "open_until": "2026-01-13T22:00:00Z",
        "next_open": "2026-01-13T19:30:00Z",
    }


def test_check_closed_exits_3_with_reasons(run: Run, repo: str) -> None:
    code, out, _ = run(
        "window", "check", "prod", "--at", "2026-12-30T19:00:00Z", "--config-repo", repo, "--json"
    )
    data = json.loads(out)
    assert code == 3
    assert data["open"] is False and data["open_until"] is None
    assert all(list(reason) == REASON_KEYS for reason in data["blocked_by"])
    assert {(r["calendar"], r["window"], r["kind"]) for r in data["blocked_by"]} == {
        ("month-end", "close", "deny")
    }
    assert data["blocked_by"][0]["from"] == "2026-12-28T23:00:00Z"
    assert data["blocked_by"][0]["to"] == "2027-01-05T23:00:00Z"
    assert data["next_open"] == "2027-01-12T18:00:00Z"


def test_check_human_output(run: Run, repo: str) -> None:
    code, out, _ = run(
        "window", "check", "staging", "--at", "2026-12-22T10:00:00+01:00", "--config-repo", repo
    )
    assert code == 3
    assert (
        "CLOSED: staging" in out
        and "payroll/payroll (deny window" in out
        and "next open: 2026-12-28T23:00:00Z" in out
    )


def test_check_without_offset_or_with_garbage_is_a_usage_error(run: Run, repo: str) -> None:
    code, _, err = run("window", "check", "prod", "--at", "2026-01-13T20:30:00", "--config-repo", repo)
    assert code == 2 and "no UTC offset" in err
    code, _, err = run("window", "check", "prod", "--at", "tomorrow", "--config-repo", repo)
    assert code == 2 and "not an ISO 8601" in err


def test_unknown_env_is_a_usage_error(run: Run, repo: str) -> None:
    code, _, err = run("window", "check", "qa", "--config-repo", repo)
    assert code == 2 and "unknown environment 'qa'" in err


def test_emergency_without_reason_and_ticket_exits_2(run: Run, repo: str) -> None:
    code, _, err = run(
        "window",
        "check",
        "prod",
        "--at",
        "2026-12-30T19:00:00Z",
        "--emergency",
        "--reason",
        "x",
        "--config-repo",
        repo,
    )
    assert code == 2 and "--emergency needs --ticket" in err
    code, _, err = run(
        "window",
        "check",
        "prod",
        "--at",
        "2026-12-30T19:00:00Z",
        "--emergency",
        "--ticket",
        "T",
        "--config-repo",
        repo,
    )
    assert code == 2 and "--emergency needs --reason" in err


def test_invalid_calendar_fails_at_load_with_exit_2_and_file_line(
    run: Run, window_repo: Callable[..., Path]
) -> None:
    repo = window_repo(
        envs={"qa": ["broken"]},
        calendars={
            "broken": """\
        timezone: Europe/Berlin
        anchors:
          pay: {rrule: "FREQ=MONTHLY;BYMONTHDAY=25"}
        windows:
          - {id: evenings, kind: allow, days: [tue, wednesday], start: "19:00", end: "23:00"}
          - {id: freeze, kind: deny, on: [payday]}
        """
        },
    )
    code, out, err = run("window", "check", "qa", "--config-repo", str(repo), "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    assert [(p["file"], p["line"]) for p in problems] == [
        ("calendars/broken.yaml", 5),
        ("calendars/broken.yaml", 6),
    ]
    assert "calendars/broken.yaml:5:" in err and "unknown weekday 'wednesday'" in err
    assert "calendars/broken.yaml:6: windows.1.on.0: unknown anchor 'payday' (known: pay)" in err
    repo_path = Path(repo)
    (repo_path / "calendars" / "broken.yaml").write_text(
        "timezone: Europe/Berlin\nwindows:\n  - {id: f, kind: deny, on: [x]}\n"
    )
    code, _, err = run("window", "check", "qa", "--config-repo", str(repo))
    assert code == 2 and "calendars/broken.yaml:3:" in err and "unknown anchor 'x'" in err


def test_next(run: Run, repo: str) -> None:
    code, out, _ = run(
        "window", "next", "prod", "--at", "2026-12-30T19:00:00Z", "--config-repo", repo, "--json"
    )
    assert code == 0
    assert json.loads(out) == {
        "env": "prod",
        "at": "2026-12-30T19:00:00Z",
        "next_open": "2027-01-12T18:00:00Z",
        "open_until": "2027-01-12T22:00:00Z",
    }
    code, out, _ = run("window", "next", "dev", "--at", "2026-12-30T19:00:00Z", "--config-repo", repo)
    assert code == 0 and "next open 2026-12-30T19:00:00Z" in out


def test_list_and_ics_agree(run: Run, repo: str, tmp_path: Path) -> None:
    code, out, _ = run(
        "window",
        "list",
        "prod",
        "--from",
        "2026-12-01",
        "--to",
        "2027-01-31",
        "--config-repo",
        repo,
        "--json",
    )
    assert code == 0
    listing = json.loads(out)
    assert (listing["from"], listing["to"]) == ("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z")
    rows = [(i["start"], i["end"], i["open"]) for i in listing["intervals"]]
    assert any(open_ for _, _, open_ in rows) and not all(open_ for _, _, open_ in rows)
    target = tmp_path / "prod.ics"
    code, out, _ = run(
        "window",
        "ics",
        "prod",
        "--from",
        "2026-12-01",
        "--to",
        "2027-01-31",
        "--output",
        str(target),
        "--config-repo",
        repo,
        "--json",
    )
    assert code == 0 and json.loads(out)["events"] == len(rows)
    parsed = icalendar.Calendar.from_ical(target.read_bytes())
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC)
    expanded = sorted(
        (
            e.decoded("dtstart").astimezone(UTC).isoformat().replace("+00:00", "Z"),
            e.decoded("dtend").astimezone(UTC).isoformat().replace("+00:00", "Z"),
            str(e.get("x-odoo-gitops-open")) == "TRUE",
        )
        for e in recurring_ical_events.of(parsed).between(start, end)
    )
    assert expanded == rows


def test_list_rejects_reversed_ranges(run: Run, repo: str) -> None:
    code, _, err = run(
        "window", "list", "prod", "--from", "2027-01-01", "--to", "2026-01-01", "--config-repo", repo
    )
    assert code == 2 and "--to must be after --from" in err


def test_ics_to_stdout_through_a_real_process(repo: str, repo_root: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitops",
            "window",
            "ics",
            "staging",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--config-repo",
            repo,
        ],
        cwd=repo_root,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed = icalendar.Calendar.from_ical(done.stdout)
    assert parsed.walk("VEVENT")


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"])
@pytest.mark.parametrize("command", ["check", "next"])
def test_instants_at_the_ends_of_time_are_usage_errors(run: Run, repo: str, command: str, at: str) -> None:
    code, out, err = run("window", command, "prod", "--at", at, "--config-repo", repo, "--json")
    assert code == 2, err
    assert json.loads(out)["error"] == "usage"
    assert "--at" in err and "outside" in err and "internal error" not in err


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("9999-12-01", "9999-12-31"),
        ("0001-01-01", "0001-01-31"),
        ("8999-12-01", "9999-12-31T23:59:59Z"),
        ("0001-01-01T00:00:00+01:00", "2026-01-01"),
    ],
)
@pytest.mark.parametrize("command", ["list", "ics"])
def test_ranges_at_the_ends_of_time_are_usage_errors(
    run: Run, repo: str, command: str, start: str, end: str
) -> None:
    code, _, err = run("window", command, "prod", "--from", start, "--to", end, "--config-repo", repo)
    assert code == 2, err
    assert "outside" in err and "internal error" not in err


MONTHLY_PAYROLL = """\
timezone: Europe/Berlin
business_days:
  holidays: {country: DE, subdiv: BY}
anchors:
  payroll_monthly: {rrule: "%s", adjust: preceding}
windows:
  - {id: payroll, kind: deny, on: [payroll_monthly]}
"""


def test_a_payroll_freeze_that_can_never_occur_fails_every_window_command(
    run: Run, window_repo: Callable[..., Path]
) -> None:
    repo = str(
        window_repo(envs={"qa": ["pay"]}, calendars={"pay": MONTHLY_PAYROLL % "FREQ=MONTHLY;BYMONTHDAY=32"})
    )
    for command in (
        ["check", "qa"],
        ["next", "qa"],
        ["list", "qa", "--from", "2027-01-01", "--to", "2027-02-01"],
    ):
        code, out, err = run("window", *command, "--config-repo", repo, "--json")
        assert code == 2, err
        ((problem,),) = [json.loads(out)["problems"]]
        assert (problem["file"], problem["line"]) == ("calendars/pay.yaml", 5)
        assert "BYMONTHDAY=32 can never match" in problem["message"]


def test_lint_lists_the_next_three_occurrences_of_every_rule(run: Run, repo: str) -> None:
    code, out, _ = run("window", "lint", "--at", "2026-12-02", "--config-repo", repo, "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["today"], data["horizon"], data["findings"]) == ("2026-12-02", "2036-12-02", 0)
    assert [c["file"] for c in data["calendars"]] == [
        "calendars/month-end.yaml",
        "calendars/payroll.yaml",
        "calendars/prod-windows.yaml",
    ]
    rules = {r["name"]: r for c in data["calendars"] for r in c["rules"]}
    assert rules["payroll_monthly"] == {
        "kind": "anchor",
        "name": "payroll_monthly",
        "line": 9,
        "state": "ok",
        "next": [
            {"from": "2026-12-23", "to": "2026-12-23"},  # the 25th is Christmas, the 24th a closure
            {"from": "2027-01-25", "to": "2027-01-25"},
            {"from": "2027-02-25", "to": "2027-02-25"},
        ],
        "ended_on": None,
    }
    assert rules["month_close"]["next"][1] == {"from": "2026-12-29", "to": "2027-01-05"}
    assert rules["prod-evenings"]["kind"] == "allow"
    assert rules["prod-evenings"]["next"][0] == {"from": "2026-12-02T19:00", "to": "2026-12-02T23:00"}
    code, out, _ = run("window", "lint", "--at", "2026-12-02", "--config-repo", repo)
    assert code == 0
    assert "calendars/payroll.yaml:9 anchor payroll_monthly: 2026-12-23, 2027-01-25, 2027-02-25" in out


def test_lint_flags_an_ended_rule_with_exit_3(run: Run, window_repo: Callable[..., Path]) -> None:
    ended = MONTHLY_PAYROLL % "FREQ=MONTHLY;BYMONTHDAY=25;UNTIL=20260101"
    repo = str(window_repo(calendars={"old-pay": ended}))  # listed by no environment: linted all the same
    code, out, _ = run("window", "lint", "--at", "2026-12-02", "--config-repo", repo, "--json")
    assert code == 3
    data = json.loads(out)
    assert data["findings"] == 1
    (rule,) = [r for c in data["calendars"] if c["name"] == "old-pay" for r in c["rules"]]
    assert (rule["state"], rule["ended_on"], rule["next"], rule["line"]) == ("ended", "2025-12-24", [], 5)
    code, out, _ = run("window", "lint", "--at", "2026-12-02", "--config-repo", repo)
    assert code == 3 and "calendars/old-pay.yaml:5 anchor payroll_monthly: ENDED (last 2025-12-24)" in out
    code, _, _ = run("window", "lint", "--at", "2025-06-01", "--config-repo", repo)
    assert code == 0  # before its end the rule still occurs


def test_lint_reports_every_impossible_rule_with_file_and_line(
    run: Run, window_repo: Callable[..., Path]
) -> None:
    repo = str(
        window_repo(
            calendars={
                "a": MONTHLY_PAYROLL % "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
                "b": MONTHLY_PAYROLL % "FREQ=MONTHLY;BYMONTHDAY=25;COUNT=0",
            }
        )
    )
    code, out, err = run("window", "lint", "--at", "2026-12-02", "--config-repo", repo, "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    assert [(p["file"], p["line"]) for p in problems] == [("calendars/a.yaml", 5), ("calendars/b.yaml", 5)]
    assert "like February 30" in problems[0]["message"] and "never occurs" in problems[1]["message"]
    assert "calendars/a.yaml:5:" in err and "Traceback" not in err

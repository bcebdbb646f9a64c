"""promote.yml and gate.yml, run step by step against the real CLI, a real config repo and the loopback
GitHub: their outputs, commit statuses and job summaries for a promotion and for pending, failing and
passing gates."""

from __future__ import annotations

import json

import requests

from tests.fixtures.configrepo import git
from tests.fixtures.github import SLUG
from tests.workflows.conftest import World


def promote(world: World, source: str = "dev", target: str = "staging") -> dict[str, str]:
    job = world.run("promote.yml", inputs={"source": source, "target": target})
    assert not job.failed, [(s.name, s.outcome, s.stdout, s.stderr) for s in job.steps]
    return job.outputs


def review(world: World, number: str, user: str, event: str) -> None:
    response = requests.post(
        f"{world.github.base_url}/repos/{SLUG}/pulls/{number}/reviews",
        json={"event": event, "body": f"{event} by {user}"},
        headers={"Authorization": f"token {user}-token"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def summary_rows(summary: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in summary.splitlines()
        if line.startswith("| #")
    ]


def test_promote_opens_the_pr_and_reports_it(world: World) -> None:
    job = world.run("promote.yml", inputs={"source": "dev", "target": "staging"})
    assert not job.failed, [(s.name, s.outcome, s.stderr) for s in job.steps]
    [pull] = world.github.pulls.values()
    assert job.outputs == {
        "allowed": "true",
        "action": "created",
        "pr-number": str(pull.number),
        "pr-url": f"{world.github.base_url}/{SLUG}/pull/{pull.number}",
    }
    assert pull.head.startswith("promote/staging/1.5.0-")
    assert "| plan | allowed |" in job.summary
    assert "| promotion | created |" in job.summary
    assert f"| pull request | {job.outputs['pr-url']} |" in job.summary
    assert job.step("Fail when the plan said no").outcome == "skipped"
    assert job.documents == ["plan.json", "promote.json"]
    assert [s.outcome for s in job.steps[:2]] == ["would run", "would run"]  # checkout, setup-python


def test_promote_rerun_reports_the_same_pr_unchanged(world: World) -> None:
    first = promote(world)
    again = promote(world)
    assert again == {**first, "action": "unchanged"}
    assert len(world.github.pulls) == 1


def test_promote_refused_by_the_plan_fails_with_the_reasons_and_opens_nothing(world: World) -> None:
    job = world.run("promote.yml", inputs={"source": "staging", "target": "dev"})
    plan = json.loads((world.tmp / f"run-{world.runs}" / "workspace" / "plan.json").read_text())
    assert plan["allowed"] is False and plan["reasons"]
    assert job.failed
    assert job.outputs["allowed"] == "false"
    assert job.outputs["pr-url"] == "" and job.outputs["action"] == ""
    assert job.step("Open or update the promotion PR").outcome == "skipped"
    failing = job.step("Fail when the plan said no")
    assert (failing.outcome, failing.exit_code) == ("failure", 3)
    assert failing.errors == plan["reasons"]
    assert "| plan | NOT allowed |" in job.summary
    assert f"- {plan['reasons'][0]}" in job.summary
    assert world.github.pulls == {}
    assert job.documents == ["plan.json"]


def test_gate_pending_until_approved_then_success(world: World) -> None:
    number = promote(world)["pr-number"]
    head = world.github.pulls[int(number)]
    sha = git(world.repo.remote, "rev-parse", head.head)

    pending = world.run("gate.yml", inputs={"pr": number})
    assert not pending.failed, [(s.name, s.stdout, s.stderr) for s in pending.steps]
    assert pending.outputs == {"verdict": "pending"}
    assert world.github.latest_statuses(sha)["odoo-gitops/gate"]["state"] == "pending"
    [[pr, verdict, why]] = summary_rows(pending.summary)
    assert (pr, verdict) == (f"#{number}", "pending")
    assert "0/1 approvals" in why and "needs 1 more approval from cab" in why
    assert pending.documents == [f"gate-{number}.json"]

    world.cli("pr", "approve", number, token="cab-ines-token")
    passed = world.run("gate.yml", inputs={"pr": number})
    assert passed.outputs == {"verdict": "success"}
    assert world.github.latest_statuses(sha)["odoo-gitops/gate"]["state"] == "success"
    [[_, verdict, why]] = summary_rows(passed.summary)
    assert verdict == "success" and "1/1 approvals, ready to merge" in why


def test_gate_failure_when_a_cab_member_requests_changes(world: World) -> None:
    number = promote(world)["pr-number"]
    review(world, number, "cab-ines", "APPROVE")
    review(world, number, "cab-jonas", "REQUEST_CHANGES")
    job = world.run("gate.yml", inputs={"pr": number})
    assert not job.failed  # a failing gate is a red commit status, not a broken workflow
    assert job.outputs == {"verdict": "failure"}
    [[_, verdict, why]] = summary_rows(job.summary)
    assert verdict == "failure" and "cab-jonas requested changes" in why
    sha = git(world.repo.remote, "rev-parse", world.github.pulls[int(number)].head)
    assert world.github.latest_statuses(sha)["odoo-gitops/gate"]["state"] == "failure"


def test_scheduled_gate_checks_every_open_promotion_pr(world: World) -> None:
    number = promote(world)["pr-number"]
    job = world.run("gate.yml")  # no pr input: the scheduled re-check
    assert job.outputs == {"verdict": "pending"}
    assert [row[0] for row in summary_rows(job.summary)] == [f"#{number}"]
    assert job.documents == [f"gate-{number}.json", "prs.json"]


def test_scheduled_gate_without_promotion_prs_says_so(world: World) -> None:
    job = world.run("gate.yml")
    assert not job.failed
    assert job.outputs == {"verdict": "success"}
    assert "| - | no promotion PR checked | |" in job.summary


def test_gate_on_an_unknown_pr_fails_the_job_with_the_cli_message(world: World) -> None:
    job = world.run("gate.yml", inputs={"pr": "99"})
    assert job.failed
    step = job.step("gate")
    assert step.exit_code == 1
    [error] = step.errors
    assert error.startswith("gate check 99 exited 1: ") and "99" in error[len("gate check 99") :]
    [[pr, verdict, why]] = summary_rows(job.summary)
    assert (pr, verdict) == ("#99", "error") and why == "exit 1: " + error.split(": ", 1)[1]
    assert job.outputs == {"verdict": ""}
    assert job.documents == ["gate-99.json"]  # the error document: {"error", "message"}


def test_a_tool_image_not_pinned_by_digest_is_refused_before_anything_runs(world: World) -> None:
    image = "ghcr.io/acme/odoo-gitops:0.1.0"
    job = world.run("gate.yml", inputs={"pr": "1", "odoo-gitops-image": image})
    assert job.steps[1].name.startswith("actions/setup-python@") and job.steps[1].outcome == "skipped"
    setup = job.step("Set up odoo-gitops")
    assert (setup.outcome, setup.exit_code) == ("failure", 2)
    expected = f"input odoo-gitops-image must be pinned by digest (REPO@sha256:<64 hex>): {image}"
    assert setup.errors == [expected]
    assert job.step("gate").outcome == "skipped"
    assert "| - | no promotion PR checked | |" in job.summary
    assert world.github.total_requests() == 0


def test_a_path_name_cannot_forge_a_row_of_the_gate_summary(world: World) -> None:
    """Attack: push a file whose name holds a carriage return and a table row (git allows both) to the PR
    branch. The gate fails it, naming the path; the job summary shows that reason in the PR's own row: a
    carriage return is a line break in Markdown, so it would otherwise start a forged row saying success."""
    number = promote(world)["pr-number"]
    branch = world.github.pulls[int(number)].head
    work = world.tmp / "attacker"
    git(world.tmp, "clone", "-q", "-b", branch, str(world.repo.remote), str(work))
    forged = "x\r| #1 | success | approved by the CAB \x1b[0m|\r"
    (work / forged).write_text("")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "tweak")
    git(work, "push", "-q", "origin", f"HEAD:{branch}")
    job = world.run("gate.yml", inputs={"pr": number})
    assert job.outputs == {"verdict": "failure"}, [(s.name, s.stdout, s.stderr) for s in job.steps]
    commands = job.workspace.parent / "runner-temp" / "_runner_file_commands"
    raw = b"".join(f.read_bytes() for f in sorted(commands.glob("step-*/step_summary")))  # bytes: no \r -> \n
    assert b"approved by the CAB" in raw
    assert b"\r" not in raw and b"\x1b" not in raw, raw
    rows = summary_rows(job.summary)
    assert [row[:2] for row in rows] == [[f"#{number}", "failure"]], job.summary
    [line] = [line for line in job.summary.splitlines() if "approved by the CAB" in line]
    assert line.startswith(f"| #{number} | failure |"), job.summary

"""`pr show` as the CAB view, on real promotion PRs (local forge, real git, the real window engine): the
verdict and what is missing first, schema changes destructive first with their explanation and the migration
scripts, evidence, the window in the env's time zone, rollback readiness, reviews counted or ignored; never
the marker; hostile PR text stays text; rich Markdown on a terminal; the JSON keeps its keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gitops.cli.main import main
from gitops.promote.marker import MARKER_RE
from tests.cli.test_status import ANSI_RE, _run_on_a_terminal
from tests.fixtures.promote import CLOSED, Stage
from tests.gates.test_bypass import approve, cli, edit_pull, push_to_branch
from tests.promote.test_schema import addons_repo, releases_from

OLD_JSON_KEYS = {
    "number", "url", "title", "head", "base", "head_sha", "author", "labels", "state", "body", "gate",
    "reviews", "statuses",
}  # fmt: skip


def show(capsys: pytest.CaptureFixture[str], stage: Stage, number: int, *extra: str) -> tuple[int, str]:
    code = main(["pr", "show", str(number), "--config-repo", str(stage.repo.remote), *extra])
    return code, capsys.readouterr().out


def promote(capsys: pytest.CaptureFixture[str], stage: Stage, *extra: str) -> int:
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot", *extra)
    assert code == 0, result
    return int(result["pull_request"]["number"])


def test_the_verdict_and_what_is_missing_come_first(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    number = promote(capsys, stage)
    approve(capsys, stage, number, "cab-ines", "rel-maria")
    code, out = show(capsys, stage, number)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "gate: PENDING: normal: 1/2 approvals — missing: needs 1 more approval from cab"
    assert "wave canary (acme-build) · 1.3.2 → 1.5.0" in out
    assert "**Open** now until 2026-12-08 23:00 CET (Europe/Berlin)." in out
    assert "- signature: ok: verified (key test-key)" in out
    assert "- scan: ok: passed (HIGH 0, LOW 2; trivy 0.58.0" in out
    assert "returns to 1.3.2 (`817ba1f956e4`): **ready** — 1.3.2 is verified there." in out
    assert re.search(r"^- review: cab-ines APPROVED at [0-9a-f]{12} \(counted\)$", out, re.M)
    assert re.search(r"^- review: rel-maria APPROVED at [0-9a-f]{12} \(ignored: not in cab\)$", out, re.M)
    assert "code only" in out  # no addons repo: the records' classification, said so
    assert "PR description" not in out and not MARKER_RE.search(out)
    assert lines.index("## Schema changes") < lines.index("## Evidence") < lines.index("## Reviews")
    assert lines.index("## Rollback") < lines.index("## Restore rehearsal") < lines.index("## Reviews")
    rehearsal = lines[lines.index("## Restore rehearsal") + 2]
    assert rehearsal == "pending: never rehearsed (odoo-gitops backup verify)"


def test_in_a_freeze_the_window_says_when_it_opens_in_local_time(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    number = promote(capsys, stage)
    stage.move_to(CLOSED)
    _, out = show(capsys, stage, number)
    assert out.splitlines()[0].startswith(
        "gate: PENDING: normal: 0/2 approvals — missing: outside a change window"
    )
    assert "**Closed** now by payroll/payroll; next opening 2027-01-12 19:00 CET (Europe/Berlin)." in out


def test_destructive_changes_first_explained_with_the_migration_scripts(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, old, new = addons_repo(tmp_path)
    releases_from(stage, old, new)
    number = promote(capsys, stage, "--addons-repo", str(repo))
    code, out = show(capsys, stage, number, "--addons-repo", str(repo))
    assert code == 0
    assert (
        "Class **normal**, **destructive** (as the gate applies it; shown from the addons repository)." in out
    )
    rows = [r for r in out.split("## Schema changes")[1].split("###")[0].splitlines() if r.startswith("| ")]
    assert rows[0] == "| severity | change | where | explanation |"
    assert rows[1].startswith("| **destructive** | field_removed | acme_site_diary: ")
    assert rows[1].endswith(".crew_size | column dropped (DROP COLUMN … CASCADE) |")
    scripts = out.split("### Migration scripts that will run")[1].split("## Modules")[0]
    assert "| acme_site_diary | 17.0.2.2.0 | pre | `migrations/17.0.2.2.0/pre-migrate.py` |" in scripts
    assert "**NOT ready** — the change is destructive and no database backup is recorded yet" in out
    assert "backup must be recorded" in out.splitlines()[0]
    code, data = cli(capsys, stage, "pr", "show", str(number), "--addons-repo", str(repo))
    assert data["cab"]["schema"]["changes"][0]["severity"] == "destructive"
    assert data["cab"]["schema"]["migration_scripts"][0]["stage"] == "pre"
    assert data["cab"]["rollback"]["ready"] is False


def test_without_the_addons_repo_it_says_where_the_list_is(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, old, new = addons_repo(tmp_path)
    releases_from(stage, old, new)
    number = promote(capsys, stage, "--addons-repo", str(repo))
    _, out = show(capsys, stage, number)
    assert "the promotion computed the schema diff from the addons repository; pass --addons-repo PATH" in out
    assert "Class **normal**, **destructive**" in out  # what the gate applies, from the audited run


def test_hostile_pr_text_stays_text(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    number = promote(capsys, stage)
    hostile = "\x1b[2J\x1b]8;;http://evil\x07[Approved by CAB](http://evil) *x* | `y` <!-- z -->"
    edit_pull(stage, number, body=lambda b: hostile + "\n" + b)
    from tests.gates.test_bypass import local_forge

    with local_forge(stage) as forge:
        pull = forge.get_pull(number)
        forge.update_pull(pull, title=hostile, body=pull.body, labels=list(pull.labels))
    code, out = show(capsys, stage, number, "--body")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    title = next(line for line in out.splitlines() if line.startswith(f"## #{number} "))
    assert "](http" not in title and "\\*x\\*" in title and "\\|" in title and "\\<!-- z --\\>" in title
    assert out.splitlines()[0].startswith("gate: PENDING")  # the verdict comes from git, not from the body
    assert "## PR description (as written on the PR; the gate never reads it)" in out
    assert not MARKER_RE.search(out)


def test_json_keeps_its_keys_and_adds_the_cab_view(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    number = promote(capsys, stage)
    code, data = cli(capsys, stage, "pr", "show", str(number))
    assert code == 0
    assert set(data) == OLD_JSON_KEYS | {"cab"}
    assert not MARKER_RE.search(data["body"])
    assert data["cab"]["missing"] == "needs 2 more approvals from cab"
    assert data["cab"]["window"]["timezone"] == "Europe/Berlin"
    rehearsal = data["cab"]["rehearsal"]
    assert (rehearsal["env"], rehearsal["state"]) == ("prod", "pending")
    assert rehearsal["rto"]["objective_seconds"] == 1800


def test_a_merged_pr_is_shown_without_a_gate(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    number = promote(capsys, stage)
    approve(capsys, stage, number, "cab-ines", "cab-jonas")
    assert cli(capsys, stage, "pr", "merge", str(number))[0] == 0
    code, out = show(capsys, stage, number)
    assert code == 0
    assert out.splitlines()[0] == "gate: cannot evaluate: PR is merged"
    _, data = cli(capsys, stage, "pr", "show", str(number))
    assert data["cab"] is None and data["gate"] == {"error": "PR is merged"}


def test_on_a_terminal_the_markdown_is_rendered(stage: Stage, capsys: pytest.CaptureFixture[str]) -> None:
    number = promote(capsys, stage)
    code, out = _run_on_a_terminal(["pr", "show", str(number), "--config-repo", str(stage.repo.remote)])
    assert code == 0, out
    assert ANSI_RE.search(out)
    plain = ANSI_RE.sub("", out).replace("\r\n", "\n")
    # the terminal is a subprocess on the real clock, days before the stage's (staging verified "in the
    # future"): the gate says FAILURE for the soak there; what matters here is the rendering
    assert re.match(r"gate: (PENDING|FAILURE): normal: 0/2 approvals", plain.splitlines()[0]), plain
    assert not re.search(r"^## ", plain, re.M)  # headings rendered, not printed
    assert "**" not in plain
    assert "Schema changes" in plain and "Rollback" in plain
    assert "odoo-gitops:promotion" not in plain


def test_a_hostile_file_name_in_the_pr_reaches_no_terminal(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    number = promote(capsys, stage)
    _, result = cli(capsys, stage, "pr", "list")
    branch = result["pull_requests"][0]["head"]
    push_to_branch(
        stage, branch, lambda w: (w / "evil\x1b[2J\x1b]0;pwned\x07.yaml").write_text("x: 1\n"), tmp=tmp_path
    )
    code, out = show(capsys, stage, number)
    assert code == 0
    assert out.splitlines()[0].startswith("gate: FAILURE")
    assert "the PR edits evil?[2J?]0;pwned?.yaml" in out.splitlines()[0]
    assert "\x1b" not in out and "\x07" not in out
    code = main(["status", "prod", "--config-repo", str(stage.repo.remote)])
    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^acme-build\s+blocked #\d+$", out, re.M), out
    assert "\x1b" not in out and "\x07" not in out

"""Bypass attempts against the gate, as a table.

Each starts from a real promotion PR (local forge, real git, the real window engine), plays one attack (forged
body or marker, pushes to the PR branch, labels, approvals by the wrong people, time passing, config changes
on main) and asserts the verdict, the reason and the exit code of `odoo-gitops gate check`. Facts come from
git and the audit log on main, never from the PR body."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.audit import read_entries
from gitops.cli.main import main
from gitops.forge.local import LocalForge
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import open_session
from tests.fixtures.configrepo import git
from tests.fixtures.promote import NOW, Stage, release_data

CAB = ("cab-ines", "cab-jonas")
ONE_MORE = "needs 1 more approval from cab"
FOREIGN = "holds content no `odoo-gitops promote` run"


def cli(capsys: pytest.CaptureFixture[str], stage: Stage, *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--config-repo", str(stage.repo.remote), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def approve(capsys: pytest.CaptureFixture[str], stage: Stage, number: int, *users: str) -> None:
    for user in users:
        code, _ = cli(capsys, stage, "pr", "approve", str(number), "--as", user)
        assert code == 0


def audit(stage: Stage, env: str) -> list[Any]:
    stage.pull()
    return read_entries(stage.repo.work / "audit" / f"{env}.jsonl")


@contextmanager
def local_forge(stage: Stage, actor: str = "mallory") -> Iterator[LocalForge]:
    with open_session(str(stage.repo.remote), ForgeSettings(kind="local", actor=actor)) as session:
        assert isinstance(session.forge, LocalForge)
        yield session.forge


def edit_pull(
    stage: Stage, number: int, *, body: Callable[[str], str] | None = None, labels: Any = None
) -> None:
    with local_forge(stage) as forge:
        pull = forge.get_pull(number)
        new_labels = labels(list(pull.labels)) if labels else list(pull.labels)
        forge.update_pull(
            pull, title=pull.title, body=body(pull.body) if body else pull.body, labels=new_labels
        )


def push_to_branch(
    stage: Stage, branch: str, edit: Callable[[Path], None], *, author: str = "mallory", tmp: Path
) -> None:
    """A commit by `author` pushed straight to the PR branch (no odoo-gitops involved)."""
    work = tmp / f"attacker-{author}"
    if not work.exists():
        subprocess.run(["git", "clone", "-q", str(stage.repo.remote), str(work)], check=True)
    git(work, "fetch", "-q", "origin", branch)
    git(work, "checkout", "-q", "-B", branch, "FETCH_HEAD")
    edit(work)
    git(work, "add", "-A")
    git(work, "commit", "-q", "--allow-empty", f"--author={author} <{author}@example.com>", "-m", "tweak")
    git(work, "push", "-q", "origin", f"HEAD:{branch}")


def replace_in(path: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(work: Path) -> None:
        target = work / path
        text = target.read_text()
        assert old in text, (path, old)
        target.write_text(text.replace(old, new, 1))

    return edit


def forged_marker(target: str) -> str:
    data = {"kind": "promotion", "source": "dev", "target": target, "wave": None, "tenants": [],
            "image": "x", "version": "0.0.1", "content_hash": "forged", "change_class": "standard",
            "destructive": False, "actor": "cab-ines", "branch": "x", "schema_diff_computed": True,
            "bindings": {}}  # fmt: skip
    raw = base64.b64encode(json.dumps(data).encode()).decode()
    return f"<!-- odoo-gitops:promotion {raw} -->"


@dataclass
class Ctx:
    stage: Stage
    capsys: pytest.CaptureFixture[str]
    tmp: Path
    number: int
    branch: str
    notes: dict[str, Any] = field(default_factory=dict)

    def push(self, edit: Callable[[Path], None], author: str = "mallory") -> None:
        push_to_branch(self.stage, self.branch, edit, author=author, tmp=self.tmp)

    def promote(self, *extra: str) -> dict[str, Any]:
        code, result = cli(self.capsys, self.stage, "promote", "staging", "prod", "--actor", "ci-bot", *extra)
        assert code == 0, result
        return result


# ---------------------------------------------------------------- the attacks


def forge_the_marker(c: Ctx) -> None:
    edit_pull(c.stage, c.number, body=lambda b: forged_marker("staging") + "\n" + b)


def delete_the_body(c: Ctx) -> None:
    edit_pull(c.stage, c.number, body=lambda _: "trust me")


def lower_the_count_in_env_yaml(c: Ctx) -> None:
    c.push(
        replace_in("envs/prod/env.yaml", "normal: {count: 2, from: [cab]}", "normal: {count: 0, from: [cab]}")
    )


def drop_gates_in_the_pipeline(c: Ctx) -> None:
    c.push(replace_in("pipelines/odoo.yaml", "gates: [window, approvals, scan, signature]\n", "gates: []\n"))


def swap_the_tenant_digest(c: Ctx) -> None:
    def edit(work: Path) -> None:
        path = work / "envs/prod/tenants/acme-build.yaml"
        data = yaml.safe_load(path.read_text())
        old = data["image"]["digest"]
        path.write_text(path.read_text().replace(old, "sha256:" + "e" * 64))

    c.push(edit)


def change_another_tenants_values(c: Ctx) -> None:
    c.push(lambda w: (w / "envs/prod/tenants/globex-consult.yaml").write_text(
        (w / "envs/prod/tenants/globex-consult.yaml").read_text() + "replicaCount: 9\n"))  # fmt: skip


def hand_edit_release_yaml(c: Ctx) -> None:
    c.push(replace_in("envs/prod/release.yaml", "change_class: normal", "change_class: standard"))


def commit_then_approve_as_author(c: Ctx) -> None:
    c.push(lambda _w: None, author="cab-kofi")  # an empty commit: content unchanged
    approve(c.capsys, c.stage, c.number, "cab-kofi")


def rerun_promote_then_approve_as_promoter(c: Ctx) -> None:
    code, _ = cli(c.capsys, c.stage, "promote", "staging", "prod", "--actor", "cab-jonas")
    assert code == 0
    approve(c.capsys, c.stage, c.number, "cab-jonas")


def change_content_after_approval(c: Ctx) -> None:
    c.stage.release("staging", release_data("1.5.0", promoted_from="dev", destructive=True,
                                           fingerprint=c.notes["fingerprint"]))  # fmt: skip
    result = c.promote()
    assert result["action"] == "updated"
    assert result["destructive"] is True


def remove_the_emergency_label(c: Ctx) -> None:
    edit_pull(c.stage, c.number, labels=lambda ls: [label for label in ls if label != "emergency"])


def add_an_emergency_label(c: Ctx) -> None:
    edit_pull(c.stage, c.number, labels=lambda ls: [*ls, "emergency"])


def let_the_approvals_expire(c: Ctx) -> None:
    c.stage.move_to(NOW + timedelta(days=7))  # Tuesday again, window open; approvals 7 days old (ttl 72h)


def record_a_backup_by_hand(c: Ctx) -> None:
    def edit(work: Path) -> None:
        path = work / "envs/prod/release.yaml"
        data = yaml.safe_load(path.read_text())
        data["tenants"]["acme-build"]["backup"] = {"id": "never-taken", "completed_at": NOW}
        from gitops.promote.edit import render_release

        path.write_text(render_release(data))

    c.push(edit)


def forge_a_verification(c: Ctx) -> None:
    def edit(work: Path) -> None:
        path = work / "envs/prod/release.yaml"
        data = yaml.safe_load(path.read_text())
        data["tenants"]["acme-build"]["verification"] = {
            "revision": "a" * 40,
            "verified_at": NOW - timedelta(days=9),
        }
        from gitops.promote.edit import render_release

        path.write_text(render_release(data))

    c.push(edit)


def open_the_window_in_the_pr(c: Ctx) -> None:
    # the gate reads calendars from main, and a promotion may not edit them at all
    c.push(
        replace_in(
            "calendars/prod-windows.yaml",
            "days: [tue, wed, thu]",
            "days: [mon, tue, wed, thu, fri, sat, sun]",
        )
    )


def point_previous_at_another_image(c: Ctx) -> None:
    # rollback goes to `previous` as "previously accepted": it is approved content, never a free field
    c.push(replace_in("envs/prod/release.yaml", "@sha256:e57ea8c9", "@sha256:000000c9"))


def forge_a_verification_of_previous(c: Ctx) -> None:
    c.push(replace_in("envs/prod/release.yaml", "revision: 8f5467b13ea5b1c7e0cf9c179572db7208f3d382",
                      "revision: 9" + "0" * 39))  # fmt: skip


def forge_a_rehearsal_in_the_audit_log(c: Ctx) -> None:
    def edit(work: Path) -> None:
        path = work / "audit/prod.jsonl"
        path.parent.mkdir(exist_ok=True)
        old = path.read_text() if path.exists() else ""
        path.write_text(old + '{"kind": "note", "data": {"rehearsal": "passed"}}\n')

    c.push(edit)


def drop_approvals_from_the_stage_on_main(c: Ctx) -> None:
    c.stage.pull()
    path = c.stage.repo.work / "pipelines/odoo.yaml"
    text, old = path.read_text(), "gates: [window, approvals, scan, signature]"
    last = text.rindex(old)  # prod is the last stage
    path.write_text(text[:last] + "gates: [window, scan, signature]" + text[last + len(old) :])
    c.stage.repo.commit_all("prod: no approvals (a reviewed change on main)")


def nothing(_c: Ctx) -> None:
    return None


@dataclass(frozen=True)
class Case:
    id: str
    attack: Callable[[Ctx], None]
    state: str
    reason: str
    approvers: tuple[str, ...] = CAB
    code: int = 3
    emergency: bool = False
    ignored: str | None = None  # a reason one of the reviews is ignored for


CASES = [
    Case("forged-marker", forge_the_marker, "pending", "needs 2 more approvals from cab", approvers=()),
    Case("body-deleted", delete_the_body, "pending", "needs 2 more approvals from cab", approvers=()),
    Case("edit-env-yaml", lower_the_count_in_env_yaml, "failure",
         "the PR edits envs/prod/env.yaml, which a promotion to 'prod' may not edit"),
    Case("edit-pipeline", drop_gates_in_the_pipeline, "failure", "the PR edits pipelines/odoo.yaml"),
    Case("tenant-digest-swapped", swap_the_tenant_digest, "failure", FOREIGN, ignored="stale"),
    Case("other-tenant-values", change_another_tenants_values, "failure",
         "envs/prod/tenants/globex-consult.yaml changes keys other than image and release"),
    Case("release-yaml-hand-edit", hand_edit_release_yaml, "failure", FOREIGN, ignored="stale"),
    Case("approval-by-commit-author", commit_then_approve_as_author, "pending", ONE_MORE,
         approvers=("cab-ines",), ignored="commit author: may not approve their own promotion"),
    Case("approval-by-promoter", rerun_promote_then_approve_as_promoter, "pending",
         "needs 1 more approval from cab", approvers=("cab-ines",),
         ignored="promotion actor: may not approve their own promotion"),
    Case("content-changed-after-approval", change_content_after_approval, "pending",
         "needs 2 more approvals from cab", ignored="stale: approved different content"),
    Case("emergency-label-removed", remove_the_emergency_label, "failure",
         "the promotion declares an emergency but the PR lacks the 'emergency' label",
         approvers=("cto-paula",), emergency=True),
    Case("emergency-label-added", add_an_emergency_label, "failure",
         "the PR is labelled 'emergency' but its promotion declares no emergency"),
    Case("emergency-without-ecab", nothing, "pending", "needs 1 more approval from ecab",
         approvers=("cab-jonas", "cab-kofi"), emergency=True, ignored="not in ecab"),
    Case("expired-approvals", let_the_approvals_expire, "pending", "needs 2 more approvals from cab",
         ignored="expired (older than the approval_ttl)"),
    Case("backup-recorded-by-hand", record_a_backup_by_hand, "failure",
         "the head records backup(s) never-taken that audit/prod.jsonl does not"),
    Case("verification-forged", forge_a_verification, "failure",
         "records tenants.acme-build.verification that main does not"),
    Case("calendar-edited-in-the-pr", open_the_window_in_the_pr, "failure",
         "the PR edits calendars/prod-windows.yaml, which a promotion to 'prod' may not edit"),
    Case("previous-image-swapped", point_previous_at_another_image, "failure", FOREIGN, ignored="stale"),
    Case("previous-verification-forged", forge_a_verification_of_previous, "failure",
         "records previous.verification that main does not"),
    Case("rehearsal-forged-in-the-audit-log", forge_a_rehearsal_in_the_audit_log, "failure",
         "the PR edits audit/prod.jsonl, which a promotion to 'prod' may not edit"),
    Case("stage-lists-approvals", nothing, "pending", "needs 2 more approvals from cab", approvers=()),
    Case("stage-without-approvals", drop_approvals_from_the_stage_on_main, "success", "", approvers=(),
         code=0),
    Case("untouched-control", nothing, "success", "", code=0),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bypass_attempt(case: Case, stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    extra = ("--emergency", "payroll export broken", "--ticket", "INC-7") if case.emergency else ()
    code, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot", *extra)
    assert code == 0, result
    ctx = Ctx(stage, capsys, tmp_path, result["pull_request"]["number"], result["branch"])
    ctx.notes["fingerprint"] = yaml.safe_load(
        git(stage.repo.remote, "show", "main:envs/staging/release.yaml")
    )["schema_fingerprint"]
    approve(capsys, stage, ctx.number, *case.approvers)
    case.attack(ctx)
    code, gate = cli(capsys, stage, "gate", "check", str(ctx.number))
    verdict = gate["verdict"]
    assert (code, verdict["state"]) == (case.code, case.state), verdict["reasons"]
    if case.reason:
        assert any(case.reason in r for r in verdict["reasons"]), verdict["reasons"]
    if case.ignored:
        assert any(case.ignored in i["reason"] for i in verdict["approvals"]["ignored"]), verdict["approvals"]
    # whatever the body says, the gate's entry lands in the target's own log, before the status
    [entry] = [e for e in audit(stage, "prod") if e.kind == "gate" and e.data["head"] == gate["head_sha"]]
    assert entry.data["state"] == case.state
    assert not [e for e in audit(stage, "staging") if e.kind == "gate"]
    _, shown = cli(capsys, stage, "pr", "show", str(ctx.number))
    [status] = [s for s in shown["statuses"] if s["context"] == "odoo-gitops/gate"]
    assert status["state"] == case.state
    if case.state != "success":
        code, merged = cli(capsys, stage, "pr", "merge", str(ctx.number))
        assert code == 3, merged
        _, listed = cli(capsys, stage, "pr", "list")
        assert ctx.number in [p["number"] for p in listed["pull_requests"]]  # still open: not merged


def test_merge_while_pending_refuses_and_leaves_main_alone(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    _, result = cli(capsys, stage, "promote", "staging", "prod", "--actor", "ci-bot")
    number = result["pull_request"]["number"]
    approve(capsys, stage, number, "cab-ines")
    before = [line for line in git(stage.repo.remote, "log", "--format=%s", "main").splitlines()
              if not line.startswith("Audit:")]  # fmt: skip
    code = main(["pr", "merge", str(number), "--config-repo", str(stage.repo.remote)])
    assert code == 3
    assert "cannot be merged: gate is pending" in capsys.readouterr().err
    after = [line for line in git(stage.repo.remote, "log", "--format=%s", "main").splitlines()
             if not line.startswith("Audit:")]  # fmt: skip
    assert before == after
    assert not [e for e in audit(stage, "prod") if e.kind == "merge"]

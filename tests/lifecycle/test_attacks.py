"""Attacks on the gate of lifecycle PRs (local forge, real git): each test stages a bypass attempt and
asserts the secure behaviour, i.e. `gate check` does not say success and `pr merge` refuses (main unchanged)
without the approvals the target env's policy on main requires."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.cli.main import main
from gitops.forge.local import LocalForge
from gitops.forge.protocol import ForgeSettings
from gitops.forge.session import open_session
from tests.fixtures.configrepo import ConfigRepoFixture, git
from tests.fixtures.promote import Stage
from tests.lifecycle.helpers import at_branch, run

LATER = (datetime.now(UTC).date() + timedelta(days=180)).isoformat()
ACME = ("--masking", "default", "--tenant", "acme-build")


def run_as(
    capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, actor: str, *args: str
) -> tuple[int, dict[str, Any], str]:
    code = main([*args, "--config-repo", str(repo.remote), "--actor", actor, "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {}, out.err


@contextmanager
def local_forge(repo: ConfigRepoFixture, actor: str = "mallory") -> Iterator[LocalForge]:
    with open_session(str(repo.remote), ForgeSettings(kind="local", actor=actor)) as session:
        assert isinstance(session.forge, LocalForge)
        yield session.forge


def approve(capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, number: int, *users: str) -> None:
    for user in users:
        code, _, err = run(capsys, repo, "pr", "approve", str(number), "--as", user)
        assert code == 0, err


def verdict_of(out: dict[str, Any], err: str) -> dict[str, Any]:
    found = out.get("verdict") or (out.get("report") or {}).get("verdict")
    assert isinstance(found, dict), (out, err)
    return found


def assert_held(
    capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, number: int, *, reason: str | None = None
) -> dict[str, Any]:
    """The secure outcome: the gate is not success (exit 3) and `pr merge` refuses (main: audit only)."""
    before = git(repo.remote, "rev-parse", "main").strip()
    code, out, err = run(capsys, repo, "gate", "check", str(number))
    verdict = verdict_of(out, err)
    assert code == 3 and verdict["state"] != "success", verdict
    if reason is not None:
        assert any(reason in r for r in verdict["reasons"]), verdict["reasons"]
    code, _, err = run(capsys, repo, "pr", "merge", str(number))
    assert code == 3 and "cannot be merged" in err, err
    # main moved only by the audit entries of the verdicts: no config file changed
    changed = git(repo.remote, "diff", "--name-only", before, "main").split()
    assert all(p.startswith("audit/") for p in changed), changed
    return verdict


def push_branch(
    repo: ConfigRepoFixture, branch: str, edit: Callable[[Path], None], *, start: str = "main"
) -> None:
    """Mallory pushes a commit of her own (plain git) on `branch`, starting from `start` of the remote."""
    git(repo.work, "fetch", "-q", "origin", start)
    git(repo.work, "checkout", "-q", "-B", "mallory", "FETCH_HEAD")
    edit(repo.work)
    git(repo.work, "add", "-A")
    git(repo.work, "commit", "-q", "-m", "mallory's change")
    git(repo.work, "push", "-q", "-f", "origin", f"HEAD:refs/heads/{branch}")
    git(repo.work, "checkout", "-q", "main")


def open_by_hand(repo: ConfigRepoFixture, branch: str, title: str = "routine lifecycle change") -> int:
    with local_forge(repo) as forge:
        pull = forge.create_pull(
            head=branch, base="main", title=title, body="env: extend (odoo-gitops)", labels=[], reviewers=[]
        )
    return pull.number


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def replace_text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


# --- a promotion dressed as a lifecycle PR ------------------------------------------------------------


def test_a_prod_promotion_pushed_on_a_lifecycle_branch_is_not_gated_as_lifecycle(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """New image for prod on `lifecycle/extend/prod` (and refresh/prod): approvals only would skip the
    window, scan and signature gates. Even with prod's normal approvals (2 cab) the gate fails."""

    def promote(work: Path) -> None:
        edit_yaml(work / "envs/prod/values.yaml", lambda d: d["image"].update(digest="sha256:" + "e" * 64))
        replace_text(work / "envs/prod/release.yaml", "1.3.2", "6.6.6")

    for branch in ("lifecycle/extend/prod", "lifecycle/refresh/prod"):
        push_branch(config_repo, branch, promote)
        number = open_by_hand(config_repo, branch)
        approve(capsys, config_repo, number, "cab-ines", "cab-jonas")
        assert_held(capsys, config_repo, number, reason="may not")


def test_a_promotion_appended_to_a_real_extend_pr_fails_the_gate(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """An audited extend of staging, approved, then a staging release pushed on top of the same branch."""
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    approve(capsys, config_repo, number, "cab-ines")
    code, _, err = run(capsys, config_repo, "gate", "check", str(number))
    assert code == 0, err  # the real change passes with staging's normal rule

    def promote(work: Path) -> None:
        edit_yaml(work / "envs/staging/values.yaml", lambda d: d["image"].update(digest="sha256:" + "e" * 64))

    push_branch(config_repo, "lifecycle/extend/staging", promote, start="lifecycle/extend/staging")
    verdict = assert_held(capsys, config_repo, number, reason="no `odoo-gitops env extend` run pushed")
    assert any("stale" in i["reason"] for i in verdict["approvals"]["ignored"])


# --- a lifecycle PR that weakens gates or policy --------------------------------------------------------


def test_a_create_pr_whose_pipeline_edit_weakens_prods_gates_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """`env create` from dev (1 developer approves) may edit the pipeline file: Mallory also strips prod's
    window/scan/signature gates in the same file."""
    args = ("env", "create", "training", "--from", "dev", "--owner", "dev-bob", "--expires", LATER)
    code, proposed, err = run(capsys, config_repo, *args)
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    approve(capsys, config_repo, number, "dev-chen")
    code, _, err = run(capsys, config_repo, "gate", "check", str(number))
    assert code == 0, err  # the audited create alone passes under dev's policy

    def weaken(work: Path) -> None:
        def change(data: Any) -> None:
            for stage in data["stages"]:
                if stage["env"] in {"prod", "staging"}:
                    stage["gates"] = ["approvals"]
                    stage.pop("soak", None)

        edit_yaml(work / "pipelines/odoo.yaml", change)

    push_branch(config_repo, "lifecycle/create/training", weaken, start="lifecycle/create/training")
    approve(capsys, config_repo, number, "dev-alice")  # a fresh approval of the new head, too
    assert_held(capsys, config_repo, number, reason="no `odoo-gitops env create` run pushed")
    stages = {
        s["env"]: s
        for s in yaml.safe_load(at_branch(config_repo, "main", "pipelines/odoo.yaml") or "")["stages"]
    }
    assert "window" in stages["prod"]["gates"]


def test_a_create_pr_that_writes_a_weaker_policy_for_the_new_env_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("env", "create", "training", "--from", "staging", "--owner", "rel-omar", "--expires", LATER)
    code, proposed, err = run(capsys, config_repo, *args, "--purpose", "training")
    assert code == 0, err
    number = proposed["pull_request"]["number"]

    def weaken(work: Path) -> None:
        def change(data: Any) -> None:
            data["gate_policy"]["approvals"] = {
                k: {"count": 0} for k in ("standard", "normal", "destructive")
            }
            data["gate_policy"]["reviewers"] = []

        edit_yaml(work / "envs/training/env.yaml", change)

    push_branch(config_repo, "lifecycle/create/training", weaken, start="lifecycle/create/training")
    verdict = assert_held(capsys, config_repo, number, reason="no `odoo-gitops env create` run pushed")
    assert verdict["state"] == "failure"


def test_an_extend_pr_that_also_lowers_the_envs_gate_policy_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    number = proposed["pull_request"]["number"]

    def weaken(work: Path) -> None:
        env = work / "envs/staging/env.yaml"
        replace_text(env, "normal: {count: 1, from: [cab]}", "normal: {count: 0}")
        replace_text(
            env, "cab: [cab-ines, cab-jonas, cab-kofi]", "cab: [cab-ines, cab-jonas, cab-kofi, mallory]"
        )

    push_branch(config_repo, "lifecycle/extend/staging", weaken, start="lifecycle/extend/staging")
    approve(capsys, config_repo, number, "mallory")
    verdict = assert_held(capsys, config_repo, number, reason="no `odoo-gitops env extend` run pushed")
    assert verdict["state"] == "failure"
    assert "mallory" not in (at_branch(config_repo, "main", "envs/staging/env.yaml") or "")


# --- names: collisions, case, paths, symlinks ------------------------------------------------------------


def test_env_create_refuses_names_that_collide_or_escape(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("staging", "prod", "Prod", "PROD", "../prod", "prod/..", "prod/x", ".prod", "prod."):
        args = ("env", "create", name, "--from", "dev", "--owner", "dev-bob", "--expires", LATER)
        code, _, err = run(capsys, config_repo, *args)
        assert code == 2, (name, code, err)
    refs = git(config_repo.remote, "for-each-ref", "--format=%(refname)", "refs/heads/lifecycle")
    assert refs.strip() == ""


def test_a_hand_made_create_pr_onto_an_existing_env_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """`lifecycle/create/prod` adding a file to prod's folder (a new tenant) and `lifecycle/create/Prod`
    (another case of the same name), each approved by a developer as if governed by dev."""

    def add_tenant(work: Path) -> None:
        tenants = work / "envs/prod/tenants"
        first = sorted(tenants.iterdir())[0]
        (tenants / "evil.yaml").write_text(first.read_text())

    push_branch(config_repo, "lifecycle/create/prod", add_tenant)
    number = open_by_hand(config_repo, "lifecycle/create/prod")
    approve(capsys, config_repo, number, "dev-bob")
    assert_held(capsys, config_repo, number, reason="no `odoo-gitops env create` run pushed")

    def shadow(work: Path) -> None:
        (work / "envs/Prod").mkdir()
        for name in ("env.yaml", "values.yaml"):
            (work / "envs/Prod" / name).write_text((work / "envs/dev" / name).read_text())

    push_branch(config_repo, "lifecycle/create/Prod", shadow)
    number = open_by_hand(config_repo, "lifecycle/create/Prod")
    approve(capsys, config_repo, number, "dev-bob")
    assert_held(capsys, config_repo, number, reason="created from no template known on main")


def test_a_symlink_into_another_env_in_a_create_pr_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The new env's values become a symlink to prod's (prod's database and secrets under dev's policy)."""
    args = ("env", "create", "training", "--from", "dev", "--owner", "dev-bob", "--expires", LATER)
    code, proposed, err = run(capsys, config_repo, *args)
    assert code == 0, err
    number = proposed["pull_request"]["number"]

    def link(work: Path) -> None:
        target = work / "envs/training/values.yaml"
        target.unlink()
        os.symlink("../prod/values.yaml", target)

    push_branch(config_repo, "lifecycle/create/training", link, start="lifecycle/create/training")
    approve(capsys, config_repo, number, "dev-alice")
    assert_held(capsys, config_repo, number, reason="no `odoo-gitops env create` run pushed")


# --- replaying an audited run ----------------------------------------------------------------------------


def test_an_audited_extend_replayed_on_another_env_or_kind_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The head of an audited `extend staging` pushed as `extend dev` (dev's weaker policy: 1 developer)
    and as `refresh staging` (one cab approval: the extend's rule, not refresh's destructive one)."""
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    head = proposed["pull_request"]["head_sha"]
    git(config_repo.remote, "branch", "-f", "lifecycle/extend/dev", head)
    number = open_by_hand(config_repo, "lifecycle/extend/dev")
    approve(capsys, config_repo, number, "dev-bob")
    assert_held(capsys, config_repo, number, reason="which an `extend` change of 'dev' may not")
    git(config_repo.remote, "branch", "-f", "lifecycle/refresh/staging", head)
    number = open_by_hand(config_repo, "lifecycle/refresh/staging")
    approve(capsys, config_repo, number, "cab-jonas")
    assert_held(capsys, config_repo, number, reason="no `odoo-gitops refresh` run pushed")


def test_a_merged_extend_replayed_later_needs_fresh_approvals(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """An approved and merged extend: its branch pushed again later (same audited content, a new PR) does
    not inherit the old PR's approvals."""
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    number, head = proposed["pull_request"]["number"], proposed["pull_request"]["head_sha"]
    approve(capsys, config_repo, number, "cab-ines")
    code, _, err = run(capsys, config_repo, "pr", "merge", str(number))
    assert code == 0, err
    git(config_repo.remote, "branch", "-f", "lifecycle/extend/staging", head)
    again = open_by_hand(config_repo, "lifecycle/extend/staging")
    assert again != number
    code, out, err = run(capsys, config_repo, "gate", "check", str(again))
    verdict = verdict_of(out, err)
    assert code == 3 and verdict["state"] != "success", verdict


# --- who approves ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["cab-ines", "Cab-Ines", "CAB-INES"])
def test_the_commands_runner_cannot_approve_its_own_change(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    code, proposed, err = run_as(
        capsys, config_repo, "cab-ines", "env", "extend", "staging", "--until", LATER
    )
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    approve(capsys, config_repo, number, spelling)
    verdict = assert_held(capsys, config_repo, number)
    assert verdict["approvals"]["counted"] == []


def test_a_second_run_by_an_approver_disqualifies_that_approver(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """ci-bot proposes; cab-ines re-runs the same command (same content: no new push) and approves."""
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    code, _, err = run_as(capsys, config_repo, "cab-ines", "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    approve(capsys, config_repo, number, "cab-ines")
    verdict = assert_held(capsys, config_repo, number)
    assert verdict["approvals"]["counted"] == []


# --- refresh and production data ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("prod", "staging", "--tenant", "acme-build"),  # production data, no masking rules
        ("staging", "prod"),  # overwrites production
        ("prod", "dev", *ACME),  # real data into a synthetic env
    ],
)
def test_refresh_into_unmasked_or_production_targets_is_refused(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, config_repo, "refresh", *args)
    assert code == 3, err
    refs = git(config_repo.remote, "for-each-ref", "--format=%(refname)", "refs/heads/lifecycle")
    assert refs.strip() == ""


def test_a_refresh_pr_edited_to_drop_its_masking_rules_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    code, proposed, err = run(capsys, config_repo, "refresh", "prod", "staging", *ACME)
    assert code == 0, err
    number = proposed["pull_request"]["number"]
    approve(capsys, config_repo, number, "cab-ines", "cab-jonas")

    def unmask(work: Path) -> None:
        def change(data: Any) -> None:
            data["refresh"]["masking"] = {"file": None, "rules": None}

        edit_yaml(work / "envs/staging/values.yaml", change)
        env = work / "envs/staging/env.yaml"
        edit_yaml(env, lambda d: d["refresh"].pop("masking", None))

    push_branch(config_repo, "lifecycle/refresh/staging", unmask, start="lifecycle/refresh/staging")
    verdict = assert_held(capsys, config_repo, number, reason="no `odoo-gitops refresh` run pushed")
    assert verdict["state"] == "failure"


def test_a_refresh_pr_pointed_at_prods_database_fails(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The refresh PR's values also point staging's own database at production's (host and secret)."""
    code, proposed, err = run(capsys, config_repo, "refresh", "prod", "staging", *ACME)
    assert code == 0, err
    number = proposed["pull_request"]["number"]

    def point(work: Path) -> None:
        prod = yaml.safe_load((work / "envs/prod/values.yaml").read_text()).get("database") or {}
        edit_yaml(work / "envs/staging/values.yaml", lambda d: d.setdefault("database", {}).update(prod))

    push_branch(config_repo, "lifecycle/refresh/staging", point, start="lifecycle/refresh/staging")
    approve(capsys, config_repo, number, "cab-ines", "cab-jonas")
    assert_held(capsys, config_repo, number, reason="no `odoo-gitops refresh` run pushed")


# --- history tricks: a head with two best merge bases ----------------------------------------------------


def test_a_criss_cross_head_cannot_smuggle_a_revert_of_another_envs_change(
    config_repo: ConfigRepoFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The gate diffs the head against ONE merge base (`git merge-base`); `git merge` uses them all (a
    virtual base). Mallory's head merges two commits main holds (the first parent of an earlier PR's merge
    and that PR's head), its tree = the audited `env extend dev` content on top of the merge base the gate
    picks: the gate sees only dev's env.yaml, the merge also reverts the earlier PR (staging's extension)."""
    code, proposed, err = run(capsys, config_repo, "env", "extend", "staging", "--until", LATER)
    assert code == 0, err
    first = proposed["pull_request"]["number"]
    approve(capsys, config_repo, first, "cab-ines")
    code, _, err = run(capsys, config_repo, "pr", "merge", str(first))
    assert code == 0, err
    git(config_repo.work, "fetch", "-q", "origin")
    merge = git(config_repo.work, "log", "--format=%H", "--merges", "-1", "origin/main").strip()
    main_side, pr_side = git(config_repo.work, "rev-parse", f"{merge}^1", f"{merge}^2").split()
    staged = at_branch(config_repo, "main", "envs/staging/env.yaml")
    assert staged is not None and LATER in staged

    code, proposed, err = run(capsys, config_repo, "env", "extend", "dev", "--until", "2099-01-01")
    assert code == 0, err
    number, honest = proposed["pull_request"]["number"], proposed["pull_request"]["head_sha"]
    git(config_repo.work, "fetch", "-q", "origin", "lifecycle/extend/dev")
    work = config_repo.work
    probe = git(work, "commit-tree", f"{main_side}^{{tree}}", "-p", main_side, "-p", pr_side, "-m", "x")
    base = git(work, "merge-base", "origin/main", probe.strip()).strip()
    assert base in {main_side, pr_side}
    # the tree: the base the gate will pick, with dev's env.yaml exactly as the audited run wrote it
    git(work, "read-tree", base)
    blob = git(work, "rev-parse", f"{honest}:envs/dev/env.yaml").strip()
    git(work, "update-index", "--cacheinfo", f"100644,{blob},envs/dev/env.yaml")
    tree = git(work, "write-tree").strip()
    git(work, "read-tree", "HEAD")
    head = git(
        work, "commit-tree", tree, "-p", main_side, "-p", pr_side, "-m", "env: extend dev until 2099-01-01"
    )
    git(work, "push", "-q", "-f", "origin", f"{head.strip()}:refs/heads/lifecycle/extend/dev")
    approve(capsys, config_repo, number, "dev-alice")  # dev's policy: one developer
    code, out, err = run(capsys, config_repo, "gate", "check", str(number))
    verdict = verdict_of(out, err)
    code_merge, _, err_merge = run(capsys, config_repo, "pr", "merge", str(number))
    after = at_branch(config_repo, "main", "envs/staging/env.yaml") or ""
    # the secure outcome: the gate does not pass a head whose merge does more than the audited change
    assert code == 3 and verdict["state"] != "success", (base == main_side, verdict)
    assert code_merge == 3, err_merge
    assert LATER in after, "merging the dev extend (one developer) reverted staging's extension (cab)"


def criss_cross_head(repo: ConfigRepoFixture, honest: str, path: str) -> tuple[str, str, str]:
    """A head whose parents are the two sides of main's latest PR merge, its tree the merge base git picks
    with `path` as the honest (audited) head has it. Returns (head, base picked, the PR side)."""
    work = repo.work
    git(work, "fetch", "-q", "origin")
    git(work, "fetch", "-q", "origin", honest)
    merge = git(work, "log", "--format=%H", "--merges", "-1", "origin/main").strip()
    main_side, pr_side = git(work, "rev-parse", f"{merge}^1", f"{merge}^2").split()
    probe = git(work, "commit-tree", f"{main_side}^{{tree}}", "-p", main_side, "-p", pr_side, "-m", "x")
    base = git(work, "merge-base", "origin/main", probe.strip()).strip()
    git(work, "read-tree", base)
    blob = git(work, "rev-parse", f"{honest}:{path}").strip()
    git(work, "update-index", "--cacheinfo", f"100644,{blob},{path}")
    tree = git(work, "write-tree").strip()
    git(work, "read-tree", "HEAD")
    head = git(work, "commit-tree", tree, "-p", main_side, "-p", pr_side, "-m", "lifecycle change").strip()
    return head, base, pr_side


def test_a_criss_cross_dev_extend_cannot_roll_prod_back(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same trick against production: 1.5.0 promoted to prod (2 cab, window, scan, signature) and
    merged; then `env extend dev` (one developer approves) whose head's merge rolls prod back to 1.3.2."""
    repo = stage.repo
    code, result = promote_cli(capsys, repo, "promote", "staging", "prod", "--actor", "ci-bot")
    assert code == 0, result
    number = result["pull_request"]["number"]
    approve(capsys, repo, number, "cab-ines", "cab-jonas")
    code, _, err = run(capsys, repo, "pr", "merge", str(number))
    assert code == 0, err
    assert "1.5.0" in (at_branch(repo, "main", "envs/prod/release.yaml") or "")

    code, proposed, err = run(capsys, repo, "env", "extend", "dev", "--until", "2099-01-01")
    assert code == 0, err
    dev_pr, honest = proposed["pull_request"]["number"], proposed["pull_request"]["head_sha"]
    head, base, pr_side = criss_cross_head(repo, honest, "envs/dev/env.yaml")
    git(repo.work, "push", "-q", "-f", "origin", f"{head}:refs/heads/lifecycle/extend/dev")
    approve(capsys, repo, dev_pr, "dev-alice")
    code, out, err = run(capsys, repo, "gate", "check", str(dev_pr))
    verdict = verdict_of(out, err)
    code_merge, _, err_merge = run(capsys, repo, "pr", "merge", str(dev_pr))
    after = at_branch(repo, "main", "envs/prod/release.yaml") or ""
    outcome = {
        "gate": (code, verdict["state"]),
        "merge_exit": code_merge,
        "prod_still_on_1_5_0": "1.5.0" in after,
        "base_picked": "pr side" if base == pr_side else "main side",
    }
    assert code == 3 and verdict["state"] != "success", outcome
    assert code_merge == 3, (outcome, err_merge)
    assert "1.5.0" in after, ("merging a dev extend (one developer) rolled prod back", outcome)


def promote_cli(
    capsys: pytest.CaptureFixture[str], repo: ConfigRepoFixture, *args: str
) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--config-repo", str(repo.remote), "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}

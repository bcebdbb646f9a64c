"""promote --addons-repo: both releases' source commits exported from a real addons git repo and diffed."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from gitops.cli.main import main
from tests.fixtures.configrepo import REPO, git
from tests.fixtures.promote import Stage, release_data


def addons_repo(base: Path, *, migration: bool = True) -> tuple[Path, str, str]:
    """The example addons at commit 1; commit 2 drops site diary's crew_size field (destructive)."""
    repo = base / "addons"
    shutil.copytree(REPO / "examples" / "addons", repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "addons")
    old = git(repo, "rev-parse", "HEAD")
    model = repo / "acme_site_diary/models/site_diary.py"
    model.write_text(model.read_text().replace("    crew_size = fields.Integer()\n", ""))
    manifest = repo / "acme_site_diary/__manifest__.py"
    manifest.write_text(manifest.read_text().replace("17.0.2.1.0", "17.0.2.2.0"))
    if migration:
        script = repo / "acme_site_diary/migrations/17.0.2.2.0/pre-migrate.py"
        script.parent.mkdir(parents=True)
        script.write_text(
            "def migrate(cr, version):\n    cr.execute('ALTER TABLE acme_site_diary DROP crew_size')\n"
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "drop crew_size")
    return repo, old, git(repo, "rev-parse", "HEAD")


def run(capsys: pytest.CaptureFixture[str], stage: Stage, *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--config-repo", str(stage.repo.remote), "--json"])
    return code, json.loads(capsys.readouterr().out)


def releases_from(stage: Stage, old: str, new: str) -> None:
    stage.pull()
    prod = yaml.safe_load((stage.repo.work / "envs/prod/release.yaml").read_text())
    prod["source_commit"] = old
    from gitops.promote.edit import render_release

    (stage.repo.work / "envs/prod/release.yaml").write_text(render_release(prod))
    stage.release("staging", {**release_data("1.5.0"), "source_commit": new})


def test_schema_diff_makes_the_change_destructive_and_lists_it_first(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, old, new = addons_repo(tmp_path)
    releases_from(stage, old, new)
    code, result = run(
        capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo), "--actor", "ci"
    )
    assert code == 0, result
    assert (result["change_class"], result["destructive"]) == ("normal", True)
    labels = set(result["pull_request"]["labels"])
    assert {"change:destructive", "schema-change", "cab-required"} <= labels
    _, shown = run(capsys, stage, "pr", "show", str(result["pull_request"]["number"]))
    body = shown["body"]
    table = body.split("### Schema changes")[1].split("###")[0]
    rows = [r for r in table.splitlines() if r.startswith("| ")][1:]  # after the header row
    assert rows[0].startswith("| **destructive** |")
    assert "crew_size" in rows[0]
    assert "schema diff not computed" not in body
    _, gate = run(capsys, stage, "gate", "check", str(result["pull_request"]["number"]), "--no-publish")
    assert gate["verdict"]["rule"] == "destructive"
    assert "backup must be recorded" in " ".join(gate["verdict"]["reasons"])


def test_addons_diff_errors_are_a_precondition_failure(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    repo, old, new = addons_repo(tmp_path, migration=False)
    releases_from(stage, old, new)
    code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
    assert code == 3
    assert "without a migration script for 17.0.2.2.0" in result["reasons"][0]


def test_without_addons_repo_changed_modules_count_as_schema_changes(
    stage: Stage, capsys: pytest.CaptureFixture[str]
) -> None:
    stage.release("staging", {**release_data("1.5.0"), "change_class": "standard"})
    code, result = run(capsys, stage, "promote", "staging", "prod")
    assert code == 0
    assert result["change_class"] == "normal"
    _, gate = run(capsys, stage, "gate", "check", str(result["pull_request"]["number"]), "--no-publish")
    assert gate["verdict"]["rule"] == "normal"


@pytest.mark.parametrize("signed", [True, False])
def test_the_schema_evidence_counts_only_when_the_supply_checks_pass(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path, signed: bool
) -> None:
    """The schema diff runs while the registry is asked (service.promote): as when it ran afterwards, its
    refusal (or error) is the answer only when the supply checks passed; else the supply's reasons are."""
    repo, old, new = addons_repo(tmp_path, migration=False)
    releases_from(stage, old, new)
    stage.supply.signature_ok = signed
    code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
    assert code == 3
    schema_refused = any("without a migration script for 17.0.2.2.0" in r for r in result["reasons"])
    signature_refused = any("image signature does not verify" in r for r in result["reasons"])
    assert (schema_refused, signature_refused) == (signed, not signed), result["reasons"]


@pytest.mark.parametrize("signed", [True, False])
def test_an_unreadable_source_commit_fails_only_when_the_schema_evidence_counts(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path, signed: bool
) -> None:
    repo, old, _ = addons_repo(tmp_path)
    releases_from(stage, old, "f" * 40)  # no such commit in the addons repo
    stage.supply.signature_ok = signed
    code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
    if signed:
        assert code == 1 and result["error"] != "policy", result
        assert "f" * 12 in json.dumps(result)
    else:
        assert code == 3 and result["error"] == "policy", result
        assert any("image signature does not verify" in r for r in result["reasons"])
    assert git(stage.repo.remote, "branch", "--list", "promote/*") == ""


def test_a_registry_failure_is_the_answer_while_the_schema_evidence_runs(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The supply checks fail with an error of their own while the schema evidence (which would fail too)
    runs on its thread: the supply's error is reported, as when the evidence ran after them."""
    from gitops.errors import ExternalError
    from gitops.supply import evidence

    repo, old, _ = addons_repo(tmp_path)
    releases_from(stage, old, "f" * 40)  # the schema evidence fails: no such commit

    def unreachable(image: str, key: bytes) -> Any:
        raise ExternalError("registry unreachable: connection refused")

    monkeypatch.setattr(evidence, "check_signature", unreachable)
    code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
    assert code == 1 and "registry unreachable" in result["message"], result
    assert "f" * 12 not in json.dumps(result)
    assert git(stage.repo.remote, "branch", "--list", "promote/*") == ""


class DiffLog:
    """compute_schema_diff as seen from the parent and the forked child alike: each call appends a line
    `<pid> <old> <new>` to a file (a list would stay in the process that appended to it)."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch, *, hold: Path | None = None) -> None:
        from gitops.promote import service

        self.path, self.hold, self.real = path, hold, service.compute_schema_diff
        monkeypatch.setattr(service, "compute_schema_diff", self.diff)

    def diff(self, addons: Path, old_commit: str | None, new_commit: str) -> Any:
        with self.path.open("a") as log:
            log.write(f"{os.getpid()} {old_commit} {new_commit}\n")
        while self.hold is not None and not self.hold.exists():  # held until the test lets it go
            time.sleep(0.01)
        result = self.real(addons, old_commit, new_commit)
        with self.path.open("a") as log:
            log.write(f"{os.getpid()} done\n")
        return result

    def calls(self) -> list[tuple[bool, str, str]]:
        """(made in this process?, old, new) of each call begun."""
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        return [
            (pid == str(os.getpid()), old, new)
            for pid, old, new in (line.split() for line in lines if not line.endswith(" done"))
        ]

    def finished(self) -> int:
        return sum(line.endswith(" done") for line in self.path.read_text().splitlines())


def test_the_schema_evidence_starts_right_after_the_clone_in_another_process(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """service.promote reads the two source commits from the raw release.yaml files of the clone and starts
    the evidence in a child process before the config is loaded: it runs on the other core meanwhile."""
    from gitops.promote import installer

    repo, old, new = addons_repo(tmp_path)
    releases_from(stage, old, new)
    log = DiffLog(tmp_path / "diffs.log", monkeypatch)
    real_load = installer.config_store.load_checkout

    def load(checkout: Any) -> Any:
        deadline = time.monotonic() + 30
        while not log.calls() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert log.calls(), "the schema evidence did not start before the config load"
        return real_load(checkout)

    monkeypatch.setattr(installer.config_store, "load_checkout", load)
    code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
    assert code == 0, result
    assert (result["change_class"], result["destructive"]) == ("normal", True)
    assert log.calls() == [(False, old, new)]  # once, early, in the child


def test_early_evidence_of_other_commits_than_the_loaded_config_names_is_not_used(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitops.promote import service

    repo, old, new = addons_repo(tmp_path)
    releases_from(stage, old, new)
    log = DiffLog(tmp_path / "diffs.log", monkeypatch)
    monkeypatch.setattr(service, "_source_commit", lambda raw: new)  # as if the raw files said otherwise
    code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
    assert code == 0, result
    assert log.calls() == [(False, new, new), (True, old, new)]  # the early diff dropped, the right one made
    assert (result["change_class"], result["destructive"]) == ("normal", True)


def test_an_error_in_the_early_evidence_is_raised_by_the_evidence_made_again(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception does not cross the pipe (pickle cannot rebuild a ConfigError): the child gives no
    answer, and the evidence made again in the promotion's process meets the error itself."""
    repo, old, _ = addons_repo(tmp_path)
    releases_from(stage, old, "f" * 40)  # no such commit in the addons repo: ExternalError
    log = DiffLog(tmp_path / "diffs.log", monkeypatch)
    code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
    assert code == 1 and result["error"] != "policy", result
    assert "f" * 12 in json.dumps(result)
    assert log.calls() == [(False, old, "f" * 40), (True, old, "f" * 40)]


def test_a_refused_promotion_neither_waits_for_the_early_evidence_nor_reports_it(
    stage: Stage, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run refused before the evidence counts returns without waiting for it (it would add its whole time
    to every refusal) and says nothing of it."""
    repo, old, new = addons_repo(tmp_path, migration=False)  # the evidence would refuse too
    releases_from(stage, old, new)
    stage.supply.signature_ok = False
    hold = tmp_path / "let-the-diff-go"
    log = DiffLog(tmp_path / "diffs.log", monkeypatch, hold=hold)
    try:
        code, result = run(capsys, stage, "promote", "staging", "prod", "--addons-repo", str(repo))
        assert log.calls() == [(False, old, new)] and log.finished() == 0  # returned while it still ran
    finally:
        hold.touch()
    assert code == 3
    assert any("image signature does not verify" in r for r in result["reasons"])
    assert not any("migration script" in r for r in result["reasons"])


def test_a_refused_run_waits_for_the_early_pr_listing_before_its_clone_is_removed(
    stage: Stage, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The open PRs are listed on a thread while the run decides; the local forge lists them by fetching
    into the clone. A refused run must not return (and its clone be removed) while that fetch runs."""
    from gitops.forge.local import LocalForge

    stage.supply.signature_ok = False
    real, done = LocalForge.open_pulls, []

    def slow_listing(self: LocalForge, *, base: str) -> Any:
        time.sleep(0.3)
        try:
            return real(self, base=base)
        finally:
            done.append(True)

    monkeypatch.setattr(LocalForge, "open_pulls", slow_listing)
    code, result = run(capsys, stage, "promote", "staging", "prod")
    assert done == [True]  # the listing had finished when the run returned
    assert code == 3 and any("image signature does not verify" in r for r in result["reasons"])

"""`odoo-gitops audit log|verify` end to end: the remote's main is read, and tampering is named (exit 4)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gitops.audit import append_entry, read_entries
from gitops.cli.main import main
from tests.audit.helpers import Lines, append, edit_entry, log_file, remote_main, rewrite
from tests.fixtures.configrepo import ConfigRepoFixture, git

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return invoke


def stale_clone(repo: ConfigRepoFixture, tmp_path: Path) -> Path:
    clone = tmp_path / "stale"
    git(tmp_path, "clone", "-q", str(repo.remote), str(clone))
    return clone


def test_log_reads_the_remote_main_not_a_stale_clone(
    run: Run, config_repo: ConfigRepoFixture, tmp_path: Path
) -> None:
    append(config_repo, 1)
    clone = stale_clone(config_repo, tmp_path)
    append(config_repo, 5, start=1)  # the clone is now 5 commits behind
    head = remote_main(config_repo)
    code, out, err = run("audit", "log", "prod", "--config-repo", str(clone), "--json")
    data = json.loads(out)
    assert code == 0
    assert [e["seq"] for e in data["entries"]] == [1, 2, 3, 4, 5, 6]
    assert (data["ref"], data["commit"]) == ("origin/main", head)
    assert data["source"] == config_repo.remote.as_uri()
    assert f"read origin/main @ {head}" in err
    assert len(read_entries(clone / "audit" / "prod.jsonl")) == 1  # the local checkout was not the source


@pytest.mark.parametrize("form", ["bare", "url", "clone"])
def test_verify_reads_main_from_every_form_of_config_repo(
    run: Run, config_repo: ConfigRepoFixture, form: str
) -> None:
    append(config_repo, 2)
    spec = {
        "bare": str(config_repo.remote),
        "url": config_repo.remote.as_uri(),
        "clone": str(config_repo.work),
    }[form]
    code, out, err = run("audit", "verify", "--config-repo", spec, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["commit"] == remote_main(config_repo)
    [chain] = data["chains"]
    assert (chain["env"], chain["entries"], chain["history"]["versions"]) == ("prod", 2, 2)
    assert f"read origin/main @ {data['commit']}" in err


def _cut_last(lines: Lines) -> Lines:
    return lines[:-1]


def _cut_all_but_first(lines: Lines) -> Lines:
    return lines[:1]


def _truncate(lines: Lines) -> Lines:
    return []


TAMPERING = [
    # (case, how, kind, lost seqs): each leaves a valid hash chain behind; only main's history tells
    ("cut the last entry", _cut_last, "rewritten", [4]),
    ("cut the last three", _cut_all_but_first, "rewritten", [2, 3, 4]),
    ("empty the file", _truncate, "rewritten", [1, 2, 3, 4]),
    ("edit entry 2 and re-chain", edit_entry(1), "rewritten", [2, 3, 4]),
    ("delete the file", None, "deleted", [1, 2, 3, 4]),
]


@pytest.mark.parametrize(("how", "kind", "lost"), [c[1:] for c in TAMPERING], ids=[c[0] for c in TAMPERING])
def test_tampering_through_a_commit_on_main_exits_4_naming_commit_and_entries(
    run: Run,
    config_repo: ConfigRepoFixture,
    how: Callable[[Lines], Lines] | None,
    kind: str,
    lost: list[int],
) -> None:
    append(config_repo, 4)
    append(config_repo, 1, env="staging")
    if how is None:
        log_file(config_repo).unlink()
    else:
        rewrite(config_repo, how)
    bad = config_repo.commit_all("routine cleanup")
    code, out, _ = run("audit", "verify", "--config-repo", str(config_repo.remote), "--json")
    data = json.loads(out)
    assert code == 4 and data["ok"] is False
    chains = {c["env"]: c for c in data["chains"]}
    assert set(chains) == {"prod", "staging"}  # a deleted log is still checked
    assert chains["staging"]["ok"] is True
    prod = chains["prod"]
    assert prod["first_bad_line"] is None and prod["ok"] is False  # the chain alone would have passed
    [tampering] = prod["history"]["tampering"]
    assert (tampering["commit"], tampering["kind"]) == (bad, kind)
    assert [e["seq"] for e in tampering["lost"]] == lost
    code, out, _ = run("audit", "verify", "prod", "--config-repo", str(config_repo.remote))
    assert code == 4
    assert f"prod: commit {bad[:12]} ('routine cleanup' by Test Author <author@example.com>)" in out
    assert "entries lost: " + ", ".join(f"seq {n}" for n in lost) in out


def test_an_edit_in_the_working_tree_of_the_clone_changes_nothing(
    run: Run, config_repo: ConfigRepoFixture
) -> None:
    append(config_repo, 3)
    rewrite(config_repo, _cut_last)  # not committed: main is the source of truth
    code, out, _ = run("audit", "verify", "prod", "--config-repo", str(config_repo.work), "--json")
    assert code == 0 and json.loads(out)["chains"][0]["entries"] == 3


def test_unknown_environment_exits_2(run: Run, config_repo: ConfigRepoFixture) -> None:
    code, _, err = run("audit", "verify", "qa", "--config-repo", str(config_repo.remote))
    assert code == 2 and "unknown environment 'qa'" in err and "known: dev, prod, staging" in err
    code, _, err = run("audit", "log", "qa", "--config-repo", str(config_repo.remote))
    assert code == 2 and "unknown environment 'qa'" in err


def test_known_environment_without_a_log_is_ok_with_no_entries(
    run: Run, config_repo: ConfigRepoFixture
) -> None:
    code, out, _ = run("audit", "verify", "dev", "--config-repo", str(config_repo.remote), "--json")
    [chain] = json.loads(out)["chains"]
    assert code == 0 and (chain["env"], chain["entries"], chain["history"]["versions"]) == ("dev", 0, 0)


def test_an_env_removed_from_config_is_still_verified(run: Run, config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 2, env="staging")
    work = config_repo.work
    shutil.move(work / "envs" / "staging", work / "envs" / "preprod")
    for path in [work / "envs" / "preprod" / "env.yaml", *(work / "pipelines").glob("*.yaml")]:
        # the names only: `purpose: staging` stays a purpose
        path.write_text(
            path.read_text().replace("name: staging", "name: preprod").replace("env: staging", "env: preprod")
        )
    config_repo.commit_all("rename staging to preprod")
    code, out, _ = run("audit", "verify", "staging", "--config-repo", str(config_repo.remote), "--json")
    assert code == 0 and json.loads(out)["chains"][0]["entries"] == 2


def test_a_plain_directory_is_read_as_is_and_says_its_history_is_not_checked(
    run: Run, tmp_path: Path
) -> None:
    append_entry(tmp_path / "audit" / "prod.jsonl", env="prod", kind="note", actor="ci", data={})
    code, out, err = run("audit", "verify", "--config-repo", str(tmp_path), "--json")
    data = json.loads(out)
    assert code == 0 and (data["ref"], data["commit"], data["chains"][0]["history"]) == (None, None, None)
    assert "not a git repository: its history is not checked" in err


def _trail(repo: ConfigRepoFixture) -> None:
    path = log_file(repo)
    append_entry(path, env="prod", kind="promotion", actor="rel-omar", data={"pr": 7, "version": "1.4.0"})
    append_entry(
        path,
        env="prod",
        kind="approval",
        actor="ci",
        data={"pr": 7, "user": "cab-ines", "review_id": 31, "rule": "normal"},
    )
    append_entry(
        path,
        env="prod",
        kind="override",
        actor="rel-maria",
        data={
            "env": "prod",
            "who": "rel-maria",
            "reason": "payroll export broken for every tenant since the nightly run",
            "ticket": "INC-7",
            "windows_violated": [{"calendar": "month-end", "window": "close", "kind": "deny"}],
        },
    )
    repo.commit_all("audit trail")


def test_log_shows_who_did_what(
    run: Run, config_repo: ConfigRepoFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trail(config_repo)
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run("audit", "log", "prod", "--config-repo", str(config_repo.remote))
    promotion, approval, override = out.splitlines()
    assert code == 0
    assert promotion.split()[2:4] == ["promotion", "rel-omar"]
    assert approval.split()[2:7] == ["approval", "cab-ines", "(recorded", "by", "ci)"]
    assert override.split()[2:4] == ["override", "rel-maria"]
    assert "windows_violated=month-end/close" in override and "ticket=INC-7" in override


@pytest.mark.parametrize("columns", [50, 72, 120])
def test_log_wraps_between_words_at_the_terminal_width(
    run: Run, config_repo: ConfigRepoFixture, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    _trail(config_repo)
    monkeypatch.setenv("COLUMNS", str(columns))
    code, out, _ = run("audit", "log", "prod", "--config-repo", str(config_repo.remote))
    assert code == 0
    lines = out.splitlines()
    assert all(len(line) <= columns or " " not in line.strip() for line in lines)
    words = [w.rstrip(",") for w in out.split()]
    reason = [
        "reason=payroll",
        "export",
        "broken",
        "for",
        "every",
        "tenant",
        "since",
        "the",
        "nightly",
        "run",
    ]
    start = words.index(reason[0])
    assert words[start : start + len(reason)] == reason  # every word whole, in order, across the wrap
    assert "user=cab-ines" in words and "cab-ines" in words


def test_log_json_gives_whole_entries(
    run: Run, config_repo: ConfigRepoFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    _trail(config_repo)
    monkeypatch.setenv("COLUMNS", "40")
    code, out, _ = run("audit", "log", "prod", "--config-repo", str(config_repo.remote), "--json")
    assert code == 0
    assert json.loads(out)["entries"] == [e.to_dict() for e in read_entries(log_file(config_repo))]

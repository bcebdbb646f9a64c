"""Main's history anchors each audit log: only appends are allowed, on real git repositories."""

from __future__ import annotations

from gitops.audit.history import LogHistory
from gitops.audit_trail.source import open_audit_source
from tests.audit.helpers import append, edit_entry, log_file, rewrite
from tests.fixtures.configrepo import ConfigRepoFixture, git


def histories(repo: ConfigRepoFixture) -> dict[str, LogHistory]:
    with open_audit_source(str(repo.remote)) as source:
        found = source.history()
    assert found is not None
    return found


def test_appends_over_many_commits_are_clean(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 3)
    append(config_repo, 2, env="staging")
    append(config_repo, 2, start=3)
    found = histories(config_repo)
    assert set(found) == {"prod", "staging"}
    assert (found["prod"].versions, found["prod"].lines, found["prod"].tampering) == (5, 5, [])
    assert (found["staging"].versions, found["staging"].exists) == (2, True)


def test_cutting_the_last_entries_names_the_commit_and_the_entries(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 4)
    rewrite(config_repo, lambda lines: lines[:2])
    cut = config_repo.commit_all("tidy the log")
    append(config_repo, 1, start=10)  # appending afterwards does not hide the cut
    [tampering] = histories(config_repo)["prod"].tampering
    assert (tampering.commit, tampering.kind, tampering.subject) == (cut, "rewritten", "tidy the log")
    assert [(e.line, e.seq) for e in tampering.lost] == [(3, 3), (4, 4)]
    assert tampering.author == "Test Author <author@example.com>"
    assert f"commit {cut[:12]}" in tampering.message() and "entries lost: seq 3, seq 4" in tampering.message()


def test_a_deleted_log_is_named_with_every_entry_it_held(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 3)
    log_file(config_repo).unlink()
    gone = config_repo.commit_all("drop the audit log")
    history = histories(config_repo)["prod"]
    [tampering] = history.tampering
    assert (tampering.commit, tampering.kind, history.exists) == (gone, "deleted", False)
    assert [e.seq for e in tampering.lost] == [1, 2, 3]


def test_a_rechained_edit_is_caught_although_the_chain_is_valid(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 4)
    rewrite(config_repo, edit_entry(1))
    forged = config_repo.commit_all("forge entry 2")
    [tampering] = histories(config_repo)["prod"].tampering
    assert (tampering.commit, tampering.kind) == (forged, "rewritten")
    assert [e.seq for e in tampering.lost] == [2, 3, 4]


def test_an_entry_inserted_before_existing_ones(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 2)
    rewrite(config_repo, lambda lines: [lines[1], *lines])
    config_repo.commit_all("insert")
    [tampering] = histories(config_repo)["prod"].tampering
    assert (tampering.kind, tampering.lost) == ("inserted", ())


def test_a_merge_that_cuts_entries_is_caught_on_the_first_parent_line(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 3)
    git(config_repo.work, "checkout", "-q", "-b", "pr")
    rewrite(config_repo, lambda lines: lines[:1])
    git(config_repo.work, "commit", "-qam", "looks harmless")
    git(config_repo.work, "checkout", "-q", "main")
    git(config_repo.work, "merge", "-q", "--no-ff", "-m", "Merge PR", "pr")
    git(config_repo.work, "push", "-q", "origin", "main")
    [tampering] = histories(config_repo)["prod"].tampering
    assert tampering.subject == "Merge PR" and [e.seq for e in tampering.lost] == [2, 3]


def test_a_merge_that_leaves_the_log_alone_is_clean(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 1)
    git(config_repo.work, "checkout", "-q", "-b", "pr")
    (config_repo.work / "envs" / "dev" / "values.yaml").write_text("# edited on a PR\n")
    git(config_repo.work, "commit", "-qam", "pr change")
    git(config_repo.work, "checkout", "-q", "main")
    append(config_repo, 2, start=1)  # main moves on while the PR is open
    git(config_repo.work, "merge", "-q", "--no-ff", "-m", "Merge PR", "pr")
    git(config_repo.work, "push", "-q", "origin", "main")
    history = histories(config_repo)["prod"]
    assert (history.tampering, history.lines) == ([], 3)


def test_a_newline_change_at_the_end_of_the_last_line_loses_nothing(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 2)
    text = log_file(config_repo).read_text()
    log_file(config_repo).write_text(text.rstrip("\n"))
    config_repo.commit_all("no final newline")
    log_file(config_repo).write_text(text)
    config_repo.commit_all("newline back")
    append(config_repo, 1, start=2)
    history = histories(config_repo)["prod"]
    assert (history.tampering, history.versions, history.lines) == ([], 5, 3)


def test_a_shallow_clone_is_deepened_so_the_first_version_is_the_real_one(
    config_repo: ConfigRepoFixture,
) -> None:
    append(config_repo, 3)
    rewrite(config_repo, lambda lines: lines[:1])
    config_repo.commit_all("cut")
    for i in range(55):  # beyond the 50 commits a session clones
        git(config_repo.work, "commit", "-q", "--allow-empty", "-m", f"later {i}")
    git(config_repo.work, "push", "-q", "origin", "main")
    [tampering] = histories(config_repo)["prod"].tampering
    assert tampering.subject == "cut" and [e.seq for e in tampering.lost] == [2, 3]


def test_a_line_forging_a_commit_header_does_not_hide_the_cut(config_repo: ConfigRepoFixture) -> None:
    append(config_repo, 3)
    path = log_file(config_repo)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:1]) + b"\x00commit\x00" + b"f" * 40 + b"\x00x\x00innocent\n")
    cut = config_repo.commit_all("cut and hide")
    [tampering] = histories(config_repo)["prod"].tampering
    assert (tampering.commit, tampering.subject) == (cut, "cut and hide")
    assert [e.seq for e in tampering.lost] == [2, 3]

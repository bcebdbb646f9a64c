"""The audit chain: append, idempotency, and naming the first edited, removed or reordered entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitops.audit import append_entry, read_entries, verify_chain
from gitops.cli.main import main
from gitops.errors import register_secret


def _log(tmp_path: Path, n: int = 4) -> Path:
    path = tmp_path / "audit" / "prod.jsonl"
    for i in range(n):
        append_entry(
            path, env="prod", kind="promotion", actor="ci", data={"version": f"1.{i}.0"}, key=f"k{i}"
        )
    return path


def test_chain_ok_and_idempotent(tmp_path: Path) -> None:
    path = _log(tmp_path)
    again = append_entry(path, env="prod", kind="promotion", actor="ci", data={"version": "x"}, key="k2")
    assert again.data == {"version": "1.2.0"} and len(read_entries(path)) == 4
    report = verify_chain(path, "prod")
    assert report.ok and report.entries == 4


def _rewrite(path: Path, transform) -> None:  # type: ignore[no-untyped-def]
    lines = path.read_text().splitlines()
    path.write_text("\n".join(transform(lines)) + "\n")


def test_edited_entry_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    _rewrite(path, lambda ls: [ls[0], ls[1].replace("1.1.0", "9.9.9"), *ls[2:]])
    report = verify_chain(path, "prod")
    assert not report.ok and report.first_bad_line == 2 and "edited" in (report.reason or "")


def test_removed_entry_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    _rewrite(path, lambda ls: [ls[0], *ls[2:]])
    report = verify_chain(path, "prod")
    assert not report.ok and report.first_bad_line == 2 and report.first_bad_seq == 3


def test_reordered_entry_named(tmp_path: Path) -> None:
    path = _log(tmp_path)
    _rewrite(path, lambda ls: [ls[0], ls[2], ls[1], ls[3]])
    report = verify_chain(path, "prod")
    assert not report.ok and report.first_bad_line == 2


def test_secrets_never_written(tmp_path: Path) -> None:
    register_secret("s3cr3t-token-value")
    path = tmp_path / "a.jsonl"
    append_entry(
        path,
        env="prod",
        kind="override",
        actor="ci",
        data={"reason": "used s3cr3t-token-value", "note": "ghp_abcdefghijklmnop1234"},
    )
    text = path.read_text()
    assert "s3cr3t-token-value" not in text and "ghp_abcdefghijklmnop1234" not in text
    assert verify_chain(path, "a").ok


def test_cli_verify_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _log(tmp_path)
    assert main(["audit", "verify", "--config-repo", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["chains"][0]["entries"] == 4
    _rewrite(path, lambda ls: ls[:1] + ls[2:])
    assert main(["audit", "verify", "prod", "--config-repo", str(tmp_path)]) == 4
    assert "BROKEN at line 2" in capsys.readouterr().out


SEPARATORS = {"line separator": "\u2028", "paragraph separator": "\u2029", "next line": "\x85"}


@pytest.mark.parametrize("char", SEPARATORS.values(), ids=SEPARATORS.keys())
def test_a_separator_json_leaves_unescaped_does_not_break_the_chain_read_from_git(
    tmp_path: Path, char: str
) -> None:
    """Attack: an emergency reason holding U+2028 (JSON writes it as it is) split the line when a log read
    from git was verified with str.splitlines: `audit verify`, the rehearsal gate and the board then called
    an intact log tampered with. A log's lines are split at line feeds only, as a file is read."""
    from gitops.audit.log import parse_entries, verify_text

    path = tmp_path / "audit" / "prod.jsonl"
    append_entry(path, env="prod", kind="promotion", actor="ci", data={"reason": f"outage{char}now"}, key="a")
    append_entry(path, env="prod", kind="note", actor="ci", data={"n": 1}, key="b")
    text = path.read_text(encoding="utf-8")
    assert char in text  # written unescaped
    assert verify_chain(path, "prod").ok and verify_text(text, "prod", "audit/prod.jsonl").ok
    assert parse_entries(text, "audit/prod.jsonl") == read_entries(path)


def test_appending_to_a_text_is_appending_to_the_file(tmp_path: Path) -> None:
    """append_text (promote appends to the log read from git, in memory) writes what append_entry writes to
    a file: the same entries, hashes and idempotency."""
    from datetime import UTC, datetime

    from gitops.audit.log import append_text

    at = datetime(2026, 12, 2, 12, tzinfo=UTC)
    path, text = tmp_path / "prod.jsonl", ""
    steps = [("promotion", {"v": "1"}, "k1"), ("note", {"reason": "x\u2028y"}, "k2"), ("promotion", {}, "k1")]
    for kind, data, key in steps:
        written = append_entry(path, env="prod", kind=kind, actor="ci", data=data, key=key, at=at)
        text, entry = append_text(
            text, where="prod.jsonl", env="prod", kind=kind, actor="ci", data=data, key=key, at=at
        )
        assert entry == written
    assert text == path.read_text(encoding="utf-8") and len(read_entries(path)) == 2
    unterminated, _ = append_text(text.rstrip("\n"), where="p", env="prod", kind="note", actor="c", data={})
    assert len(parse_entries_of(unterminated)) == 3  # a log without a final line feed gets one first
    with pytest.raises(ValueError, match="unknown audit entry kind"):
        append_text(text, where="p", env="prod", kind="bogus", actor="c", data={})


def parse_entries_of(text: str) -> list[object]:
    from gitops.audit.log import parse_entries

    return list(parse_entries(text, "p"))

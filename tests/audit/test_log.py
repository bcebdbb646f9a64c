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

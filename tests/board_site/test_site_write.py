"""Writing the site: all or nothing, never outside DIR, never over a directory that is not a board."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitops.board import site_write
from gitops.board.site_write import MARKER, write_site
from gitops.errors import UsageError


def test_writes_a_new_directory_with_the_marker(tmp_path: Path) -> None:
    out = write_site(tmp_path / "site", {"index.html": b"one", "sub/page.html": b"two"})
    assert (out / "index.html").read_bytes() == b"one"
    assert (out / "sub" / "page.html").read_bytes() == b"two"
    assert (out / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_an_empty_directory_may_be_used(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    write_site(tmp_path / "site", {"index.html": b"x"})
    assert (tmp_path / "site" / "index.html").is_file()


@pytest.mark.parametrize("name", ["../escape.html", "/etc/passwd", "a/../../b.html", ""])
def test_a_page_name_cannot_leave_the_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="outside the site directory"):
        write_site(tmp_path / "site", {"index.html": b"x", name: b"evil"})
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing half-written, no temporary left


def test_refuses_a_file_a_symlink_and_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("keep me")
    (tmp_path / "link").symlink_to(tmp_path / "foreign")
    for name in ("file", "foreign", "link"):
        with pytest.raises(UsageError):
            write_site(tmp_path / name, {"index.html": b"x"})
    assert (tmp_path / "foreign" / "notes.txt").read_text() == "keep me"


def test_a_crash_while_swapping_keeps_the_previous_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_site(tmp_path / "site", {"index.html": b"old"})
    real_rename = os.rename

    def crash_on_the_new_board(src: str | Path, dst: str | Path) -> None:
        if Path(src).name.startswith(".site.new-"):
            raise OSError("disk full")
        real_rename(src, dst)

    monkeypatch.setattr(site_write.os, "rename", crash_on_the_new_board)
    with pytest.raises(OSError, match="disk full"):
        write_site(out, {"index.html": b"new"})
    assert (out / "index.html").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_crash_while_writing_pages_leaves_the_previous_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = write_site(tmp_path / "site", {"index.html": b"old", "env-prod.html": b"old"})
    calls = {"n": 0}
    real = Path.write_bytes

    def fail_second(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("killed")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", fail_second)
    with pytest.raises(OSError, match="killed"):
        write_site(out, {"index.html": b"new", "env-prod.html": b"new"})
    assert (out / "index.html").read_bytes() == b"old"
    assert (out / "env-prod.html").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]

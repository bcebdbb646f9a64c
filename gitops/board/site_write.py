"""Write the site atomically: build it in a temporary directory beside DIR, then swap it in by renames.

DIR is either absent, empty, or a board this command wrote before (it holds MARKER); anything else is refused,
so `--out ~` can never delete a home directory. A crash leaves the previous board (or none), never half
of one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from gitops.errors import UsageError

MARKER = ".odoo-gitops-board"


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"refusing to write {name!r} outside the site directory")
    return path


def check_target(out: Path) -> None:
    """UsageError unless `out` may be replaced by a new board."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise UsageError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(
            f"--out {out}: a non-empty directory that is not a board written by odoo-gitops "
            f"(no {MARKER} in it); choose a new or empty directory"
        )


def write_site(out: Path, pages: Mapping[str, bytes]) -> Path:
    """Replace `out` by a directory holding exactly `pages`; returns its absolute path."""
    out = out.absolute()
    check_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for name, content in pages.items():
            target = build / _safe_relative(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        (build / MARKER).write_text(
            "written by odoo-gitops board; the whole directory is replaced on each run\n"
        )
        build.chmod(0o755)
        _swap(build, out)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return out


def _swap(build: Path, out: Path) -> None:
    if not out.exists():
        os.rename(build, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rename(out, old / "site")
    try:
        os.rename(build, out)
    except BaseException:
        os.rename(old / "site", out)
        old.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)

"""Symlinks in an addons tree: which stay links, which are shipped as copies, which are refused.

Odoo and click-odoo-update run inside the image, so a link must mean the same thing there as on the build
host, and the checksum computed here must be the one click-odoo-update computes there. Inside an addon:

- a relative link that stays inside its addon (lexically and once resolved) is shipped as a link: the
  image holds the same target at the same relative place, so both sides read the same bytes;
- a link to a file elsewhere in the addons tree is shipped as a regular file with the target's bytes:
  click-odoo-update opens through the link on the host and opens the copy in the image, same bytes again;
- everything else is refused: a link that resolves outside the addons tree (a host file would be hashed
  and shipped), a dangling or looping link, and a link to a directory outside its addon (click-odoo-update
  does not enter symlinked directories, so the image could only hold a dangling link or unhashed files).

An addon directory that is itself a link must resolve inside the addons tree; it is shipped as a directory.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

LinkKind = Literal["link", "copy"]


class UnsafeLink(ValueError):
    """A symlink the build and the checksums refuse to follow; the message says why."""


def _target_text(link: Path) -> str:
    try:
        return os.readlink(link)
    except OSError:
        return "?"


def _resolve(link: Path) -> Path:
    try:
        return link.resolve(strict=True)
    except (OSError, RuntimeError):
        raise UnsafeLink(f"symlink is dangling or loops (-> {_target_text(link)})") from None


def _inside(path: Path, top: Path) -> bool:
    return path == top or path.is_relative_to(top)


def stays_in_addon(link: Path, *, addon: Path) -> bool:
    """True for a relative link under `addon` whose target is inside `addon` both as written and resolved.

    `link` must be reached from `addon` without following a symlinked directory (as the walks here do).
    """
    text = _target_text(link)
    if os.path.isabs(text):
        return False
    where = link.parent.relative_to(addon).as_posix()
    lexical = posixpath.normpath(posixpath.join(where, text))
    if lexical == ".." or lexical.startswith("../"):
        return False
    try:
        return _inside(link.resolve(strict=True), addon.resolve())
    except (OSError, RuntimeError):
        return False


def classify_link(link: Path, *, addon: Path, tree: Path) -> LinkKind:
    """How the build ships `link` (found under `addon`, in the addons tree `tree`); `UnsafeLink` if not."""
    target = _resolve(link)
    if not _inside(target, tree.resolve()):
        raise UnsafeLink(f"symlink leads out of the addons tree (-> {_target_text(link)})")
    if stays_in_addon(link, addon=addon):
        return "link"
    if target.is_dir():
        raise UnsafeLink(
            f"symlinked directory leaves its addon (-> {_target_text(link)}); "
            "click-odoo-update does not enter it and the image could not hold it"
        )
    return "copy"


def check_addon_root(path: Path, *, tree: Path) -> None:
    """An addon directory reached through a symlink must resolve inside the addons tree."""
    if not _inside(path.resolve(), tree.resolve()):
        raise UnsafeLink(f"symlinked addon directory leads out of the addons tree (-> {_target_text(path)})")


def symlinks_under(top: Path) -> Iterator[Path]:
    """Every symlink below `top`, without entering symlinked directories (one `scandir` per directory)."""
    stack = [os.fspath(top)]
    while stack:
        try:
            with os.scandir(stack.pop()) as scan:
                for entry in scan:
                    if entry.is_symlink():
                        yield Path(entry.path)
                    elif entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue

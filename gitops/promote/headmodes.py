"""Files a PR head turns into something else than a regular file.

The gate reads blobs: a symlink whose target string is the promoted file's text has the very blob the
audited run pushed, so its content hash matches, yet a checkout of main gets a dangling link in place of
the file (found by the attack tests). Promotions and lifecycle changes write regular files only, so any
changed path whose mode at the head is a symlink or a gitlink is an integrity problem."""

from __future__ import annotations

from gitops.gitstore import plumbing
from gitops.gitstore.checkout import ConfigCheckout

_KINDS = {b"120000": "a symlink", b"160000": "a submodule (gitlink)"}


def non_file_problems(checkout: ConfigCheckout, base: str, head: str) -> list[str]:
    """One problem per path changed between `base` and `head` that is a symlink or gitlink at `head`."""
    out = plumbing.git(checkout, "diff", "--raw", "-z", "--no-renames", "--no-abbrev", base, head).stdout
    fields = out.split(b"\0")
    problems = []
    for meta, raw_path in zip(fields[0::2], fields[1::2], strict=False):
        parts = meta.split()
        kind = _KINDS.get(parts[1]) if len(parts) > 1 else None
        if kind:
            path = raw_path.decode("utf-8", "surrogateescape")
            problems.append(f"{path} is {kind} at the head (odoo-gitops writes regular files only)")
    return problems

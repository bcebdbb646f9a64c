"""The content of a promotion that reviewers approve, and its hash.

An approval is bound to this hash, not to a commit SHA: a push that changes the image, the modules, the
schema fingerprint, the change class, the destructive flag, the backup requirement, the emergency
declaration (all in release.yaml) or any field a promotion edits in the target's files makes earlier
approvals stale; a rebase that leaves all of these unchanged keeps them valid. The hash is computed from
the files themselves (never from a PR body), for every wave alike. Left out: backups (recording one after
the approval must not make it stale), verifications (main records them under an open PR) and promoted_at.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import yaml

HASH_PREFIX = "ch2:"
# the keys of a values or tenant file a promotion may edit (everything else is the user's)
EDITABLE_VALUE_KEYS = ("image", "release")


# what main may write into release.yaml under an open PR (verify records verifications, backups are recorded
# after the approval) and when the promotion was first made: not part of what a reviewer approves
UNHASHED_RELEASE_KEYS = frozenset({"backup", "verification", "promoted_at"})


def _approved_part(release: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in release.items() if k not in UNHASHED_RELEASE_KEYS}
    if isinstance(data.get("previous"), Mapping):
        data["previous"] = {k: v for k, v in data["previous"].items() if k not in UNHASHED_RELEASE_KEYS}
    tenants = data.get("tenants")
    if isinstance(tenants, Mapping):
        data["tenants"] = {
            str(name): (
                {k: v for k, v in state.items() if k not in UNHASHED_RELEASE_KEYS}
                if isinstance(state, Mapping)
                else state
            )
            for name, state in tenants.items()
        }
    return data


FAST_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: hundreds of files per hash


def _parsed(text: str | None, known: Mapping[str, Any]) -> Any:
    if text is None:
        return None
    if text in known:
        return known[text]
    try:
        return yaml.load(text, Loader=FAST_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return {"unparsable": hashlib.sha256(text.encode()).hexdigest()}


def promotion_content(
    files: Mapping[str, str | None], *, release_path: str, known: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What a reviewer approves, from the texts of the files a promotion edits (path -> text at a commit).

    `release_path` is the target's release.yaml; every other path is a values or tenant file, of which only
    the editable keys count (the rest is checked separately: a promotion may not change it). `known` maps
    texts to the value YAML reads from them, for texts the caller wrote itself (promote: its release.yaml,
    gitops.config.release_file.read_back); any other text is parsed."""
    known = known or {}
    release = _parsed(files.get(release_path), known)
    edited: dict[str, Any] = {}
    for path, text in sorted(files.items()):
        if path == release_path:
            continue
        data = _parsed(text, known)
        if isinstance(data, Mapping):
            edited[path] = {key: data.get(key) for key in EDITABLE_VALUE_KEYS}
        else:
            edited[path] = data
    return {
        "release": _approved_part(release) if isinstance(release, Mapping) else release,
        "values": edited,
    }


def content_hash(content: Mapping[str, Any]) -> str:
    """A stable hash of `promotion_content` (canonical JSON, SHA-256)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return HASH_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def hash_files(
    files: Mapping[str, str | None], *, release_path: str, known: Mapping[str, Any] | None = None
) -> str:
    return content_hash(promotion_content(files, release_path=release_path, known=known))

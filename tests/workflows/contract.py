"""The `--json` keys the reusable workflows read, as documented in docs/promote.md ("JSON the workflows
read") and docs/verify.md. The run-the-steps tests check every JSON document a workflow step wrote against
these shapes, so a renamed or re-typed key fails a test instead of turning a workflow's verdict wrong."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# A shape: a type (or tuple of types), a frozenset of allowed strings, a dict of required keys (extra keys
# are allowed: the CLI may grow), a one-element list (every item has that shape), or Nullable(shape).


class Nullable:
    def __init__(self, shape: Any) -> None:
        self.shape = shape


PULL_REQUEST = {
    "number": int,
    "title": str,
    "url": str,
    "head": str,
    "head_sha": str,
    "state": str,
    "labels": [str],
}
GATE_CHECK = {
    "pull_request": PULL_REQUEST,
    "target": str,
    "wave": Nullable(str),
    "head_sha": str,
    "verdict": {
        "state": frozenset({"success", "pending", "failure"}),
        "description": str,
        "rule": str,
        "reasons": [str],
        "approvals": {"required": int, "counted": [dict], "ignored": [dict]},
        "window": Nullable(dict),
    },
    "audit_seq": Nullable(int),
}
PR_LIST = {"pull_requests": [{"number": int, "head": str}]}
PLAN = {"allowed": bool, "reasons": [str]}
PROMOTE = {
    "action": frozenset({"created", "updated", "unchanged", "up-to-date"}),
    "pull_request": Nullable({"number": int, "url": str}),
    "branch": Nullable(str),
    "head_sha": Nullable(str),
}
VERIFY = {
    "state": frozenset({"verified", "partial", "failed", "timed-out"}),
    "summary": str,
    "rollback_ready": bool,
}
BUILD = {"image": str, "digest": str}
ERROR = {"error": str, "message": str}

# which document each workflow file holds (the workflows name them so)
FILES = {
    re.compile(r"gate-\d+\.json"): GATE_CHECK,
    re.compile(r"prs\.json"): PR_LIST,
    re.compile(r"plan\.json"): PLAN,
    re.compile(r"promote\.json"): PROMOTE,
    re.compile(r"verify-[\w-]+\.json"): VERIFY,
    re.compile(r"build\.json"): BUILD,
}


def problems(value: Any, shape: Any, where: str = "") -> list[str]:
    if isinstance(shape, Nullable):
        return [] if value is None else problems(value, shape.shape, where)
    if isinstance(shape, frozenset):
        return [] if value in shape else [f"{where or '.'}: {value!r} is not one of {sorted(shape)}"]
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{where or '.'}: expected an object, got {type(value).__name__}"]
        found = []
        for key, inner in shape.items():
            if key not in value:
                found.append(f"{where}.{key}: missing")
            else:
                found += problems(value[key], inner, f"{where}.{key}")
        return found
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where or '.'}: expected an array, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, shape[0], f"{where}[{i}]")]
    if shape is int and isinstance(value, bool):
        return [f"{where or '.'}: expected int, got bool"]
    return [] if isinstance(value, shape) else [f"{where or '.'}: expected {shape}, got {value!r}"]


def key_paths(shape: Any, prefix: str = "") -> list[str]:
    """`verdict.state`, `pull_request.number`, `pull_requests[].head`, … — what the docs must name."""
    if isinstance(shape, Nullable):
        return key_paths(shape.shape, prefix)
    if isinstance(shape, list):
        return key_paths(shape[0], prefix + "[]")
    if not isinstance(shape, dict):
        return []
    paths = []
    for key, inner in shape.items():
        path = f"{prefix}.{key}" if prefix else key
        paths.append(path)
        paths += key_paths(inner, path)
    return paths


def check_documents(workspace: Path) -> list[str]:
    """Check every JSON document a workflow wrote in `workspace`; returns the names checked."""
    import json

    checked = []
    for path in sorted(workspace.glob("*.json")):
        for pattern, shape in FILES.items():
            if pattern.fullmatch(path.name):
                data = json.loads(path.read_text())
                found = problems(data, ERROR if "error" in data else shape)
                assert not found, f"{path.name} does not have the documented shape: {found}"
                checked.append(path.name)
    return checked

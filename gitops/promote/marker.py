"""The hidden metadata block in a promotion PR body: `<!-- odoo-gitops:promotion BASE64(JSON) -->`."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

MARKER_RE = re.compile(r"<!-- odoo-gitops:promotion ([A-Za-z0-9+/=]+) -->")


@dataclass(frozen=True, kw_only=True)
class PromotionMarker:
    """What a promotion PR is about. `bindings` maps each head SHA the toolkit pushed to its content hash.
    `tenants` is empty and `tenant_count` set when the wave is too large to list in a PR body (the tenants
    are the tenant files the branch changes, which is where the gate reads them)."""

    kind: Literal["promotion", "rollback"]
    source: str
    target: str
    wave: str | None
    tenants: tuple[str, ...]
    image: str
    version: str
    content_hash: str
    change_class: str
    destructive: bool
    actor: str
    branch: str
    schema_diff_computed: bool
    emergency_reason: str | None = None
    emergency_ticket: str | None = None
    bindings: dict[str, str] = field(default_factory=dict)
    tenant_count: int | None = None

    def bind(self, sha: str) -> PromotionMarker:
        return replace(self, bindings={**self.bindings, sha: self.content_hash})

    def render(self) -> str:
        data = asdict(self)
        data["tenants"] = list(self.tenants)
        raw = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return f"<!-- odoo-gitops:promotion {base64.b64encode(raw).decode()} -->"


def parse_marker(body: str | None) -> PromotionMarker | None:
    """The marker in a PR body, or None when the PR was not opened by odoo-gitops (or it was mangled)."""
    match = MARKER_RE.search(body or "")
    if not match:
        return None
    try:
        data: Any = json.loads(base64.b64decode(match.group(1), validate=True))
        # anyone may edit the body: a block that is not an object (or whose bindings are not) is foreign
        if not isinstance(data, dict) or not isinstance(data.get("bindings", {}), dict):
            return None
        data["tenants"] = tuple(data.get("tenants") or ())
        return PromotionMarker(**data)
    except (binascii.Error, ValueError, TypeError):
        return None


def replace_marker(body: str, marker: PromotionMarker) -> str:
    if MARKER_RE.search(body):
        return MARKER_RE.sub(lambda _: marker.render(), body, count=1)
    return body.rstrip("\n") + "\n\n" + marker.render() + "\n"


def strip_marker(body: str) -> str:
    """The body as people read it: without the machine marker (a cache; the gate never reads it)."""
    return MARKER_RE.sub("", body or "").rstrip() + "\n"

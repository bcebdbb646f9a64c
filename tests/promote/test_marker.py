"""gitops/promote/marker.py: the machine block in a promotion PR body. It is a cache for people and tools,
never evidence for the gate (tests/gates/test_bypass.py forges one); here: it round-trips, a mangled or
foreign block reads as none, and editing a body keeps everything around it."""

from __future__ import annotations

import base64
import json

import pytest

from gitops.promote.marker import MARKER_RE, PromotionMarker, parse_marker, replace_marker, strip_marker

MARKER = PromotionMarker(
    kind="promotion", source="staging", target="prod", wave="canary", tenants=("acme-build",),
    image="registry.example.com/acme/odoo@sha256:" + "a" * 64, version="1.5.0", content_hash="ch2:abc",
    change_class="normal", destructive=False, actor="ci-bot", branch="promote/prod/1.5.0-aaaaaaaaaaaa-canary",
    schema_diff_computed=True,
)  # fmt: skip


def block(data: object) -> str:
    return f"<!-- odoo-gitops:promotion {base64.b64encode(json.dumps(data).encode()).decode()} -->"


def test_a_marker_round_trips_through_a_body() -> None:
    bound = MARKER.bind("f" * 40)
    assert bound.bindings == {"f" * 40: "ch2:abc"}
    assert bound.bind("e" * 40).bindings == {"f" * 40: "ch2:abc", "e" * 40: "ch2:abc"}
    body = f"## Promote prod\n\nsome text\n\n{bound.render()}\n"
    assert parse_marker(body) == bound
    assert MARKER_RE.fullmatch(bound.render())


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "no marker here",
        "<!-- odoo-gitops:promotion !!!notbase64 -->",
        "<!-- odoo-gitops:promotion QUJD -->",  # base64 of "ABC": not JSON
        block(["a", "list"]),
        block("a string"),
        block({"kind": "promotion"}),  # fields missing
        block({**json.loads(base64.b64decode(MARKER.render().split()[2])), "bindings": "ab"}),
        block({**json.loads(base64.b64decode(MARKER.render().split()[2])), "extra": 1}),  # an unknown field
    ],
)
def test_a_missing_mangled_or_foreign_marker_reads_as_none(body: str | None) -> None:
    assert parse_marker(body) is None


def test_replacing_keeps_the_body_and_leaves_one_marker() -> None:
    body = "Intro\n\n" + MARKER.render() + "\n\nOutro\n"
    updated = replace_marker(body, MARKER.bind("f" * 40))
    assert updated.startswith("Intro\n\n") and updated.endswith("\n\nOutro\n")
    assert len(MARKER_RE.findall(updated)) == 1
    assert parse_marker(updated) == MARKER.bind("f" * 40)
    appended = replace_marker("Intro\n\n\n", MARKER)
    assert appended == "Intro\n\n" + MARKER.render() + "\n"


def test_people_read_the_body_without_the_marker() -> None:
    assert strip_marker("Intro\n\n" + MARKER.render() + "\n") == "Intro\n"
    assert strip_marker("") == "\n"

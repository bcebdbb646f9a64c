"""gitops/config/release_file.py read_back: the value YAML reads from the release.yaml a promotion renders,
known without parsing. Whenever it answers, it must equal parse_release(render_release(data)) exactly (the
content hash of promote and of the gate depend on it); when it cannot be sure, it answers None."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from gitops.config.release_file import parse_release, read_back, render_release
from gitops.gates.content import hash_files

RELEASE_PATH = "envs/prod/release.yaml"
STAMP = datetime(2026, 12, 2, 18, 57, 14, 584263, tzinfo=UTC)


def _release(**extra: Any) -> dict[str, Any]:
    return {
        "image": "registry.example.com/acme/odoo@sha256:" + "a" * 64,
        "version": "1.5.0",
        "source_commit": "b" * 40,
        "modules": {"acme_sale": {"version": "17.0.1.0.0", "checksum": "c" * 40, "schema": None}},
        "change_class": "normal",
        "destructive": None,
        "promoted_at": STAMP,
        "backup": None,
        "emergency": {"reason": 'db "hot" fix: it\'s down\nnow', "ticket": "INC-1"},
        "previous": {"image": "x/y@sha256:" + "d" * 64, "version": "1.4.0", "verification": {}},
        "tenants": {
            "tenant-0001": {"image": "x", "version": "1.5.0", "promoted_at": STAMP, "destructive": True},
            "tenant-0002": {"backup": {"id": None}},  # `backup:` with no lines under it reads back as None
        },
        **extra,
    }


def test_a_promotions_release_reads_back_without_parsing() -> None:
    data = _release()
    value = read_back(data)
    assert value is not None
    assert value == parse_release(render_release(data))
    assert value["tenants"]["tenant-0002"] == {"backup": None} and "destructive" not in value
    assert value["promoted_at"] == STAMP and str(value["promoted_at"]) == str(STAMP)


def test_timestamps_in_other_zones_and_naive_ones_read_back_in_utc() -> None:
    for stamp in (STAMP.astimezone(timezone(timedelta(hours=5, minutes=30))), datetime(2026, 1, 2, 3, 4, 5)):
        data = _release(promoted_at=stamp)
        parsed = parse_release(render_release(data))
        assert read_back(data) == parsed
        assert str(parsed["promoted_at"]) == str(read_back(data)["promoted_at"])  # type: ignore[index]


def test_what_it_cannot_be_sure_of_is_left_to_the_parser() -> None:
    unsure = [
        _release(ratio=1.0),  # floats: inf, 1e+20 would not read back
        _release(modules={"1_0": {"version": "1"}}),  # a key YAML reads as an int
        _release(tags=["a:b"]),  # a colon in a flow sequence
        _release(tags=[STAMP]),
        _release(previous={"image": object()}),
    ]
    for data in unsure:
        assert read_back(data) is None


def test_the_content_hash_is_the_same_with_the_read_back_value() -> None:
    data = _release()
    text = render_release(data)
    files = {RELEASE_PATH: text, "envs/prod/tenants/t.yaml": "image:\n  repository: x\n"}
    known = {text: read_back(data)}
    assert hash_files(files, release_path=RELEASE_PATH, known=known) == hash_files(
        files, release_path=RELEASE_PATH
    )
    # the value is used only for that exact text: any other text is parsed
    other = {**files, RELEASE_PATH: text.replace("1.5.0", "1.6.0")}
    assert hash_files(other, release_path=RELEASE_PATH, known=known) == hash_files(
        other, release_path=RELEASE_PATH
    )
    assert hash_files(other, release_path=RELEASE_PATH) != hash_files(files, release_path=RELEASE_PATH)


_keys = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_.-]{0,8}", fullmatch=True),
    st.sampled_from(["true", "1_0", "on", "a b", "x:y", "<<"]),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.from_regex(r"[A-Za-z0-9@/._+-][A-Za-z0-9@:/._+-]{0,20}", fullmatch=True),
    st.sampled_from(
        ["1.5.0", "true", "null", "~", "0o17", "1_000", "12:30", "-", "- a", "a: b", "#x", "'q'"]
    ),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
)
_values = st.recursive(
    _scalars | st.lists(_scalars, max_size=3),
    lambda inner: st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


ANSWERED: list[bool] = []


_plain_keys = st.from_regex(r"[a-z_][a-z0-9_.-]{0,8}", fullmatch=True)
_toolkit_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"], max_codepoint=0xFFFF), max_size=20),
    st.from_regex(r"[A-Za-z0-9@/._+-][A-Za-z0-9@:/._+-]{0,20}", fullmatch=True),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
)
_toolkit_values = st.recursive(  # what the toolkit writes: plain keys, strings, ints, bools, timestamps
    _toolkit_scalars | st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), max_size=3),
    lambda inner: st.dictionaries(_plain_keys, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.one_of(
        st.dictionaries(_plain_keys, _toolkit_values, min_size=1, max_size=6),
        st.dictionaries(_keys, _values, min_size=1, max_size=6),
    )
)
@example({"reason": 'quote " and \\ and \t and \u2028'})
@example({"at": datetime(1, 1, 1, 0, 0, tzinfo=UTC)})
def test_read_back_equals_the_parse_whenever_it_answers(data: dict[str, Any]) -> None:
    value = read_back(data)
    ANSWERED.append(value is not None)
    if value is None:
        return
    text = render_release(data)
    parsed = parse_release(text)
    assert value == parsed
    assert hash_files({RELEASE_PATH: text}, release_path=RELEASE_PATH, known={text: value}) == hash_files(
        {RELEASE_PATH: text}, release_path=RELEASE_PATH
    )


def test_the_generated_releases_exercise_both_answers() -> None:
    """The property above is not vacuous: it compared many answered values with the parser's."""
    if not ANSWERED:
        test_read_back_equals_the_parse_whenever_it_answers()
    assert ANSWERED.count(True) >= 50 and ANSWERED.count(False) >= 50, ANSWERED.count(True)


def test_a_string_starting_with_a_reserved_indicator_is_quoted_not_a_crash() -> None:
    data = _release(version="@1.5.0", promoted_from="`staging")
    text = render_release(data)
    assert 'version: "@1.5.0"' in text
    assert read_back(data) == parse_release(text)


@given(st.text(max_size=40))
@example("outage \U0001f525")
@example("x\udcff")  # an undecodable byte from the command line (surrogateescape)
@example("a\\ud83d\\ude00")  # the text of a surrogate-pair escape, not the pair
def test_any_reason_renders_into_a_release_yaml_that_reads_back(reason: str) -> None:
    """Every text a user gives (`--emergency`) is written so that release.yaml stays readable: characters
    outside the BMP are escaped the YAML way (`\\U0001f525`; JSON's surrogate pair is refused by YAML), a
    lone surrogate becomes U+FFFD. The read-back, when it answers, agrees with the parse."""
    data = _release(emergency={"reason": reason, "ticket": "INC-3"})
    text = render_release(data)
    assert text.isascii()
    parsed = parse_release(text)
    expected = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in reason)
    assert parsed["emergency"]["reason"] == expected
    known = read_back(data)
    assert known is None or known == parsed


_entry_values = st.sampled_from(
    [1, True, 1.0, "1", 0, False, None, "true", STAMP, STAMP.astimezone(timezone(timedelta(hours=2)))]
)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.dictionaries(st.sampled_from(["a", "b"]), _entry_values, max_size=2), min_size=1, max_size=3),
    st.lists(st.integers(0, 2), min_size=2, max_size=8),
)
@example([{"a": 1}, {"a": True}, {"a": 1.0}], [0, 1, 2, 0])
@example([{"a": STAMP}, {"a": STAMP.astimezone(timezone(timedelta(hours=2)))}], [0, 1])
def test_tenant_entries_that_repeat_are_each_written_and_read_as_themselves(
    pool: list[dict[str, Any]], picks: list[int]
) -> None:
    """A promotion gives hundreds of tenants the same entry: each distinct entry is rendered once and
    reused. Entries equal but for a type (1, True, 1.0; the same instant in two zones) are still each
    written as themselves, and every tenant's read-back value is a mapping of its own."""
    tenants = {f"t{i}": dict(pool[j % len(pool)]) for i, j in enumerate(picks)}
    data = {"version": "1.5.0", "tenants": tenants, "previous": {"tenants": dict(tenants)}}
    parsed = parse_release(render_release(data))
    for name, entry in tenants.items():
        alone = parse_release(render_release({"tenants": {name: entry}})).get("tenants") or {}
        assert repr((parsed.get("tenants") or {}).get(name)) == repr(alone.get(name))  # True is not 1
    value = read_back(data)
    if value is None:  # a float among the values: left to the parser
        assert any(type(v) is float for entry in tenants.values() for v in entry.values())
        return
    assert repr(value) == repr(parsed)
    shown = [v for v in (value.get("tenants") or {}).values() if v is not None]
    assert len({id(v) for v in shown}) == len(shown)

"""Our checksums against click-odoo-contrib's own `addon_hash`, on real trees written to disk."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click_odoo_contrib._addon_hash import addon_hash
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops.addons.checksums import (
    DEFAULT_EXCLUDES,
    addon_checksum,
    compute_checksums,
    parse_exclude_patterns,
)
from gitops.addons.discovery import discover
from gitops.errors import ExternalError
from tests.fixtures.addons import write_addon

CLICK_DEFAULT = parse_exclude_patterns("*.pyc,*.pyo,i18n/*.pot,i18n_extra/*.pot,static/*,tests/*")


def _write(top: Path, files: dict[str, bytes]) -> None:
    top.mkdir(parents=True, exist_ok=True)
    for relpath, content in files.items():
        target = top / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _reference(top: Path, patterns=DEFAULT_EXCLUDES, langs=()) -> str:
    return addon_hash(str(top), list(patterns), list(langs))


TREES: dict[str, dict[str, bytes]] = {
    "empty-dir": {},
    "empty-files": {"__init__.py": b"", "a.py": b"", "b/c.xml": b""},
    "excluded-paths": {
        "__init__.py": b"x",
        "m.pyc": b"1",
        "sub/m.pyo": b"2",
        "static/src/js/a.js": b"3",
        "static/description/icon.png": b"\x89PNG",
        "tests/test_a.py": b"4",
        "i18n/mod.pot": b"5",
        "i18n_extra/mod.pot": b"6",
        "i18n/fr.po": b"7",
        "models/tests/keep.py": b"8",
        "sub/static/keep": b"9",
        "statics/keep": b"10",
        "tests.py": b"11",
        "i18n/sub/deep.pot": b"12",
    },
    "nested-folders": {f"a/b/c/d/e/f{i}.py": str(i).encode() for i in range(5)}
    | {"a/z.txt": b"z", "a.b": b"dot", "a-b/x": b"dash", "A/x": b"upper", "a0": b"zero"},
    "non-ascii": {
        "données/é.xml": "é".encode(),
        "日本/語.py": b"jp",
        "emoji_\U0001f600.txt": b"smile",
        "Ärger.py": b"a",
        "zz/ß.csv": b"s",
    },
    "order-files-before-dirs": {"b": b"top file", "a/x": b"in dir", "a_": b"file", "a.py": b"f"},
    "big-file": {"big.bin": os.urandom(3 * (1 << 20) + 7), "small": b"s"},
}


@pytest.mark.parametrize("name", sorted(TREES))
def test_checksum_equals_click_odoo_contrib(tmp_path: Path, name: str) -> None:
    top = tmp_path / name
    _write(top, TREES[name])
    assert addon_checksum(top) == _reference(top)


def test_default_excludes_are_click_odoo_updates() -> None:
    assert DEFAULT_EXCLUDES == CLICK_DEFAULT


def test_rename_and_empty_file_change_the_checksum(tmp_path: Path) -> None:
    _write(tmp_path / "a", {"x.py": b""})
    _write(tmp_path / "b", {"y.py": b""})
    _write(tmp_path / "c", {"x.py": b"", "empty": b""})
    sums = [addon_checksum(tmp_path / n) for n in "abc"]
    assert len(set(sums)) == 3
    assert sums == [_reference(tmp_path / n) for n in "abc"]


def test_excluded_changes_keep_the_checksum(tmp_path: Path) -> None:
    top = tmp_path / "m"
    _write(top, TREES["excluded-paths"])
    before = addon_checksum(top)
    (top / "static/src/js/a.js").write_bytes(b"changed")
    (top / "tests/test_a.py").write_bytes(b"changed")
    assert addon_checksum(top) == before == _reference(top)
    (top / "models/tests/keep.py").write_bytes(b"changed")
    assert addon_checksum(top) != before
    assert addon_checksum(top) == _reference(top)


@pytest.mark.parametrize("langs", [(), ("en_US",), ("fr_BE", "de_DE"), ("sr@latin",)])
def test_active_languages_select_po_files(tmp_path: Path, langs: tuple[str, ...]) -> None:
    top = tmp_path / "m"
    _write(
        top,
        {
            "i18n/fr.po": b"fr",
            "i18n/fr_BE.po": b"frbe",
            "i18n/de.po": b"de",
            "i18n/en.po": b"",
            "i18n_extra/de_CH.po": b"ch",
            "i18n/sr@latin.po": b"sr",
            "i18n/sub/fr.po": b"deep",
            "other/de.po": b"kept",
            "i18n/readme.txt": b"kept",
        },
    )
    assert addon_checksum(top, keep_langs=langs) == _reference(top, langs=langs)


def test_symlinks_are_treated_like_os_walk(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _write(outside, {"inner.py": b"not walked"})
    top = tmp_path / "m"
    _write(top, {"real.py": b"r"})
    (top / "linked_dir").symlink_to(outside, target_is_directory=True)
    (top / "linked_file.py").symlink_to(outside / "inner.py")
    assert addon_checksum(top) == _reference(top)


@pytest.mark.parametrize("patterns", [(), ("*",), ("static/*",), ("*.py", "data/*"), ("i18n/*",), ("a*",)])
def test_custom_exclude_patterns(tmp_path: Path, patterns: tuple[str, ...]) -> None:
    top = tmp_path / "m"
    _write(top, TREES["excluded-paths"] | TREES["nested-folders"])
    assert addon_checksum(top, patterns) == _reference(top, patterns)


def test_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    top = tmp_path / "m"
    _write(top, {"ok.py": b""})
    (top / "dangling.py").symlink_to(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        _reference(top)
    with pytest.raises(ExternalError, match=r"dangling\.py"):
        addon_checksum(top)


def test_compute_checksums_over_discovered_addons(tmp_path: Path) -> None:
    write_addon(tmp_path, "alpha", files={"models.py": "x = 1\n", "static/a.js": "js"})
    write_addon(tmp_path / "nested" / "repo", "beta", version="17.0.2.0.0", depends=["alpha"])
    facts = compute_checksums(discover([tmp_path], series="17.0"))
    assert list(facts) == ["alpha", "beta"]
    assert facts["beta"].version == "17.0.2.0.0"
    assert facts["beta"].path == tmp_path / "nested" / "repo" / "beta"
    for fact in facts.values():
        assert fact.checksum == _reference(fact.path)


SEGMENTS = st.sampled_from(
    ["static", "tests", "i18n", "i18n_extra", "models", "a", "b", "données", "日本", "x y"]
)
LEAVES = st.sampled_from(
    ["f.py", "f.pyc", "g.pyo", "m.pot", "fr.po", "de_DE.po", "en.po", "v.xml", "é.txt", "empty", "a.b", "B"]
)
PATHS = st.tuples(st.lists(SEGMENTS, max_size=3), LEAVES).map(lambda t: "/".join([*t[0], t[1]]))
TREES_STRATEGY = st.dictionaries(PATHS, st.binary(max_size=64), max_size=25)
PATTERN_SETS = st.sampled_from([DEFAULT_EXCLUDES, (), ("*.po",), ("a/*", "*.xml"), ("static/*", "**/x")])
LANG_SETS = st.sampled_from([(), ("en_US",), ("fr_FR", "de_DE")])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=TREES_STRATEGY, patterns=PATTERN_SETS, langs=LANG_SETS)
def test_generated_trees_match_click_odoo_contrib(files: dict[str, bytes], patterns, langs) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        top = Path(tmp) / "addon"
        written: dict[str, bytes] = {}
        for relpath, content in files.items():
            if any(relpath.startswith(other + "/") or other.startswith(relpath + "/") for other in written):
                continue  # a path cannot be both a file and a directory
            written[relpath] = content
        _write(top, written)
        assert addon_checksum(top, patterns, langs) == _reference(top, patterns, langs)

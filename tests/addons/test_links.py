"""Symlinks in an addons tree: confined to the tree, refused with the path relative to it, exit 2.

Every case is a real symlink on disk, checked through discovery (what `addons checksums` and `build` run
first) and through the CLI. Accepted links keep the checksum byte-for-byte click-odoo-contrib's `addon_hash`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click_odoo_contrib._addon_hash import addon_hash

from gitops.addons.checksums import DEFAULT_EXCLUDES, compute_checksums
from gitops.addons.discovery import discover
from gitops.cli.main import main
from gitops.errors import ConfigError
from tests.fixtures.addons import write_addon

SECRET = b"root:HOST-ONLY-SECRET:0:0\n"


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """Files outside the addons tree: a secret and a whole addon living elsewhere on the host."""
    outside = tmp_path / "host"
    outside.mkdir()
    (outside / "shadow").write_bytes(SECRET)
    write_addon(outside, "stray_addon", files={"secret.txt": SECRET})
    return outside


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "addons"
    write_addon(root / "custom", "sale_ext", files={"data/a.xml": "<odoo/>\n", "static/x.js": "js"})
    write_addon(root / "custom", "stock_ext", files={"data/b.xml": "<odoo>b</odoo>\n"})
    (root / "shared").mkdir()
    (root / "shared" / "LICENSE").write_text("LGPL\n")
    return root


def _problems(root: Path) -> dict[str, str]:
    with pytest.raises(ConfigError) as exc:
        discover([root], series="17.0")
    return {p.file: p.message for p in exc.value.problems}


def _cli_checksums(capsys: pytest.CaptureFixture[str], root: Path) -> tuple[int, str, str]:
    code = main(["addons", "checksums", str(root), "--json"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_symlinked_addon_directory_outside_the_tree_is_refused(tree: Path, host: Path) -> None:
    (tree / "custom" / "stray_addon").symlink_to(host / "stray_addon", target_is_directory=True)
    problems = _problems(tree)
    assert list(problems) == ["custom/stray_addon"]
    assert "leads out of the addons tree" in problems["custom/stray_addon"]


def test_link_to_a_host_file_is_refused_even_where_checksums_exclude_it(tree: Path, host: Path) -> None:
    addon = tree / "custom" / "sale_ext"
    (addon / "data" / "passwd.xml").symlink_to(host / "shadow")
    (addon / "static" / "leak.txt").symlink_to(host / "shadow")  # excluded from the hash, but shipped
    (addon / "abs_inside.txt").symlink_to(tree / "shared" / "LICENSE")  # absolute but in the tree: fine
    problems = _problems(tree)
    assert set(problems) == {"custom/sale_ext/data/passwd.xml", "custom/sale_ext/static/leak.txt"}
    assert all("leads out of the addons tree" in m for m in problems.values())


def test_dangling_looping_and_chained_links_are_refused(tree: Path, host: Path) -> None:
    addon = tree / "custom" / "stock_ext"
    (addon / "gone.xml").symlink_to(addon / "missing.xml")
    (addon / "loop_a").symlink_to("loop_b")
    (addon / "loop_b").symlink_to("loop_a")
    (addon / "hop").symlink_to(host / "shadow")
    (addon / "chain.xml").symlink_to("hop")  # local as written, but it resolves out of the tree
    problems = _problems(tree)
    assert set(problems) == {
        "custom/stock_ext/gone.xml",
        "custom/stock_ext/loop_a",
        "custom/stock_ext/loop_b",
        "custom/stock_ext/hop",
        "custom/stock_ext/chain.xml",
    }
    assert "dangling or loops" in problems["custom/stock_ext/gone.xml"]
    assert "leads out of the addons tree" in problems["custom/stock_ext/chain.xml"]


def test_symlinked_directory_leaving_its_addon_is_refused(tree: Path) -> None:
    (tree / "custom" / "sale_ext" / "other").symlink_to("../stock_ext/data", target_is_directory=True)
    (tree / "custom" / "sale_ext" / "views").symlink_to("data", target_is_directory=True)  # local: fine
    problems = _problems(tree)
    assert list(problems) == ["custom/sale_ext/other"]
    assert "directory leaves its addon" in problems["custom/sale_ext/other"]


def test_links_that_stay_in_the_tree_keep_click_odoo_checksums(tree: Path) -> None:
    addon = tree / "custom" / "sale_ext"
    (addon / "data" / "alias.xml").symlink_to("a.xml")
    (addon / "views").symlink_to("data", target_is_directory=True)
    (addon / "LICENSE").symlink_to("../../shared/LICENSE")
    (addon / "b.xml").symlink_to(tree / "custom" / "stock_ext" / "data" / "b.xml")
    facts = compute_checksums(discover([tree], series="17.0"))
    for fact in facts.values():
        assert fact.checksum == addon_hash(str(fact.path), list(DEFAULT_EXCLUDES), [])


def test_root_given_through_a_symlink_confines_to_the_resolved_tree(tmp_path: Path, tree: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(tree, target_is_directory=True)
    (tree / "custom" / "sale_ext" / "LICENSE").symlink_to("../../shared/LICENSE")
    assert list(discover([alias], series="17.0")) == ["sale_ext", "stock_ext"]


def test_cli_checksums_exit_2_names_the_link_and_never_prints_the_host_file(
    capsys: pytest.CaptureFixture[str], tree: Path, host: Path
) -> None:
    (tree / "custom" / "sale_ext" / "data" / "passwd.xml").symlink_to(host / "shadow")
    (tree / "custom" / "stray_addon").symlink_to(host / "stray_addon", target_is_directory=True)
    code, out, err = _cli_checksums(capsys, tree)
    assert code == 2
    data = json.loads(out)
    assert {(p["file"], p["line"]) for p in data["problems"]} == {
        ("custom/sale_ext/data/passwd.xml", 0),
        ("custom/stray_addon", 0),
    }
    assert "HOST-ONLY-SECRET" not in out + err
    code, out, _ = _cli_checksums(capsys, tree / "custom" / "stock_ext")  # an unaffected addon alone: fine
    assert code == 0, out


def test_discovery_never_writes_to_the_tree(tree: Path, host: Path) -> None:
    (tree / "custom" / "sale_ext" / "data" / "passwd.xml").symlink_to(host / "shadow")
    before = sorted((str(p), p.is_symlink()) for p in tree.rglob("*"))
    with pytest.raises(ConfigError):
        discover([tree])
    assert sorted((str(p), p.is_symlink()) for p in tree.rglob("*")) == before
    assert os.readlink(tree / "custom" / "sale_ext" / "data" / "passwd.xml") == str(host / "shadow")

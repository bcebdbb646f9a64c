"""Discovery and manifest validation: every problem reported at once, with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.addons.core import SUPPORTED_SERIES, core_addons
from gitops.addons.discovery import discover
from gitops.errors import ConfigError, UsageError
from tests.fixtures.addons import write_addon


def _problems(exc: pytest.ExceptionInfo[ConfigError], root: Path) -> set[tuple[str, int, str]]:
    return {(str(Path(p.file).relative_to(root)), p.line, p.message) for p in exc.value.problems}


def test_discovers_nested_repositories_and_skips_hidden_dirs(tmp_path: Path) -> None:
    write_addon(tmp_path / "oca" / "server-tools", "module_a")
    write_addon(tmp_path / "custom", "module_b", depends=["module_a", "mail"])
    write_addon(tmp_path / ".git" / "objects", "ghost")
    write_addon(tmp_path / "custom" / "module_b" / "nested", "inside_addon")  # addons do not nest
    tree = discover([tmp_path], series="17.0")
    assert list(tree) == ["module_a", "module_b"]
    assert tree["module_b"].depends == ("module_a", "mail")
    assert tree["module_b"].path == tmp_path / "custom" / "module_b"
    assert tree.series == "17.0"
    assert tree.dependency_closure("module_b") == ("module_a",)


def test_symlinked_duplicate_of_the_same_addon_is_found_once(tmp_path: Path) -> None:
    real = write_addon(tmp_path / "repo", "zz_module")
    setup = tmp_path / "repo" / "setup" / "zz_module" / "odoo" / "addons"
    setup.mkdir(parents=True)
    (setup / "zz_module").symlink_to(real, target_is_directory=True)
    tree = discover([tmp_path])
    assert list(tree) == ["zz_module"]
    assert tree["zz_module"].path == real


def test_series_is_inferred_from_versions(tmp_path: Path) -> None:
    write_addon(tmp_path, "a", version="18.0.1.0.0")
    assert discover([tmp_path]).series == "18.0"


def test_every_manifest_problem_is_reported_with_file_and_line(tmp_path: Path) -> None:
    write_addon(tmp_path / "r1", "bad_version", version="1.0")
    write_addon(tmp_path / "r1", "wrong_series", version="16.0.1.0.0")
    write_addon(tmp_path / "r1", "missing_dep", depends=["base", "no_such_module"])
    write_addon(tmp_path / "r1", "dup")
    write_addon(tmp_path / "r2", "dup")
    write_addon(tmp_path / "r1", "uses_disabled", depends=["disabled"])
    write_addon(tmp_path / "r1", "disabled", installable=False)
    write_addon(tmp_path / "r1", "missing_data", data=["views/x.xml"])
    (tmp_path / "r1" / "bad_types").mkdir()
    (tmp_path / "r1" / "bad_types" / "__manifest__.py").write_text(
        "{\n  'name': 'x',\n  'version': '17.0.1.0.0',\n  'depends': 'base',\n  'installable': 1,\n}\n"
    )
    (tmp_path / "r1" / "syntax").mkdir()
    (tmp_path / "r1" / "syntax" / "__manifest__.py").write_text("{\n  'name': 'x',\n  'version': \n}\n")
    (tmp_path / "r1" / "code").mkdir()
    (tmp_path / "r1" / "code" / "__manifest__.py").write_text(
        "{\n  'name': 'x',\n  'version': '17.0.1.0.0',\n  'depends': [d for d in 'ab'],\n}\n"
    )
    with pytest.raises(ConfigError) as exc:
        discover([tmp_path / "r1", tmp_path / "r2"], series="17.0")
    problems = {
        (f, line, "manifest is not valid Python: SYNTAX" if "not valid Python" in m else m)
        for f, line, m in _problems(exc, tmp_path)
    }
    assert problems == {
        ("r1/bad_version/__manifest__.py", 4, "version '1.0' must look like 17.0.x.y.z"),
        ("r1/wrong_series/__manifest__.py", 4, "version '16.0.1.0.0' is not for Odoo 17.0 (17.0.x.y.z)"),
        (
            "r1/missing_dep/__manifest__.py",
            5,
            "depends on 'no_such_module', which is neither in the addons tree "
            "nor a known Odoo 17.0 community addon (declare it as a known module if it comes from elsewhere)",
        ),
        ("r2/dup/__manifest__.py", 1, f"duplicate addon name 'dup': also at {tmp_path / 'r1' / 'dup'}"),
        ("r1/uses_disabled/__manifest__.py", 5, "depends on 'disabled', which is not installable"),
        ("r1/missing_data/__manifest__.py", 7, "data file 'views/x.xml' does not exist"),
        ("r1/bad_types/__manifest__.py", 4, "'depends' must be a list of strings"),
        ("r1/bad_types/__manifest__.py", 5, "'installable' must be True or False"),
        ("r1/syntax/__manifest__.py", 3, "manifest is not valid Python: SYNTAX"),
        ("r1/code/__manifest__.py", 4, "manifest key 'depends' is not a literal value"),
    }
    assert exc.value.exit_code == 2
    assert "r1/missing_dep/__manifest__.py:5:" in exc.value.render()


def test_known_modules_extend_the_core_list(tmp_path: Path) -> None:
    write_addon(tmp_path, "a", depends=["base", "web_responsive"])
    with pytest.raises(ConfigError):
        discover([tmp_path], series="17.0")
    assert list(discover([tmp_path], series="17.0", known_modules=["web_responsive"])) == ["a"]


def test_manifest_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    (tmp_path / "evil").mkdir()
    (tmp_path / "evil" / "__manifest__.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\n{{'name': 'x', 'version': '17.0.1.0.0'}}\n"
    )
    with pytest.raises(ConfigError, match=r"evil/__manifest__\.py:1: manifest must be a single dict literal"):
        discover([tmp_path])  # Odoo would refuse it too (ast.literal_eval of the whole file)
    assert not marker.exists()


@pytest.mark.parametrize("series", SUPPORTED_SERIES)
def test_core_lists_ship_for_every_supported_series(series: str) -> None:
    names = core_addons(series)
    assert {
        "base",
        "web",
        "mail",
        "account",
        "sale",
        "stock",
        "purchase",
        "hr",
        "project",
        "hr_timesheet",
    } <= names
    assert len(names) > 250


def test_unsupported_series_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unsupported Odoo series '15\.0'"):
        discover([tmp_path], series="15.0")

"""`odoo-gitops addons checksums|diff` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click_odoo_contrib._addon_hash import addon_hash

from gitops.addons.checksums import DEFAULT_EXCLUDES
from gitops.cli.main import main
from tests.fixtures.addons import models_file, write_addon

MODEL = (
    'class Visit(models.Model):\n    _name = "crm.visit"\n    _description = "Visit"\n'
    "    name = fields.Char()\n"
)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_checksums_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_addon(tmp_path / "repo", "visit", files=models_file(MODEL))
    write_addon(tmp_path / "repo", "visit_extra", version="17.0.2.1.0", depends=["visit"])
    code, out, _ = _run(capsys, "addons", "checksums", str(tmp_path), "--series", "17.0", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["series"] == "17.0"
    assert data["exclude_patterns"] == list(DEFAULT_EXCLUDES)
    assert data["addons"] == {
        name: {
            "version": version,
            "path": f"repo/{name}",
            "checksum": addon_hash(str(tmp_path / "repo" / name), list(DEFAULT_EXCLUDES), []),
        }
        for name, version in (("visit", "17.0.1.0.0"), ("visit_extra", "17.0.2.1.0"))
    }


def test_checksums_with_active_languages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_addon(tmp_path, "visit", files={"i18n/fr.po": "fr", "i18n/de.po": "de"})
    code, out, _ = _run(capsys, "addons", "checksums", str(tmp_path), "--lang", "fr_FR", "--json")
    assert code == 0
    assert json.loads(out)["addons"]["visit"]["checksum"] == addon_hash(
        str(tmp_path / "visit"), list(DEFAULT_EXCLUDES), ["fr_FR"]
    )


def test_checksums_human_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_addon(tmp_path, "visit")
    code, out, _ = _run(capsys, "addons", "checksums", str(tmp_path))
    assert code == 0
    checksum = addon_hash(str(tmp_path / "visit"), list(DEFAULT_EXCLUDES), [])
    assert out.strip() == f"{checksum}  visit 17.0.1.0.0"


def test_invalid_manifest_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_addon(tmp_path, "visit", version="17.0.1", depends=["base", "nowhere"])
    code, out, err = _run(capsys, "addons", "checksums", str(tmp_path), "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    assert {(Path(p["file"]).name, p["line"]) for p in problems} == {
        ("__manifest__.py", 4),
        ("__manifest__.py", 5),
    }
    assert f"{tmp_path / 'visit' / '__manifest__.py'}:4: version '17.0.1' must look like" in err


def test_missing_directory_and_bad_series_are_usage_errors(tmp_path: Path, capsys) -> None:
    assert _run(capsys, "addons", "checksums", str(tmp_path / "nope"))[0] == 2
    assert _run(capsys, "addons", "checksums", str(tmp_path), "--series", "15.0")[0] == 2


def _trees(
    tmp_path: Path, new_model: str, new_version: str, files: dict[str, str] | None = None
) -> list[str]:
    write_addon(tmp_path / "old", "visit", files=models_file(MODEL))
    write_addon(
        tmp_path / "new", "visit", version=new_version, files={**models_file(new_model), **(files or {})}
    )
    return [str(tmp_path / "old"), str(tmp_path / "new")]


def test_clean_diff_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = _trees(tmp_path, MODEL + "    code = fields.Char()\n", "17.0.1.1.0")
    code, out, _ = _run(capsys, "addons", "diff", *dirs, "--json")
    assert code == 0
    data = json.loads(out)
    assert (data["change_class"], data["destructive"], data["errors"]) == ("normal", False, [])
    assert [(c["kind"], c["field"]) for c in data["changes"]] == [("version", None), ("field_added", "code")]
    assert len(data["schema_fingerprint"]) == 64


def test_diff_with_broken_rules_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = _trees(tmp_path, MODEL.replace("    name = fields.Char()\n", ""), "17.0.1.0.0")
    code, out, _ = _run(capsys, "addons", "diff", *dirs, "--json")
    assert code == 3
    data = json.loads(out)
    assert data["destructive"] is True
    assert sorted(e["rule"] for e in data["errors"]) == [
        "destructive_without_migration",
        "schema_change_without_version_bump",
    ]
    code, out, _ = _run(capsys, "addons", "diff", *dirs)
    assert code == 3
    assert "change class: normal (destructive)" in out
    assert "[destructive] visit: field_removed crm.visit.name" in out
    assert "error: " in out and "schema changes but the version stays 17.0.1.0.0" in out


def test_module_entry_point(tmp_path: Path) -> None:
    dirs = _trees(tmp_path, MODEL, "17.0.1.0.1")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "gitops", "addons", "diff", *dirs, "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["change_class"] == "standard"

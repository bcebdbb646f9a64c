"""The scripts the chart ships (charts/odoo/files), run for real."""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitops.addons.checksums import DEFAULT_EXCLUDES, addon_checksum
from tests.addons.test_checksums import TREES
from tests.fixtures.charts import CHART

RENDER = CHART / "files" / "render-config.py"
SECRETS = {"ODOO_ADMIN_PASSWD": "s3cr3t-admin", "PGUSER": "odoo_acme", "PGPASSWORD": "p@ss%word"}


def render(tmp_path: Path, template: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "odoo.conf.tpl"
    source.write_text(template)
    return subprocess.run(
        [sys.executable, str(RENDER), str(source), str(tmp_path / "odoo.conf")],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_render_config_appends_credentials_from_the_environment(tmp_path: Path) -> None:
    result = render(tmp_path, "[options]\nlist_db = False\n", SECRETS)
    assert result.returncode == 0, result.stderr
    output = tmp_path / "odoo.conf"
    assert output.read_text().splitlines() == [
        "[options]",
        "list_db = False",
        "admin_passwd = s3cr3t-admin",
        "db_user = odoo_acme",
        "db_password = p@ss%word",
    ]
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert "s3cr3t" not in result.stdout + result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_render_config_refuses_a_missing_secret(tmp_path: Path, missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = render(tmp_path, "[options]\n", env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert not (tmp_path / "odoo.conf").exists()


def test_render_config_refuses_a_line_break_that_would_inject_options(tmp_path: Path) -> None:
    result = render(tmp_path, "[options]\n", {**SECRETS, "PGPASSWORD": "x\nlist_db = True"})
    assert result.returncode != 0
    assert "line break" in result.stderr
    assert "list_db = True" not in result.stderr


def test_render_config_refuses_a_template_that_sets_a_credential(tmp_path: Path) -> None:
    result = render(tmp_path, "[options]\nadmin_passwd = admin\n", SECRETS)
    assert result.returncode != 0
    assert "must not set admin_passwd" in result.stderr


def test_migrate_script_builds_a_single_targeted_update(tmp_path: Path) -> None:
    """The odoo command line migrate.py runs: only the changed modules, and stop after the update."""
    code = (
        "import sys, types; sys.modules['psycopg2'] = types.ModuleType('psycopg2');"
        f"sys.path.insert(0, {str(CHART / 'files')!r});"
        "import importlib; m = importlib.import_module('migrate');"
        "print(m.odoo_args('/run/odoo/odoo.conf', 'acme', ['a_mod', 'b_mod'], False));"
        "print(m.odoo_args('/run/odoo/odoo.conf', 'acme', ['a_mod'], True));"
        "print(m.lock_key('acme'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    update, init, lock = result.stdout.splitlines()
    config = "/run/odoo/odoo.conf"
    expected = ["odoo", "-c", config, "-d", "acme", "-u", "a_mod,b_mod", "--stop-after-init", "--no-http"]
    assert update == str(expected)
    assert "'-i', 'base,a_mod'" in init
    assert "pg_advisory_lock" in lock and "odoo-gitops/migrate/acme" in lock


def write_tree(top: Path, files: dict[str, bytes]) -> None:
    top.mkdir(parents=True, exist_ok=True)
    for relpath, content in files.items():
        (top / relpath).parent.mkdir(parents=True, exist_ok=True)
        (top / relpath).write_bytes(content)


def _migrate_module() -> Any:
    """charts/odoo/files/migrate.py as a module (it runs in the Odoo image, outside the gitops package)."""
    spec = importlib.util.spec_from_file_location("chart_migrate", CHART / "files" / "migrate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migrate_checksums_with_the_builds_excludes() -> None:
    assert _migrate_module().CHECKSUM_EXCLUDES == DEFAULT_EXCLUDES


@pytest.mark.parametrize("name", sorted(TREES))
def test_migrate_checksum_equals_the_builds(tmp_path: Path, name: str) -> None:
    """The hook hashes the addon on disk exactly as the build did for release.yaml (gitops/addons)."""
    top = tmp_path / name
    write_tree(top, TREES[name])
    assert _migrate_module().addon_hash(str(top)) == addon_checksum(top)


def test_migrate_checksum_treats_symlinks_like_the_build(tmp_path: Path) -> None:
    top, outside = tmp_path / "addon", tmp_path / "outside"
    write_tree(top, {"__manifest__.py": b"{}", "models/a.py": b"a"})
    write_tree(outside, {"inner.py": b"inner"})
    (top / "linked_dir").symlink_to(outside, target_is_directory=True)
    (top / "linked_file.py").symlink_to(outside / "inner.py")
    assert _migrate_module().addon_hash(str(top)) == addon_checksum(top)


def test_migrate_finds_each_module_where_odoo_loads_it(tmp_path: Path) -> None:
    """<data_dir>/addons/<series> first, then addons_path in order; Odoo's own modules get no checksum."""
    first, second, data = tmp_path / "custom", tmp_path / "extra", tmp_path / "data"
    write_tree(first / "acme_sale", {"__manifest__.py": b"{'version': '17.0.1.0.0'}", "a.py": b"first"})
    write_tree(second / "acme_sale", {"__manifest__.py": b"{'version': '17.0.1.0.0'}", "a.py": b"shadowed"})
    write_tree(second / "acme_stock", {"__manifest__.py": b"{}", "b.py": b"b"})
    write_tree(data / "addons" / "17.0" / "acme_stock", {"__manifest__.py": b"{}", "b.py": b"from the store"})
    write_tree(first / "not_a_module", {"readme": b"no manifest"})
    conf = tmp_path / "odoo.conf"
    conf.write_text(f"[options]\naddons_path = {first}, {second}\ndata_dir = {data}\n")
    rows = {
        name: {"state": "installed", "version": "17.0.1.0.0"}
        for name in ("acme_sale", "acme_stock", "not_a_module")
    }
    rows["base"] = {"state": "installed", "version": "17.0.1.3"}
    rows[f"../{first.name}/acme_sale"] = {"state": "installed", "version": "x"}  # a forged row: not a name
    recorded = _migrate_module().add_checksums(rows, str(conf))
    assert recorded["acme_sale"]["checksum"] == addon_checksum(first / "acme_sale")
    assert recorded["acme_sale"]["path"] == str(first / "acme_sale")
    assert recorded["acme_stock"]["checksum"] == addon_checksum(data / "addons" / "17.0" / "acme_stock")
    assert "checksum" not in recorded["not_a_module"] and "checksum" not in recorded["base"]
    assert "checksum" not in recorded[f"../{first.name}/acme_sale"]

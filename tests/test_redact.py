"""gitops/redact.py: the one redaction layer (URL userinfo, Authorization values, registered secrets, clone
paths). The CLI-wide sweep is tests/cli/test_redaction_sweep.py."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from urllib.parse import quote

import pytest

from gitops.errors import ConfigError, ExternalError, Problem
from gitops.redact import (
    clone_sources,
    redact,
    redact_data,
    register_clone,
    register_process,
    register_secret,
    register_url,
    strip_userinfo,
)


def planted(prefix: str = "PLANTED") -> str:
    return f"{prefix}-{secrets.token_hex(8)}"


@pytest.mark.parametrize(
    "template",
    [
        "http://u:{s}@host/config.git",
        "https://x-access-token:{s}@github.com/acme/config.git",
        "git://user:{s}@127.0.0.1:9418/config.git",
        "ssh://deploy:{s}@git.example.com/config.git",
        "svn+ssh://a:{s}@h/x",
        "fatal: unable to access 'https://ci:{s}@h/config.git/': 403",
        "https://{s}@github.com/acme/config.git",  # a token as the user name
        "https://u:p@ss{s}@host/x",  # an unencoded "@" in the password
    ],
)
def test_url_userinfo_of_any_scheme_is_removed_without_registration(template: str) -> None:
    secret = planted()
    out = redact(template.format(s=secret))
    assert secret not in out
    assert "***@" in out and "://" in out


def test_host_and_path_survive_so_the_message_still_names_the_remote() -> None:
    assert redact("git push http://u:tok1234@10.0.0.1:8080/a/b.git failed") == (
        "git push http://***@10.0.0.1:8080/a/b.git failed"
    )
    assert strip_userinfo("https://x-access-token:abc@github.com/o/r.git") == "https://github.com/o/r.git"
    assert redact("see https://github.com/o/r/pull/3 and mail ops@example.com") == (
        "see https://github.com/o/r/pull/3 and mail ops@example.com"
    )


def test_authorization_values_are_removed_but_prose_and_challenges_stay() -> None:
    userpass = base64.b64encode(b"robot:hunter2-PLANTED").decode()
    out = redact(f'registry said: denied (Authorization: Basic {userpass}; got "Basic {userpass}")')
    assert userpass not in out and "hunter2" not in out
    out = redact("header Bearer eyJhbGciOi.JIUzI1NiJ9.sig-PLANTED and token tok_123456789")
    assert "eyJhbGciOi" not in out and "tok_123456789" not in out
    for prose in (
        'WWW-Authenticate: Basic realm="registry"',
        "basic authentication failed",
        "bearer authentication is required",
    ):
        assert redact(prose) == prose


def test_github_token_shapes_and_key_value_pairs() -> None:
    out = redact("ghp_abcdefghijklmnop1234 github_pat_11ABCDEFG_xyz password=pa55word token: s3cr3t-val")
    for leaked in ("ghp_abcdef", "github_pat_11", "pa55word", "s3cr3t-val"):
        assert leaked not in out


def test_registered_secret_and_its_encodings_are_removed_anywhere() -> None:
    secret = planted("pw") + "/+:@"
    register_secret(secret, user="robot")
    forms = [
        secret,
        base64.b64encode(secret.encode()).decode(),
        base64.b64encode(f"robot:{secret}".encode()).decode(),
        quote(secret, safe=""),
    ]
    for form in forms:
        out = redact(f"the server said {form}, twice: ({form})")
        assert form not in out and out == "the server said ***, twice: (***)"


def test_register_url_and_process_register_what_the_process_is_handed() -> None:
    in_url, in_env, registry_pw = planted(), planted(), planted()
    register_url(f"https://ci:{in_url}@git.example.com/config.git")
    register_process(
        ["promote", "--config-repo", f"git://u:{planted()}@h/x", "--json"],
        {
            "GITHUB_TOKEN": in_env,
            "ODOO_GITOPS_REGISTRY_USERNAME": "robot",
            "ODOO_GITOPS_REGISTRY_PASSWORD": registry_pw,
        },
    )
    echoed = base64.b64encode(f"robot:{registry_pw}".encode()).decode()
    out = redact(f"a {in_url} b {in_env} c {registry_pw} d {echoed} e")
    assert in_url not in out and in_env not in out and registry_pw not in out and echoed not in out


def test_redact_data_walks_json_and_keeps_it_valid() -> None:
    secret = planted()
    register_secret(secret)
    data = {"url": f"http://u:{secret}@h/x#pr-1", "n": 3, "list": [f"token={secret}", None, True]}
    out = redact_data(data)
    assert out == {"url": "http://***@h/x#pr-1", "n": 3, "list": ["token=***", None, True]}


def test_errors_are_redacted_when_raised() -> None:
    secret = planted()
    register_secret(secret)
    exc = ExternalError(f"git clone git://a:{secret}@h/x failed", hint=f"retry with {secret}")
    assert secret not in exc.render() and secret not in str(exc) and secret not in repr(exc.to_dict())


def test_temporary_clone_paths_read_as_repository_paths(tmp_path: Path) -> None:
    clone = tmp_path / "odoo-gitops-config-x" / "repo"
    register_clone(clone, "http://u:tok-PLANTED-1@h/config.git (main at 0123456789ab)")
    text = f"{clone}/audit/prod.jsonl:2: audit entry is not valid JSON"
    assert clone_sources(text) == ["http://***@h/config.git (main at 0123456789ab)"]
    error = ConfigError([Problem(f"{clone}/audit/prod.jsonl", 2, "audit entry is not valid JSON")])
    assert "  audit/prod.jsonl:2: audit entry is not valid JSON" in error.render()
    assert error.read_from == ["http://***@h/config.git (main at 0123456789ab)"]
    assert str(tmp_path) not in error.render()

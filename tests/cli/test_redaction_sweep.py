"""Every CLI verb, fed planted secrets, never lets one out: not on stdout (human or --json), not on stderr,
not in what it writes (commits, the local forge's PRs and comments, GitHub PRs, the audit log), not in a
debug traceback, and not base64-encoded either.

Secrets planted: the token in a `--config-repo http://ci:TOKEN@…` URL (a real git smart-HTTP server that
requires it), GITHUB_TOKEN, COSIGN_PASSWORD, the registry password (ODOO_GITOPS_REGISTRY_*; a registry that
echoes the `Authorization` header in its error bodies), and passwords in `git://` / `ssh://` URLs.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import gitops.cli.plan
from gitops.cli.main import main
from tests.fixtures.configrepo import git
from tests.fixtures.githttp import GitHttp, start_git_http
from tests.fixtures.github import SLUG, start_fake_github
from tests.fixtures.promote import Stage

URL_TOKEN = "tok-url-PLANTED-1b2c3d4e5f"
GITHUB_TOKEN = "ghs_PLANTEDgithubtoken0123456789"
COSIGN_PASSWORD = "cosign-PLANTED-pass-77"
REGISTRY_USER, REGISTRY_PASSWORD = "robot", "reg-PLANTED-pass-88"
GIT_URL_PASSWORD = "gitpw-PLANTED-99"
SSH_URL_PASSWORD = "sshpw-PLANTED-66"
DIGEST = "sha256:" + "ab" * 32
SECRETS = (URL_TOKEN, GITHUB_TOKEN, COSIGN_PASSWORD, REGISTRY_PASSWORD, GIT_URL_PASSWORD, SSH_URL_PASSWORD)


def forms(secret: str) -> list[str]:
    """The secret, its base64, and the base64 of `user:secret` for the users that carry it."""
    b64 = base64.b64encode
    found = [secret, b64(secret.encode()).decode()]
    for user in ("ci", REGISTRY_USER, "x-access-token", "u"):
        found.append(b64(f"{user}:{secret}".encode()).decode().rstrip("="))
    return found


def leaks(text: str) -> list[str]:
    return [f for s in SECRETS for f in forms(s) if f in text]


@dataclass
class Run:
    argv: list[str]
    code: int
    out: str
    err: str


@dataclass
class Sweep:
    capsys: pytest.CaptureFixture[str]
    runs: list[Run] = field(default_factory=list)

    def __call__(self, *argv: str, both: bool = True) -> Run:
        """Run the verb with --json (and, with `both`, without it); returns the --json run."""
        if both:
            self._one([*argv])
        return self._one([*argv, "--json"])

    def _one(self, argv: list[str]) -> Run:
        code = main(argv)
        captured = self.capsys.readouterr()
        run = Run(argv, code, captured.out, captured.err)
        self.runs.append(run)
        return run


def _echo_handler() -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """A registry that echoes the credentials it was sent in its error body (as some do)."""

        def log_message(self, *args: object) -> None:
            pass

        def _serve(self) -> None:
            auth = self.headers.get("Authorization")
            status = 403 if auth else 401
            message = f"access denied for {auth}" if auth else "authentication required"
            body = json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode()
            self.send_response(status)
            if not auth:
                self.send_header("WWW-Authenticate", 'Basic realm="echo"')
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _serve

    return Handler


@pytest.fixture
def echo_registry() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _echo_handler())
    import threading

    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def served(stage: Stage, tmp_path: Path) -> Iterator[GitHttp]:
    """The stage's config repository behind HTTP Basic auth: user `ci`, password URL_TOKEN."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "config.git").symlink_to(stage.repo.remote)
    server, httpd = start_git_http(root, {"ci": URL_TOKEN})
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def planted_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("COSIGN_PASSWORD", COSIGN_PASSWORD)
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_USERNAME", REGISTRY_USER)
    monkeypatch.setenv("ODOO_GITOPS_REGISTRY_PASSWORD", REGISTRY_PASSWORD)


def written(stage: Stage, *extra: Path) -> str:
    """Everything the commands wrote: every commit (message, author, diff) on every branch, and files."""
    log = git(stage.repo.remote, "log", "--all", "-p", "--format=%H %an %ae%n%B")
    return log + "".join(p.read_text(errors="replace") for d in extra for p in d.rglob("*") if p.is_file())


def make_addon(root: Path) -> Path:
    addon = root / "addons" / "acme_sweep"
    addon.mkdir(parents=True)
    (addon / "__manifest__.py").write_text(
        "{'name': 'Sweep', 'version': '17.0.1.0.0', 'depends': ['base']}\n"
    )
    (addon / "__init__.py").write_text("")
    git(addon.parent, "init", "-q", "-b", "main")
    git(addon.parent, "add", "-A")
    git(addon.parent, "commit", "-q", "-m", "addons")
    return addon.parent


def test_no_command_lets_a_planted_secret_out(
    stage: Stage,
    served: GitHttp,
    echo_registry: str,
    planted_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sweep = Sweep(capsys)
    repo = served.url("config.git", user="ci", password=URL_TOKEN)
    cfg = ("--config-repo", repo)
    image = f"{echo_registry}/acme/odoo@{DIGEST}"
    addons = make_addon(tmp_path / "src")
    keys = tmp_path / "keys"

    # build, supply chain: a registry that echoes `Authorization: Basic base64(user:password)`
    sweep("addons", "checksums", str(addons))
    sweep("addons", "diff", str(addons), str(addons))
    build = sweep("build", str(addons), "--base", f"{echo_registry}/odoo@{DIGEST}", "--repository",
                  f"{echo_registry}/acme/odoo", "--push", "--timeout", "5")  # fmt: skip
    assert build.code == 1 and "access denied for Basic ***" in build.out  # the echo, redacted
    assert sweep("keygen", "--output-dir", str(keys), both=False).code == 0
    signed = sweep("sign", image, "--key", str(keys / "cosign.key"), "--timeout", "5")
    assert signed.code == 1 and "HTTP 403" in signed.out
    sweep("verify-signature", image, "--key", str(keys / "cosign.pub"), "--timeout", "5")
    sweep("scan", image, "--env", "prod", *cfg, "--timeout", "5")

    # config-repo readers, through the HTTP server that requires the URL's token
    for verb in (["window", "check", "prod"], ["window", "next", "prod"], ["window", "ics", "prod"]):
        sweep(*verb, *cfg)
    sweep("window", "list", "prod", "--from", "2026-12-01", "--to", "2026-12-31", *cfg)
    assert sweep("plan", "staging", "prod", *cfg).code == 0

    # writers: promote (local forge), pr, gate, rollback, verify, audit
    promoted = sweep("promote", "staging", "prod", "--actor", "ci-bot", *cfg)
    assert promoted.code == 0, promoted.out
    result = json.loads(promoted.out)
    number = str(result["pull_request"]["number"])
    assert result["pull_request"]["url"] == f"http://127.0.0.1:{served.port}/config.git#pr-{number}"
    sweep("pr", "list", *cfg)
    sweep("pr", "show", number, *cfg)
    assert sweep("status", *cfg).code == 0
    board = tmp_path / "board"
    assert sweep("board", "--out", str(board), *cfg).code == 0  # the site: the PR page, the audit trail
    sweep("pr", "approve", number, "--as", "cab-ines", "--comment", f"ok {repo}", *cfg, both=False)
    gate = sweep("gate", "check", number, *cfg)
    assert json.loads(gate.out)["pull_request"]["url"].startswith(f"http://127.0.0.1:{served.port}/")
    sweep("pr", "merge", number, *cfg)
    sweep("rollback", "prod", "--actor", "ci-bot", *cfg)
    sweep("verify", "prod", "--revision", "0" * 40, "--timeout", "1", *cfg)
    sweep("audit", "verify", *cfg)
    sweep("audit", "log", "prod", *cfg)

    # failures: refused token, unreachable git:// and ssh:// remotes with passwords, a bad option value
    refused = sweep("plan", "staging", "prod", "--config-repo", served.url("config.git", user="ci",
                    password=URL_TOKEN[::-1]))  # fmt: skip
    assert refused.code == 1 and "access denied" in refused.out
    sweep("plan", "staging", "prod", "--config-repo", f"git://deploy:{GIT_URL_PASSWORD}@127.0.0.1:9/c.git")
    sweep("audit", "verify", "--config-repo", f"ssh://deploy:{SSH_URL_PASSWORD}@127.0.0.1:9/c.git")
    sweep("window", "list", "prod", "--from", f"https://u:{GIT_URL_PASSWORD}@x", *cfg)

    # the github forge: PR bodies, comments and statuses written through the API
    fake, httpd = start_fake_github(stage.repo.remote, {GITHUB_TOKEN: "ci-bot"})
    try:
        gh = ("--forge", "github", "--github-url", fake.host, "--github-repo", SLUG)
        stage.release("staging", _newer_release(), "staging runs 1.6.0")
        opened = sweep("promote", "staging", "prod", *gh, *cfg)
        assert opened.code == 0, opened.out
        gh_number = str(json.loads(opened.out)["pull_request"]["number"])
        sweep("gate", "check", gh_number, *gh, *cfg)
        sweep("pr", "show", gh_number, *gh, *cfg)
        assert sweep("status", *gh, *cfg).code == 0
    finally:
        httpd.shutdown()
        httpd.server_close()
    github_side = json.dumps([vars(p) for p in fake.pulls.values()], default=str)

    # an internal error with a debug traceback
    def explode(spec: str) -> Path:
        raise RuntimeError(f"cannot read {spec} with {GITHUB_TOKEN}")

    monkeypatch.setattr(gitops.cli.plan, "checkout_config_repo", explode)
    monkeypatch.setenv("ODOO_GITOPS_DEBUG", "1")
    debug = sweep("plan", "staging", "prod", *cfg, both=False)
    assert debug.code == 1 and "Traceback (most recent call last)" in debug.err

    # the secrets were really in play: the git server was sent the URL's token
    sent = base64.b64encode(f"ci:{URL_TOKEN}".encode()).decode()
    assert f"Basic {sent}" in served.seen_authorization
    for run in sweep.runs:
        assert leaks(run.out + run.err) == [], f"{run.argv} printed {leaks(run.out + run.err)}"
    assert leaks(written(stage, keys)) == []
    assert leaks(github_side) == []
    site = "".join(p.read_text() for p in sorted(board.iterdir()) if p.suffix == ".html")
    assert "promotion-" in " ".join(p.name for p in board.iterdir()) and leaks(site) == []


def _newer_release() -> dict[str, Any]:
    from tests.fixtures.promote import release_data

    return release_data("1.6.0", promoted_from="dev")


def test_env_secrets_are_redacted_even_where_no_code_registered_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret from the environment that reaches a message through an unexpected path (here: the name of
    a missing file) is removed too, because the CLI registers the environment's secrets at start."""
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    for argv in (["addons", "checksums", str(tmp_path / GITHUB_TOKEN)], ["plan", "a", "b", "--config-repo",
                 str(tmp_path / GITHUB_TOKEN)]):  # fmt: skip
        for extra in ([], ["--json"]):
            code = main([*argv, *extra])
            captured = capsys.readouterr()
            assert code == 2
            assert leaks(captured.out + captured.err) == []
            assert "***" in captured.out + captured.err


def test_the_sweep_would_see_a_leak(capsys: pytest.CaptureFixture[str]) -> None:
    """The sweep's detector finds a secret and its encodings (so a clean sweep means something)."""
    assert leaks(f"x {URL_TOKEN} y") == [URL_TOKEN]
    encoded = base64.b64encode(f"{REGISTRY_USER}:{REGISTRY_PASSWORD}".encode()).decode()
    assert encoded.rstrip("=") in leaks(f"Basic {encoded}")
    assert os.environ.get("GITHUB_TOKEN") is None
    assert subprocess.run(["true"], check=False).returncode == 0


def test_library_warnings_on_stderr_are_redacted(tmp_path: Path) -> None:
    """Warnings reach stderr through logging's last-resort handler (a real process)."""
    script = (
        "import logging, sys\n"
        "from gitops.cli.main import main\n"
        "main(['addons', 'checksums', sys.argv[1]])\n"
        "logging.getLogger('gitops.verify.watcher').warning(\n"
        "    'Retrying after %s: https://x-access-token:%s@github.com/acme/config.git',\n"
        "    'reset', sys.argv[2])\n"
    )
    env = {**os.environ, "GITHUB_TOKEN": GITHUB_TOKEN}
    done = subprocess.run(
        [sys.executable, "-c", script, str(make_addon(tmp_path)), GITHUB_TOKEN],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "Retrying after reset: https://***@github.com/acme/config.git" in done.stderr
    assert leaks(done.stdout + done.stderr) == []

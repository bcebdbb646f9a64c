"""Registry credentials (environment, then docker config) and the `WWW-Authenticate` challenge parser.

Credentials are registered as secrets so that no message or log ever shows them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import UsageError, register_secret

USER_ENV = "ODOO_GITOPS_REGISTRY_USERNAME"
PASSWORD_ENV = "ODOO_GITOPS_REGISTRY_PASSWORD"  # noqa: S105 (a variable name)
_CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never show the password, not even in a debugger dump
        return f"Credentials(username={self.username!r}, password='***')"


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer"
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    return Challenge(scheme=scheme.lower(), params=dict(_CHALLENGE_RE.findall(rest)))


def _docker_config_path() -> Path:
    base = os.environ.get("DOCKER_CONFIG")
    return Path(base) / "config.json" if base else Path.home() / ".docker" / "config.json"


def _keys_for(host: str) -> tuple[str, ...]:
    keys = (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/", f"https://{host}/v2/")
    return keys + _HUB_KEYS if host in _HUB_KEYS else keys


def _from_entry(entry: dict[str, object], where: str) -> Credentials | None:
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, colon, password = base64.b64decode(auth, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            colon = ""
        if not colon or not user:
            raise UsageError(f"{where}: the 'auth' entry is not base64 of user:password")
        return Credentials(user, password)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str):
        return Credentials(name, secret)
    return None


def _from_docker_config(host: str) -> Credentials | None:
    path = _docker_config_path()
    if not path.is_file():
        return None
    try:
        auths = json.loads(path.read_text()).get("auths", {})
    except (OSError, ValueError, AttributeError):
        raise UsageError(f"{path}: not a readable docker config JSON file") from None
    for key in _keys_for(host):
        if isinstance(auths.get(key), dict):
            return _from_entry(auths[key], str(path))
    return None


def credentials_for(host: str) -> Credentials | None:
    """`ODOO_GITOPS_REGISTRY_USERNAME/_PASSWORD` first, then `auths` in the docker config, else anonymous."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    found = Credentials(user, password) if user and password is not None else _from_docker_config(host)
    if found:
        register_secret(found.password, user=found.username)
    return found

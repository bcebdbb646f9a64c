"""The one redaction layer: every string that leaves the process goes through `redact` (or `redact_data`).

It removes, wherever they appear:
- registered secrets: values the process knows are secret (GITHUB_TOKEN, registry and key passwords, URL
  passwords, Kubernetes tokens), with their base64 and percent-encoded forms;
- the userinfo of URLs of any scheme (`https://user:TOKEN@host`, `git://u:pw@`, `ssh://u@`);
- `Authorization` values (`Basic <base64>`, `Bearer <token>`) and `token=`/`password:` style pairs;
- GitHub token shapes (`ghp_…`, `github_pat_…`).

It also turns paths inside temporary clones of the config repository into repository-relative ones
(`/tmp/odoo-gitops-x/config/audit/prod.jsonl:2` → `audit/prod.jsonl:2`) and remembers which clone was
named, so the error handler can say which remote and ref was read.

This module imports nothing from the rest of the toolkit: every layer may use it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
_MIN_SECRET = 4

# scheme://userinfo@ — userinfo may itself hold an unencoded "@"; it never crosses "/", "?", "#" or space
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s?#'\"<>]*@")
_URL_IN_TEXT = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+")
_GITHUB_TOKENS = re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{8,}|github_pat_[A-Za-z0-9_]{8,})")
_BASIC = re.compile(r"(?i)\b(basic)(\s+)([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])")
_BEARER = re.compile(r"(?i)\b(bearer|token)(\s+)([A-Za-z0-9._~+/-]{8,}=*)")
# lower-case words without which _PAIR cannot match (each pattern runs only when it could match)
_PAIR_WORDS = ("authoriz", "token", "passw", "secret")
_PAIR = re.compile(
    r"(?i)\b((?:authorization|proxy-authorization|x-access-token|access_token|token|password|passwd|secret)"
    r"\s*[:=]\s*)(?:(?:basic|bearer|token)\s+)?([^\s\"',;&)]+)"
)


@dataclass(frozen=True)
class _Clone:
    root: str
    source: str


_MAX_CLONES = 64  # a command makes a few clones; a long-lived process (the tests) keeps the latest
_secrets: set[str] = set()
_by_length: list[str] = []  # _secrets, longest first (a longer secret may contain a shorter one)
_clones: dict[str, _Clone] = {}
_clone_roots: list[_Clone] = []  # _clones, longest root first


def register_secret(value: str | None, *, user: str | None = None) -> None:
    """Remember a secret so that `redact` removes it (and its base64 / percent-encoded forms) from every
    message. With `user`, the base64 of `user:value` (an HTTP Basic credential) is removed too."""
    if not value or len(value) < _MIN_SECRET:
        return
    forms = {value, quote(value, safe=""), _b64(value)}
    if user is not None:
        forms |= {_b64(f"{user}:{value}"), _b64(f"{user}:{value}").rstrip("=")}
    _secrets.update(f for f in forms if len(f) >= _MIN_SECRET)
    _by_length[:] = sorted(_secrets, key=len, reverse=True)


def register_url(url: str | None) -> None:
    """Register the password (or a lone token-as-username) of a URL's userinfo as a secret."""
    if not url or "@" not in url or "://" not in url:
        return
    try:
        parts = urlsplit(url)
        user, password = parts.username, parts.password
    except ValueError:
        return
    if password:
        register_secret(unquote(password), user=unquote(user or ""))
        register_secret(password)
    elif user and len(user) >= 16:  # https://TOKEN@host: the token is the user name
        register_secret(unquote(user))


# environment variables that hold secrets; the registry password is also known as base64(user:password)
SECRET_ENV = ("GITHUB_TOKEN", "GH_TOKEN", "COSIGN_PASSWORD", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
_REGISTRY_ENV = ("ODOO_GITOPS_REGISTRY_USERNAME", "ODOO_GITOPS_REGISTRY_PASSWORD")


def register_process(argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Register what a process is handed: URL passwords in its arguments, secrets in its environment."""
    for arg in argv:
        for url in _URL_IN_TEXT.findall(arg):
            register_url(url)
    for name in SECRET_ENV:
        register_secret(env.get(name))
    register_secret(env.get(_REGISTRY_ENV[1]), user=env.get(_REGISTRY_ENV[0]))


def register_clone(root: Path | str, source: str) -> None:
    """Paths under `root` (a temporary clone of `source`) are shown relative to the repository."""
    for form in {str(root), str(Path(root).resolve())}:
        clone = _Clone(form.rstrip("/"), redact(source))
        _clones.pop(clone.root, None)
        _clones[clone.root] = clone
    while len(_clones) > _MAX_CLONES:
        del _clones[next(iter(_clones))]
    _clone_roots[:] = sorted(_clones.values(), key=lambda c: len(c.root), reverse=True)


def strip_userinfo(url: str) -> str:
    """`scheme://user:pw@host/x` → `scheme://host/x` (for URLs shown to people or stored)."""
    return _URL_USERINFO.sub(r"\1", url)


def redact(text: str) -> str:
    """`text` without secrets, credentials or temporary clone paths."""
    if not text:
        return text
    for secret in _by_length:
        if secret in text:
            text = text.replace(secret, MASK)
    lower = text.lower()
    if "://" in lower and "@" in text:
        text = _URL_USERINFO.sub(rf"\1{MASK}@", text)
    if "gh" in lower and "_" in text:
        text = _GITHUB_TOKENS.sub(MASK, text)
    if "basic" in lower:
        text = _BASIC.sub(_basic, text)
    if "bearer" in lower or "token" in lower:
        text = _BEARER.sub(_bearer, text)
    if any(word in lower for word in _PAIR_WORDS):
        text = _PAIR.sub(lambda m: m.group(1) + MASK, text)
    return _relative(text)


def redact_data(value: Any) -> Any:
    """`redact` applied to every string (keys too) of a JSON-like structure."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(k)): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


def clone_sources(text: str) -> list[str]:
    """Which temporary clones `text` names (before redaction): `source` of each, in order of first use."""
    found: list[str] = []
    for clone in _clones.values():
        if clone.root in text and clone.source not in found:
            found.append(clone.source)
    return found


def _relative(text: str) -> str:
    for clone in _clone_roots:
        if clone.root in text:
            text = text.replace(clone.root + "/", "").replace(clone.root, ".")
    return text


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _basic(match: re.Match[str]) -> str:
    """`Basic <base64 of user:password>` loses its credential; `Basic realm=…` and prose stay."""
    try:
        decoded = base64.b64decode(match.group(3) + "=" * (-len(match.group(3)) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    if b":" not in decoded:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{MASK}"


def _bearer(match: re.Match[str]) -> str:
    """`Bearer <token>` loses the token; `bearer authentication` (a plain word) stays."""
    value = match.group(3)
    if value.isalpha():
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{MASK}"

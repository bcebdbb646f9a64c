"""Small validated value types shared by the config models."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import semver
from pydantic import AfterValidator, BeforeValidator

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
_REPO_RE = re.compile(
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_DURATION_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$")
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def check_digest(value: str) -> str:
    if not DIGEST_RE.match(value):
        raise ValueError(f"not a sha256 digest (expected 'sha256:' and 64 lowercase hex digits): {value!r}")
    return value


def check_image_ref(value: str) -> str:
    """`repository@sha256:<64 hex>`: an image pinned by digest."""
    repo, sep, digest = value.partition("@")
    if not sep:
        raise ValueError(f"image must be pinned by digest as 'repository@sha256:<64 hex>': {value!r}")
    if not _REPO_RE.match(repo):
        raise ValueError(f"invalid image repository {repo!r}")
    check_digest(digest)
    return value


def check_sha1(value: str) -> str:
    if not SHA1_RE.match(value):
        raise ValueError(f"not a full 40-hex git commit SHA: {value!r}")
    return value


def check_semver(value: str) -> str:
    try:
        semver.Version.parse(value)
    except (ValueError, TypeError):
        raise ValueError(f"not a semantic version (MAJOR.MINOR.PATCH[-pre][+build]): {value!r}") from None
    return value


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


def check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError(f"{value!r} is not a valid name (lowercase letters, digits and '-', max 63)")
    return value


def parse_duration(value: object) -> timedelta:
    """'2d', '24h', '1h30m', '90s', 0 or a number of seconds → timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION_RE.match(value.strip())
        if match and any(match.groupdict().values()):
            parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
            return timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    raise ValueError(f"not a duration like '24h', '2d', '1h30m' or '90s': {value!r}")


def format_duration(value: timedelta) -> str:
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n)
    return text or "0s"


Digest = Annotated[str, AfterValidator(check_digest)]
ImageRef = Annotated[str, AfterValidator(check_image_ref)]
CommitSha = Annotated[str, AfterValidator(check_sha1)]
SemVer = Annotated[str, AfterValidator(check_semver)]
TimeZone = Annotated[str, AfterValidator(check_timezone)]
Name = Annotated[str, AfterValidator(check_name)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def split_image(ref: str) -> tuple[str, str]:
    """'repo@sha256:…' → ('repo', 'sha256:…')."""
    repo, _, digest = ref.partition("@")
    return repo, digest

"""Small validated value types shared by the config models."""

from __future__ import annotations

import posixpath
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import semver
from pydantic import AfterValidator, BeforeValidator, StrictStr

# `\Z`, not `$`: `$` also matches before a trailing newline, so 'prod\n' would pass as a name.
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}\Z")
SHA1_RE = re.compile(r"^[0-9a-f]{40}\Z")
_REPO_RE = re.compile(
    r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z"
)
_DURATION_RE = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?\Z")
_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\Z")  # Kubernetes object names
# Odoo technical names: the addon's directory, imported as odoo.addons.<name> (a Python identifier)
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}\Z")
# manifest versions: dot-separated parts ('17.0.1.0.3', '1.2'), optionally '-pre' / '+build' parts
_MODULE_VERSION_RE = re.compile(r"^[0-9A-Za-z]{1,16}(?:[.+-][0-9A-Za-z]{1,16}){0,11}\Z")
_CHECKSUM_RE = re.compile(r"^[0-9a-f]{40}\Z")
MAX_DURATION = timedelta(days=3660)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # far from datetime.max, so adding a duration cannot overflow


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


def check_object_name(value: str) -> str:
    """A Kubernetes object name (RFC 1123 subdomain); '{tenant}' stands for a tenant name."""
    if not _SUBDOMAIN_RE.match(value.replace("{tenant}", "t")):
        raise ValueError(
            f"{value!r} is not a Kubernetes object name (lowercase letters, digits, '-' and '.', max 253)"
        )
    return value


def check_module_name(value: str) -> str:
    if not _MODULE_RE.match(value):
        raise ValueError(
            f"{value!r} is not an Odoo module name (letters, digits and '_', not starting with a digit)"
        )
    return value


def check_module_version(value: str) -> str:
    if not _MODULE_VERSION_RE.match(value):
        raise ValueError(f"{value!r} is not a module version (dot-separated parts, e.g. '17.0.1.0.3')")
    return value


def check_checksum(value: str) -> str:
    if not _CHECKSUM_RE.match(value):
        raise ValueError(f"not a checksum (40 lowercase hex digits): {value!r}")
    return value


def check_repo_path(value: str) -> str:
    """A file path inside the config repository: relative, POSIX, no '..' and nothing odd in it."""
    if not value or value.startswith(("/", "~")) or "\\" in value or ":" in value.split("/", 1)[0]:
        raise ValueError(f"{value!r} must be a path relative to the config repository, e.g. keys/cosign.pub")
    parts = value.split("/")
    if any(part in ("", ".", "..") for part in parts) or posixpath.normpath(value) != value:
        raise ValueError(f"{value!r} must stay inside the config repository (no '..', '.' or '//')")
    if any(not ch.isprintable() for ch in value):
        raise ValueError(f"{value!r} contains control characters")
    return value


def _seconds(value: object) -> int | None:
    """A duration's length in seconds, as an int so that absurd values cannot overflow timedelta."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _DURATION_RE.match(value) if isinstance(value, str) and len(value) <= 64 else None
    if match is None or not any(match.groupdict().values()):
        return None
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def parse_duration(value: object) -> timedelta:
    """'2d', '24h', '1h30m', '90s', 0 or a number of seconds → timedelta (0 up to 3660 days)."""
    seconds = _seconds(value)
    if seconds is None or seconds < 0:
        raise ValueError(f"not a duration like '24h', '2d', '1h30m' or '90s': {value!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {value!r} is too long: at most {MAX_DURATION.days}d")
    return value if isinstance(value, timedelta) else timedelta(seconds=seconds)


def parse_timestamp(value: object) -> datetime:
    """An instant with a UTC offset: a YAML timestamp or an ISO 8601 string; never a bare number."""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
    if not isinstance(moment, datetime):
        raise ValueError(f"not a date-time like 2026-03-08T19:05:00Z: {value!r}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"date-time {value!r} has no UTC offset; add one, e.g. a trailing Z")
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"date-time {value!r} is out of range ({EARLIEST.year} to {LATEST.year - 1})")
    return moment


def parse_day(value: object) -> date:
    """A calendar date: a YAML date or a 'YYYY-MM-DD' string; never a number or a date-time."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date like 2027-01-31: {value!r}") from None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"not a date like 2027-01-31: {value!r}")
    return value


def format_duration(value: timedelta) -> str:
    total = int(value.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if n)
    return text or "0s"


Digest = Annotated[StrictStr, AfterValidator(check_digest)]
ImageRef = Annotated[StrictStr, AfterValidator(check_image_ref)]
CommitSha = Annotated[StrictStr, AfterValidator(check_sha1)]
SemVer = Annotated[StrictStr, AfterValidator(check_semver)]
TimeZone = Annotated[StrictStr, AfterValidator(check_timezone)]
Name = Annotated[StrictStr, AfterValidator(check_name)]
ObjectName = Annotated[StrictStr, AfterValidator(check_object_name)]
ModuleName = Annotated[StrictStr, AfterValidator(check_module_name)]
ModuleVersion = Annotated[StrictStr, AfterValidator(check_module_version)]
Checksum = Annotated[StrictStr, AfterValidator(check_checksum)]
RepoPath = Annotated[StrictStr, AfterValidator(check_repo_path)]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp)]
Day = Annotated[date, BeforeValidator(parse_day)]


def split_image(ref: str) -> tuple[str, str]:
    """'repo@sha256:…' → ('repo', 'sha256:…')."""
    repo, _, digest = ref.partition("@")
    return repo, digest

"""Time zones from the pinned `tzdata` package, and wall-clock → UTC conversion that resolves toward closed.

Zones are read from the `tzdata` wheel, not the host's /usr/share/zoneinfo, so a verdict depends only on
the pinned tzdata version (recorded in overrides), never on the machine or its `TZ` variable.
"""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Toward = Literal["earliest", "latest"]


class UnknownZoneError(ValueError):
    """The name is not an IANA time zone in the pinned tzdata."""


@lru_cache(maxsize=1)
def _zoneinfo_dir() -> Path:
    """The tzdata package's zone files (found without importlib.resources, which costs ~10 ms to import)."""
    package = importlib.import_module("tzdata")
    return Path(str(package.__file__)).parent / "zoneinfo"


@lru_cache(maxsize=256)
def load_zone(name: str) -> ZoneInfo:
    """The IANA zone `name` from the tzdata package; UnknownZoneError if there is no such zone."""
    if not name or name.startswith(("/", ".")) or ".." in name or "\\" in name:
        raise UnknownZoneError(f"unknown time zone {name!r}")
    try:
        source = _zoneinfo_dir().joinpath(*name.split("/"))
        if not source.is_file():
            raise UnknownZoneError(f"unknown time zone {name!r}")
        with source.open("rb") as handle:
            return ZoneInfo.from_file(handle, key=name)
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - tzdata is a dependency
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UnknownZoneError(f"unknown time zone {name!r}") from None
    except (OSError, ValueError):
        raise UnknownZoneError(f"unknown time zone {name!r}") from None


def tzdata_version() -> str:
    """The IANA release of the zone data in use (e.g. '2026f')."""
    try:
        return str(importlib.import_module("tzdata").IANA_VERSION)
    except (ImportError, AttributeError):  # pragma: no cover - tzdata is a dependency
        return "unknown"


def holidays_version() -> str:
    import importlib.metadata  # ~20 ms: only when an override records the version

    try:
        return importlib.metadata.version("holidays")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - holidays is a dependency
        return "unknown"


def wall_to_utc(day: date, clock: time, zone: ZoneInfo, *, toward: Toward) -> datetime:
    """UTC instant of the wall-clock time `day clock` in `zone`.

    A wall time that occurs twice (DST fold) or not at all (DST gap) has two candidate instants (PEP 495
    fold=0 / fold=1); `toward` picks one. Callers pass "earliest" for an edge where things close (a deny
    window starts, an allow window ends) and "latest" for an edge where things open, so ambiguity always
    resolves toward closed.
    """
    first = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
    second = datetime.combine(day, clock, tzinfo=zone).replace(fold=1).astimezone(UTC)
    return min(first, second) if toward == "earliest" else max(first, second)

"""The compiled-calendar cache of the light `window` verbs (check, next, list, ics): start-up without
pydantic, PyYAML, dateutil or `holidays`.

A successful load of a config repository (`load_config`: every file validated, exactly as without the cache)
is recorded as what it read — each file's SHA-256, each directory listing, each kind and link test the
loader made through `Files` — together with the environments' calendar lists, the compiled calendars (plain
data), and the public-holiday tables and rrule anchors' dates of the years around today. The next run on the
same directory replays that record against the files; only when every answer is the same, and the code, the
installed packages, the interpreter and the date (anchors must occur within ten years *from today*) are the
same, are the calendars rebuilt from the record. Anything else — a changed or new file, an unknown
environment, an unreadable or damaged cache — takes the full path, so every verdict and every validation
error is the one the full load gives (a failed load is never recorded).

Where: `$XDG_CACHE_HOME/odoo-gitops/calendars` (default `~/.cache/…`), one file per config directory,
private to the user (0700/0600), written atomically. `ODOO_GITOPS_NO_CACHE=1` turns it off. Git URLs and
bare repositories (read from a temporary clone) are not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path
from types import MappingProxyType
from typing import Any

from gitops.config.calendars import anchors, businessdays
from gitops.config.calendars.anchor_types import DEFAULT_DTSTART, Anchor, PlainAnchor, PlainMonthDay
from gitops.config.calendars.businessdays import BusinessDays
from gitops.config.calendars.compiled import AllowRule, Calendar, DenyRule
from gitops.config.calendars.zones import load_zone
from gitops.config.files import DirectoryFiles, Files, Kind

FORMAT = 1
KEEP = 64  # cache files kept (one per config directory); the oldest beyond are removed
YEARS = range(-2, 12)  # years around today whose holiday tables and rrule dates are recorded
_DEPENDENCIES = ("pydantic", "pydantic_core", "yaml", "dateutil", "holidays", "tzdata", "semver")

EnvCalendars = dict[str, list[str]]


def cache_dir() -> Path | None:
    if os.environ.get("ODOO_GITOPS_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative (which the XDG spec says to ignore)
        base = os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # no home directory: no cache, never one in the working directory
        return None
    return Path(base) / "odoo-gitops" / "calendars"


class RecordingFiles:
    """`Files` that records every answer, in the form `replay` compares."""

    def __init__(self, inner: Files) -> None:
        self.inner = inner
        self.log: dict[str, str] = {}
        self.consistent = True  # False when one question got two different answers during the load

    def _note(self, question: str, answer: str) -> None:
        if self.log.setdefault(question, answer) != answer:
            self.consistent = False

    def read(self, rel: str) -> bytes:
        try:
            data = self.inner.read(rel)
        except OSError as exc:
            self._note(f"read:{rel}", f"!{type(exc).__name__}")
            raise
        self._note(f"read:{rel}", hashlib.sha256(data).hexdigest())
        return data

    def kind(self, rel: str) -> Kind | None:
        answer = self.inner.kind(rel)
        self._note(f"kind:{rel}", answer or "")
        return answer

    def names(self, rel: str) -> list[str]:
        answer = self.inner.names(rel)
        self._note(f"names:{rel}", "/".join(answer))
        return answer

    def is_link(self, rel: str) -> bool:
        answer = self.inner.is_link(rel)
        self._note(f"is_link:{rel}", "1" if answer else "0")
        return answer


def replay(files: Files, log: dict[str, str]) -> bool:
    """Does `files` answer every recorded question as recorded?"""
    probe = RecordingFiles(files)
    for question, answer in log.items():
        op, _, rel = question.partition(":")
        try:
            if op == "read":
                probe.read(rel)
            elif op == "kind":
                probe.kind(rel)
            elif op == "names":
                probe.names(rel)
            elif op == "is_link":
                probe.is_link(rel)
            else:
                return False
        except OSError:
            pass  # recorded as "!Error" by probe.read
        if probe.log.get(question) != answer:
            return False
    return True


def fingerprint(today: date) -> str:
    """What a load's result depends on besides the files: this format, the interpreter, the date, the
    config code (gitops/config, gitops/errors.py, this module: size and modification time of each file) and
    the installed packages."""
    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{today.isoformat()}".encode())
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = [os.path.join(package, "errors.py"), os.path.abspath(__file__)]
    for folder, _, names in os.walk(os.path.join(package, "config")):
        code += [os.path.join(folder, name) for name in names if name.endswith(".py")]
    for path in sorted(code):  # an edit or a reinstall changes the size or the modification time
        stat = os.stat(path)
        digest.update(f"\0{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    import importlib.util

    places: set[Path] = set()
    for name in _DEPENDENCIES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None:
            digest.update(f"\0{name}:absent".encode())
            continue
        stat = os.stat(origin)
        digest.update(f"\0{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        places.add(Path(origin).resolve().parent.parent)
    for place in sorted(places):  # every distribution installed next to them, with its version
        names = sorted(n for n in os.listdir(place) if n.endswith((".dist-info", ".egg-info")))
        digest.update(f"\0{place}\0{'/'.join(names)}".encode())
    return digest.hexdigest()


def _cache_file(root: Path) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    return folder / f"{hashlib.sha256(str(root).encode()).hexdigest()[:32]}.json"


# ---------------------------------------------------------------- calendars as plain data


def _anchor_data(anchor: Anchor) -> dict[str, Any]:
    through = anchor.through
    return {
        "rrule": anchor.rrule,
        "dtstart": anchor.dtstart.isoformat() if anchor.dtstart else None,
        "dates": None if anchor.dates is None else [d.isoformat() for d in anchor.dates],
        "adjust": anchor.adjust,
        "business_day_of_month": anchor.business_day_of_month,
        "months": None if anchor.months is None else list(anchor.months),
        "through": None if through is None else [through.business_day_of_month, through.months_after],
    }


def _anchor(data: dict[str, Any]) -> PlainAnchor:
    through = data["through"]
    return PlainAnchor(
        rrule=data["rrule"],
        dtstart=date.fromisoformat(data["dtstart"]) if data["dtstart"] else None,
        dates=None if data["dates"] is None else tuple(map(date.fromisoformat, data["dates"])),
        adjust=data["adjust"],
        business_day_of_month=data["business_day_of_month"],
        months=None if data["months"] is None else tuple(data["months"]),
        through=None if through is None else PlainMonthDay(through[0], through[1]),
    )


def calendar_data(calendar: Calendar) -> dict[str, Any]:
    business = calendar.business
    return {
        "name": calendar.name,
        "file": calendar.file,
        "timezone": calendar.timezone,
        "weekend": sorted(business.weekend),
        "country": business.country,
        "subdiv": business.subdiv,
        "observed": business.observed,
        "closures": sorted(d.isoformat() for d in business.closures),
        "anchors": {name: _anchor_data(spec) for name, spec in calendar.anchors.items()},
        "deny": [[r.id, list(r.anchors), r.pad_before, r.pad_after] for r in calendar.deny],
        "allow": [
            [r.id, sorted(r.weekdays), r.start.isoformat(), r.end.isoformat(), r.business_days_only]
            for r in calendar.allow
        ],
    }


def calendar_from(data: dict[str, Any]) -> Calendar:
    business = BusinessDays(
        weekend=frozenset(data["weekend"]),
        country=data["country"],
        subdiv=data["subdiv"],
        observed=data["observed"],
        closures=frozenset(map(date.fromisoformat, data["closures"])),
    )
    return Calendar(
        name=data["name"],
        file=data["file"],
        timezone=data["timezone"],
        zone=load_zone(data["timezone"]),
        business=business,
        anchors=MappingProxyType({name: _anchor(spec) for name, spec in data["anchors"].items()}),
        deny=tuple(DenyRule(i, tuple(a), before, after) for i, a, before, after in data["deny"]),
        allow=tuple(
            AllowRule(i, frozenset(days), time.fromisoformat(s), time.fromisoformat(e), only)
            for i, days, s, e, only in data["allow"]
        ),
    )


# ---------------------------------------------------------------- load through the cache


def _today() -> date:
    return datetime.now(UTC).date()


def cached_env_calendars(root: Path, env: str) -> list[Calendar] | None:
    """`env`'s calendars from the cache, when the record still holds for `root`; else None."""
    path = _cache_file(root)
    if path is None:
        return None
    try:
        record = json.loads(path.read_bytes())
        if record.get("fingerprint") != fingerprint(_today()) or env not in record["envs"]:
            return None
        if not replay(DirectoryFiles(root), record["files"]):
            return None
        calendars = {name: calendar_from(data) for name, data in record["calendars"].items()}
        found = [calendars[name] for name in record["envs"][env]]
        holidays = {
            (country, subdiv, observed, year): frozenset(map(date.fromisoformat, days))
            for country, subdiv, observed, year, days in record["holidays"]
        }
        rrules = {
            (text, date.fromisoformat(start), year): tuple(map(date.fromisoformat, days))
            for text, start, year, days in record["rrules"]
        }
    except Exception:  # a cache that cannot be used is a miss: the full load decides
        return None
    businessdays.PRELOADED.update(holidays)  # only a record read whole: a miss leaves no trace
    anchors.PRELOADED.update(rrules)
    return found


def _holiday_tables(calendars: list[Calendar], today: date) -> list[list[Any]]:
    business = [c.business for c in calendars if c.business.country]
    sources = sorted({(b.country, b.subdiv, b.observed) for b in business}, key=repr)
    return [
        [country, subdiv, observed, today.year + offset, sorted(d.isoformat() for d in days)]
        for country, subdiv, observed in sources
        if country is not None
        for offset in YEARS
        for days in [businessdays._public_holidays(country, subdiv, observed, today.year + offset)]
    ]


def _rrule_tables(calendars: list[Calendar], today: date) -> list[list[Any]]:
    rules = {
        (spec.rrule, spec.dtstart or DEFAULT_DTSTART)
        for calendar in calendars
        for spec in calendar.anchors.values()
        if spec.rrule is not None
    }
    return [
        [text, start.isoformat(), year, [d.isoformat() for d in anchors.rrule_dates(text, start, year)]]
        for text, start in sorted(rules)
        for year in (today.year + offset for offset in YEARS)
    ]


def record(root: Path, files: RecordingFiles, envs: EnvCalendars, calendars: dict[str, Calendar]) -> None:
    """Store a successful load (best effort: a cache that cannot be written is skipped)."""
    path = _cache_file(root)
    if path is None or not files.consistent:
        return
    today = _today()
    document = {
        "fingerprint": fingerprint(today),
        "files": files.log,
        "envs": envs,
        "calendars": {name: calendar_data(c) for name, c in calendars.items()},
        "holidays": _holiday_tables(list(calendars.values()), today),
        "rrules": _rrule_tables(list(calendars.values()), today),
    }
    import tempfile

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(json.dumps(document, separators=(",", ":")).encode())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        _prune(path.parent)
    except OSError:
        return


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in entries[KEEP:]:
        stale.unlink(missing_ok=True)

"""A parsed, cross-checked calendar: what the engine evaluates (no pydantic here: `window check` builds
these from the compiled-calendar cache without importing it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from gitops.config.calendars.anchor_types import Anchor
from gitops.config.calendars.businessdays import BusinessDays


@dataclass(frozen=True)
class DenyRule:
    """Blocks the whole local days of its anchors, widened by business days before and after."""

    id: str
    anchors: tuple[str, ...]
    pad_before: int = 0
    pad_after: int = 0


@dataclass(frozen=True)
class AllowRule:
    """Opens `start`–`end` local time on `weekdays` (crossing midnight when end <= start)."""

    id: str
    weekdays: frozenset[int]
    start: time
    end: time
    business_days_only: bool = False


# eq=False: a calendar is an identity (hashable by id) so evaluation results can be cached per calendar.
@dataclass(frozen=True, eq=False)
class Calendar:
    name: str
    file: str
    timezone: str
    zone: ZoneInfo
    business: BusinessDays
    anchors: Mapping[str, Anchor]
    deny: tuple[DenyRule, ...]
    allow: tuple[AllowRule, ...]

    @property
    def window_ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.deny) + tuple(rule.id for rule in self.allow)

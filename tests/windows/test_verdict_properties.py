"""Property tests (hypothesis) over random calendars in tricky zones.

- check agrees with evaluate (list);
- next_open is open, and nothing between `at` and next_open is;
- every interval boundary is a real change of verdict;
- away from DST transitions, the engine agrees with a naive wall-clock oracle written independently here.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops.config.calendars.anchors import occurrences
from gitops.config.calendars.calendar import Calendar
from gitops.windows.verdict import SEARCH_HORIZON, check, evaluate
from tests.fixtures.windows import calendar_from

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "UTC",
    "Pacific/Chatham",
]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 2 * 365 * 24 * 60

clock = st.builds(lambda h, q: f'"{h:02d}:{q * 15:02d}"', st.integers(0, 23), st.integers(0, 3))
day_list = st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True).map(", ".join)

anchor_text = st.one_of(
    st.builds(
        lambda d, a: f'{{rrule: "FREQ=MONTHLY;BYMONTHDAY={d}", adjust: {a}}}',
        st.sampled_from([1, 15, 25, 28, 29, 30, 31, -1]),
        st.sampled_from(["preceding", "following", "none"]),
    ),
    st.builds(
        lambda o, a: f'{{rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", dtstart: "2025-12-{o:02d}", adjust: {a}}}',
        st.sampled_from([5, 12]),
        st.sampled_from(["preceding", "following"]),
    ),
    st.builds(lambda n: f"{{business_day_of_month: {n}}}", st.sampled_from([1, 2, -1, -3])),
    st.builds(
        lambda n, m: (
            f"{{business_day_of_month: {n}, through: {{business_day_of_month: {m}, months_after: 1}}}}"
        ),
        st.sampled_from([-3, -1]),
        st.sampled_from([1, 2]),
    ),
    st.just('{dates: ["2026-03-08", "2026-09-06", "2026-10-25", "2027-02-28"]}'),
)


@st.composite
def calendar_texts(draw: st.DrawFn) -> str:
    zone = draw(st.sampled_from(ZONES))
    weekend = draw(st.sampled_from(["[sat, sun]", "[fri, sat]", "[sun]"]))
    source = draw(
        st.sampled_from(
            [
                "",
                "\n  holidays: {country: DE, subdiv: BY}",
                "\n  holidays: {country: US}",
                "\n  holidays: {country: CL}",
            ]
        )
    )
    anchors = draw(st.lists(anchor_text, min_size=0, max_size=3))
    lines = [f"timezone: {zone}", f"business_days:\n  weekend: {weekend}{source}"]
    if anchors:
        lines.append("anchors:\n" + "\n".join(f"  a{i}: {text}" for i, text in enumerate(anchors)))
    windows = []
    for index in range(draw(st.integers(0, 2))):
        windows.append(
            f"  - {{id: allow{index}, kind: allow, days: [{draw(day_list)}], start: {draw(clock)}, "
            f"end: {draw(clock)}, business_days_only: {str(draw(st.booleans())).lower()}}}"
        )
    if anchors:
        for index in range(draw(st.integers(0, 2))):
            chosen = draw(st.lists(st.integers(0, len(anchors) - 1), min_size=1, unique=True))
            on = ", ".join(f"a{i}" for i in chosen)
            windows.append(
                f"  - {{id: deny{index}, kind: deny, on: [{on}], pad_before: {draw(st.integers(0, 2))}, "
                f"pad_after: {draw(st.integers(0, 2))}}}"
            )
    if windows:
        lines.append("windows:\n" + "\n".join(windows))
    return "\n".join(lines) + "\n"


@st.composite
def envs(draw: st.DrawFn) -> list[Calendar]:
    texts = draw(st.lists(calendar_texts(), min_size=1, max_size=2))
    return [calendar_from(text, f"c{i}") for i, text in enumerate(texts)]


instants = st.integers(0, SPAN_MINUTES).map(lambda m: EPOCH + timedelta(minutes=m))
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def verdict_of(calendars: list[Calendar], at: datetime) -> tuple[bool, tuple[object, ...]]:
    result = check(calendars, at)
    return result.open, result.blocked_by


@PROPERTY
@given(calendars=envs(), at=instants, before=st.integers(1, 60 * 24 * 40), after=st.integers(1, 60 * 24 * 40))
def test_check_agrees_with_list(calendars: list[Calendar], at: datetime, before: int, after: int) -> None:
    intervals = evaluate(calendars, at - timedelta(minutes=before), at + timedelta(minutes=after))
    containing = [item for item in intervals if item.start <= at < item.end]
    assert len(containing) == 1
    assert (containing[0].open, containing[0].blocked_by) == verdict_of(calendars, at)


@PROPERTY
@given(calendars=envs(), at=instants)
def test_next_open_is_open_and_nothing_before_it_is(calendars: list[Calendar], at: datetime) -> None:
    verdict = check(calendars, at)
    if verdict.open:
        assert verdict.next_open == at
        if verdict.open_until is not None:
            assert all(i.open for i in evaluate(calendars, at, verdict.open_until))
            assert not check(calendars, verdict.open_until).open
        return
    end = verdict.next_open or at + SEARCH_HORIZON
    assert not any(item.open for item in evaluate(calendars, at, end))
    if verdict.next_open is not None:
        assert check(calendars, verdict.next_open).open


@PROPERTY
@given(calendars=envs(), at=instants, days=st.integers(1, 60))
def test_every_boundary_is_a_real_change_of_verdict(
    calendars: list[Calendar], at: datetime, days: int
) -> None:
    intervals = evaluate(calendars, at, at + timedelta(days=days))
    assert intervals[0].start == at and intervals[-1].end == at + timedelta(days=days)
    for first, second in pairwise(intervals):
        assert first.end == second.start
        just_before = verdict_of(calendars, second.start - timedelta(microseconds=1))
        assert just_before == (first.open, first.blocked_by)
        assert just_before != verdict_of(calendars, second.start)


# --- An independent oracle: wall-clock semantics evaluated at one instant ------------------------------


def _near_offset_change(zone: ZoneInfo, at: datetime) -> bool:
    offsets = {(at + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-4, 5)}
    return len(offsets) > 1


def _deny_days(calendar: Calendar, rule_anchors: tuple[str, ...], pads: tuple[int, int]) -> set[date]:
    covered: set[date] = set()
    for name in rule_anchors:
        for nominal_year in range(EPOCH.year - 1, EPOCH.year + 3):
            for first, last in occurrences(calendar.anchors[name], calendar.business, nominal_year):
                day = calendar.business.step(first, -pads[0])
                end = calendar.business.step(last, pads[1])
                while day <= end:
                    covered.add(day)
                    day += timedelta(days=1)
    return covered


def _oracle(calendar: Calendar, at: datetime, deny_days: dict[str, set[date]]) -> set[tuple[str, str]]:
    local = at.astimezone(calendar.zone).replace(tzinfo=None)
    blocked = {(rule_id, "deny") for rule_id, days in deny_days.items() if local.date() in days}
    if calendar.allow:
        covered = False
        for rule in calendar.allow:
            for day in (local.date() - timedelta(days=1), local.date()):
                if day.weekday() not in rule.weekdays:
                    continue
                if rule.business_days_only and not calendar.business.is_business_day(day):
                    continue
                start = datetime.combine(day, rule.start)
                end = datetime.combine(day + timedelta(days=1) if rule.end <= rule.start else day, rule.end)
                covered = covered or start <= local < end
        if not covered:
            blocked.add((",".join(r.id for r in calendar.allow), "outside_allow"))
    return blocked


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=calendar_texts(), moments=st.lists(instants, min_size=20, max_size=20))
def test_engine_agrees_with_a_wall_clock_oracle_away_from_dst(text: str, moments: list[datetime]) -> None:
    calendar = calendar_from(text)
    deny_days = {
        rule.id: _deny_days(calendar, rule.anchors, (rule.pad_before, rule.pad_after))
        for rule in calendar.deny
    }
    for at in moments:
        if _near_offset_change(calendar.zone, at):
            continue
        verdict = check([calendar], at)
        expected = _oracle(calendar, at, deny_days)
        assert {(r.window, r.kind) for r in verdict.blocked_by} == expected, f"{at}\n" + textwrap.indent(
            text, "  "
        )
        assert verdict.open == (not expected)

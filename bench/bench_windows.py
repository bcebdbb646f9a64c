"""Benchmark: `window list` over a year for 500 environments, and `check` latency.

Headline: the COLD per-environment ratio. Each environment gets its own calendar objects (loaded afresh, so
no result computed for another environment can be reused: the engine's caches key on calendar identity)
and every cache is cleared before it (`clear_caches`), against the minute scan of the same calendar
combination. The figure with 500 environments sharing 3 calendars (7 combinations, cached between
environments as the CLI does within one call) is reported apart: it flatters the engine.

Compared side by side in the same run with a minute-by-minute scan baseline: for each minute, convert to
each calendar's local time and test the rules (deny-day lookup, allow windows by wall clock). Scanning a
whole year for 500 environments (262,800,000 env-minutes) would take hours, so the baseline runs on a
sample of environments x days and is extrapolated linearly (its cost is linear in minutes x calendars);
the output says so. The sample also cross-checks the engine against the scan (minutes near DST changes,
where the engine deliberately resolves toward closed, are excluded from that comparison).

Run: /work/venv/bin/python bench/bench_windows.py   (or .venv/bin/python in a checkout)
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gitops.config.calendars.anchors import occurrences  # noqa: E402
from gitops.config.calendars.calendar import Calendar, load_calendar  # noqa: E402
from gitops.windows.verdict import check, clear_caches, evaluate  # noqa: E402

YEAR = 2026
START, END = datetime(YEAR, 1, 1, tzinfo=UTC), datetime(YEAR + 1, 1, 1, tzinfo=UTC)
ENVS = 500
MINUTES_PER_YEAR = int((END - START).total_seconds() // 60)
SUBSETS = [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]


def load_shared_calendars() -> list[Calendar]:
    names = ("payroll", "month-end", "prod-windows")
    return [load_calendar(ROOT / "calendars" / f"{n}.yaml", name=n) for n in names]


def environments(shared: list[Calendar]) -> list[list[Calendar]]:
    return [[shared[i] for i in SUBSETS[n % len(SUBSETS)]] for n in range(ENVS)]


def own_calendars(count: int) -> list[list[Calendar]]:
    """`count` environments, each with calendar objects of its own (the combinations cycle as above)."""
    return [[load_shared_calendars()[i] for i in SUBSETS[n % len(SUBSETS)]] for n in range(count)]


COLD_ENVS = 70  # ten of each combination
ROUNDS = 5


def cold_round(envs: list[list[Calendar]]) -> float:
    """Seconds per env-year, every cache cleared before each env (its own calendar objects)."""
    total = 0.0
    for env in envs:
        clear_caches()
        began = time.perf_counter()
        evaluate(env, START, END)
        total += time.perf_counter() - began
    return total / len(envs)


def scan_round(envs: list[list[ScanCalendar]], days: list[int]) -> float:
    """Seconds per env-year of the minute scan, from whole sampled days."""
    began = time.perf_counter()
    for env in envs:
        for day in days:
            scan(env, START + timedelta(days=day), 24 * 60)
    return (time.perf_counter() - began) / (len(envs) * len(days) * 24 * 60) * MINUTES_PER_YEAR


# --- Baseline: minute-by-minute scan ---------------------------------------------------------------------


class ScanCalendar:
    """Precomputed rule data for a point-in-time wall-clock test (the scan's per-minute work is the test)."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.deny_days: dict[date, set[str]] = {}
        for rule in calendar.deny:
            for anchor in rule.anchors:
                for year in range(YEAR - 1, YEAR + 2):
                    for first, last in occurrences(calendar.anchors[anchor], calendar.business, year):
                        day = calendar.business.step(first, -rule.pad_before)
                        end = calendar.business.step(last, rule.pad_after)
                        while day <= end:
                            self.deny_days.setdefault(day, set()).add(rule.id)
                            day += timedelta(days=1)

    def closed(self, at: datetime) -> bool:
        local = at.astimezone(self.calendar.zone).replace(tzinfo=None)
        if local.date() in self.deny_days:
            return True
        if not self.calendar.allow:
            return False
        for rule in self.calendar.allow:
            for day in (local.date() - timedelta(days=1), local.date()):
                if day.weekday() not in rule.weekdays:
                    continue
                if rule.business_days_only and not self.calendar.business.is_business_day(day):
                    continue
                start = datetime.combine(day, rule.start)
                end = datetime.combine(day + timedelta(days=1) if rule.end <= rule.start else day, rule.end)
                if start <= local < end:
                    return False
        return True


def scan(env: list[ScanCalendar], start: datetime, minutes: int) -> list[tuple[datetime, datetime, bool]]:
    intervals: list[tuple[datetime, datetime, bool]] = []
    for step in range(minutes):
        at = start + timedelta(minutes=step)
        is_open = not any(calendar.closed(at) for calendar in env)
        if intervals and intervals[-1][2] == is_open:
            intervals[-1] = (intervals[-1][0], at + timedelta(minutes=1), is_open)
        else:
            intervals.append((at, at + timedelta(minutes=1), is_open))
    return intervals


def near_dst(env: list[Calendar], at: datetime) -> bool:
    return any(
        len({(at + timedelta(hours=h)).astimezone(c.zone).utcoffset() for h in (-3, 0, 3)}) > 1 for c in env
    )


def main() -> None:
    shared = load_shared_calendars()
    envs = environments(shared)
    print(f"window list: {ENVS} environments x 1 year ({YEAR}), calendars/*.yaml in 7 combinations")

    # 1. Engine, cold: each env its own calendar objects, every cache cleared before it.
    cold_envs = own_calendars(COLD_ENVS)
    cold_times = []
    for env in cold_envs:
        clear_caches()
        began = time.perf_counter()
        evaluate(env, START, END)
        cold_times.append(time.perf_counter() - began)
    cold_per_env = sum(cold_times) / len(cold_times)
    engine_cold = cold_per_env * ENVS
    print(
        f"  engine, cold per env  : {cold_per_env * 1e3:8.2f} ms per env-year (mean of {COLD_ENVS} envs, "
        f"median {statistics.median(cold_times) * 1e3:.2f} ms) = {engine_cold:.2f} s for {ENVS} envs"
    )

    # 2. Engine as the CLI runs it for envs sharing calendars: results shared between envs (cached).
    clear_caches()
    began = time.perf_counter()
    total = sum(len(evaluate(env, START, END)) for env in envs)
    engine_shared = time.perf_counter() - began
    print(f"  engine, shared caches : {engine_shared:8.3f} s for {ENVS} envs ({total} intervals)")

    # 3. Baseline: minute-by-minute scan on a sample, extrapolated.
    rng = random.Random(4)
    sample_envs = envs[:7]  # one of each calendar combination
    sample_days = sorted(rng.sample(range(365), 6))
    scan_envs = [
        [ScanCalendar(c) for c in env] for env in sample_envs
    ]  # setup excluded: favours the baseline
    minutes = 0
    mismatches = compared = 0
    began = time.perf_counter()
    sampled: list[tuple[int, datetime, list[tuple[datetime, datetime, bool]]]] = []
    for index, env in enumerate(scan_envs):
        for day in sample_days:
            start = START + timedelta(days=day)
            sampled.append((index, start, scan(env, start, 24 * 60)))
            minutes += 24 * 60
    scan_time = time.perf_counter() - began
    per_env_minute = scan_time / minutes
    scan_full = per_env_minute * ENVS * MINUTES_PER_YEAR
    print(
        f"  baseline minute scan  : {scan_full:8.1f} s for {ENVS} envs, EXTRAPOLATED from "
        f"{len(sample_envs)} envs x {len(sample_days)} days = {minutes} env-minutes in {scan_time:.2f} s "
        f"({per_env_minute * 1e6:.2f} us per env-minute)"
    )
    for index, start, rows in sampled:
        env = sample_envs[index]
        for interval in evaluate(env, start, start + timedelta(days=1)):
            for first, last, is_open in rows:
                overlap_start, overlap_end = max(first, interval.start), min(last, interval.end)
                step = overlap_start
                while step < overlap_end:
                    if not near_dst(env, step):
                        compared += 1
                        mismatches += is_open != interval.open
                    step += timedelta(minutes=1)
    print(f"  cross-check on sample : {mismatches} of {compared} minutes disagree (DST-adjacent skipped)")
    # 5. Headline: cold engine and scan measured in interleaved rounds (same machine load), median ratio.
    ratios = []
    for index in range(ROUNDS):
        engine_s = cold_round(own_calendars(14))
        scan_s = scan_round(scan_envs, [sample_days[index % len(sample_days)]])
        ratios.append(scan_s / engine_s)
    print(
        f"  HEADLINE speed-up, cold per env : {statistics.median(ratios):8.0f}x   (target >= 100x; median of "
        f"{ROUNDS} interleaved rounds: {', '.join(f'{r:.0f}' for r in ratios)}; each round 14 cold envs vs "
        f"7 envs x 1 day scanned)"
    )
    print(
        f"  speed-up, 500 envs sharing 3 calendars (cached, reported apart) : "
        f"{scan_full / engine_shared:8.0f}x"
    )

    # 4. check latency: random envs, random instants in the year.
    instants = [
        START + timedelta(seconds=rng.randrange(int((END - START).total_seconds()))) for _ in range(20000)
    ]
    picks = [envs[rng.randrange(ENVS)] for _ in instants]
    clear_caches()
    began = time.perf_counter()
    check(picks[0], instants[0])
    first_check = time.perf_counter() - began
    began = time.perf_counter()
    for env, at in zip(picks, instants, strict=True):
        check(env, at)
    amortized = (time.perf_counter() - began) / len(instants)
    print(
        f"check: first (cold) {first_check * 1e3:.1f} ms; amortized over {len(instants)} checks "
        f"{amortized * 1e6:.1f} us (target < 1000 us); baseline single scan-point test "
        f"{per_env_minute * 1e6:.2f} us gives no open_until/next_open"
    )


if __name__ == "__main__":
    main()

"""Fuzz calendar parsing (`gitops.config.calendars.calendar`) directly and through `window list`.

Property: a Calendar or a `ConfigError` (exit 2 through the CLI), never another exception, never a write.
Whether an impossible rule is refused (issue 14's validation part) is tested by that part's own tests.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from gitops.config.calendars.calendar import parse_calendar
from gitops.config.yamlsafe import parse_yaml
from gitops.errors import ConfigError
from tests.fixtures.configrepo import copy_examples
from tests.fuzz.cli import run_cli
from tests.fuzz.profiles import FUZZ, FUZZ_CLI, snapshot

pytestmark = pytest.mark.fuzz

RRULE_PARTS = st.lists(
    st.one_of(
        st.sampled_from(
            ["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY", "FREQ=HOURLY", "FREQ=NOPE"]
        ),
        st.integers(-40, 40).map(lambda n: f"BYMONTHDAY={n}"),
        st.integers(-1, 14).map(lambda n: f"BYMONTH={n}"),
        st.integers(-2, 5).map(lambda n: f"COUNT={n}"),
        st.integers(-1, 1000).map(lambda n: f"INTERVAL={n}"),
        st.sampled_from(
            ["UNTIL=19000101", "UNTIL=20991231T000000Z", "UNTIL=2026-13-01", "BYDAY=FR", "BYDAY=9XX"]
        ),
        st.sampled_from(
            ["BYSETPOS=-1", "BYSETPOS=0", "BYYEARDAY=366", "BYWEEKNO=53", "WKST=XX", "X-FOO=1", ";", ""]
        ),
    ),
    max_size=5,
).map(";".join)
TIMES = st.sampled_from(["19:00", "23:00", "24:00", "25:61", "7pm", "", "00:00"])
DAYS = st.lists(st.sampled_from(["mon", "tue", "sun", "funday", "MON", "1"]), max_size=3)
WINDOWS = st.one_of(
    st.fixed_dictionaries(
        {"id": st.sampled_from(["w", "w", "", "x y"]), "kind": st.sampled_from(["deny", "allow", "maybe"])},
        optional={
            "rrule": RRULE_PARTS,
            "duration": st.sampled_from(["P1D", "PT2H", "-P1D", "P0D", "1 day", "P99999D"]),
            "dtstart": st.sampled_from(["2026-01-09", "2026-02-30", "0001-01-01", "9999-12-31", "x"]),
            "days": DAYS,
            "start": TIMES,
            "end": TIMES,
            "on": st.lists(st.sampled_from(["payroll", "nope"]), max_size=2),
            "pad_before": st.integers(-3, 400),
            "pad_after": st.sampled_from([0, 1, "1", True, None]),
            "business_days_only": st.sampled_from([True, False, "no"]),
        },
    ),
    st.none(),
    st.text(max_size=5),
)
CALENDARS = st.fixed_dictionaries(
    {"windows": st.lists(WINDOWS, max_size=3)},
    optional={
        "timezone": st.sampled_from(["Europe/Berlin", "UTC", "Mars/Olympus", "", "../../etc/localtime"]),
        "business_days": st.fixed_dictionaries(
            {},
            optional={
                "weekend": DAYS,
                "holidays": st.sampled_from(
                    [{"country": "DE"}, {"country": "ZZ"}, {"country": "DE", "subdiv": "XX"}]
                ),
                "closures": st.lists(st.sampled_from(["2026-12-24", "2026-02-30", "tomorrow"]), max_size=2),
            },
        ),
        "anchors": st.dictionaries(
            st.sampled_from(["payroll", "a"]),
            st.fixed_dictionaries(
                {"rrule": RRULE_PARTS}, optional={"adjust": st.sampled_from(["preceding", "x"])}
            ),
            max_size=2,
        ),
    },
).map(lambda data: yaml.safe_dump(data, sort_keys=False))

_DENY = "timezone: UTC\nwindows:\n  - {id: p, kind: deny, rrule: '%s', duration: P1D}\n"
SEEDS = [
    _DENY % "FREQ=MONTHLY;BYMONTHDAY=32",
    _DENY % "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    _DENY % "FREQ=DAILY;COUNT=0",
    _DENY % "FREQ=DAILY;UNTIL=19000101",
    "timezone: UTC\nwindows:\n  - {id: p, kind: deny, on: [a]}\n"
    "anchors:\n  a: &a {rrule: 'FREQ=DAILY'}\n  b: *a\n",
]


@FUZZ
@given(text=CALENDARS)
@example(text=SEEDS[0])
@example(text=SEEDS[1])
@example(text=SEEDS[2])
@example(text=SEEDS[3])
@example(text=SEEDS[4])
def test_parse_calendar_returns_a_calendar_or_a_config_error(text: str) -> None:
    try:
        calendar = parse_calendar(parse_yaml(text, "calendars/fuzz.yaml"), "fuzz")
    except ConfigError as exc:
        assert exc.exit_code == 2
        assert all(p.file == "calendars/fuzz.yaml" for p in exc.problems)
        return
    assert calendar.name == "fuzz"


@pytest.fixture(scope="module")
def example_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_examples(tmp_path_factory.mktemp("fuzz-calendars") / "repo")


@FUZZ_CLI
@given(text=CALENDARS, at=st.sampled_from(["2026-03-02", "2026-12-24", "2027-02-28", "2026-02-30", "x"]))
@example(text=SEEDS[0], at="2026-03-02")
@example(text=SEEDS[2], at="2026-03-02")
def test_window_list_exits_0_or_2_and_writes_nothing(
    example_repo: Path, tmp_path_factory: pytest.TempPathFactory, text: str, at: str
) -> None:
    repo = tmp_path_factory.mktemp("fuzz-repo") / "repo"
    shutil.copytree(example_repo, repo)
    (repo / "calendars" / "payroll.yaml").write_text(text)
    before = snapshot(repo)
    run_cli(["window", "list", "prod", "--from", at, "--to", at, "--config-repo", str(repo)])
    assert snapshot(repo) == before
    shutil.rmtree(repo.parent)

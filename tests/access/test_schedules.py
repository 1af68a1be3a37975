"""apps/access/schedules.py: JSON parsing and errors, canonical round trip, midnight, validity, DST, describe()."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.access.schedules import (
    ALWAYS,
    Schedule,
    ScheduleError,
    Window,
    canonical,
    describe,
    is_open,
    windows_from_json,
    windows_to_json,
)

UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
H = 3600

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def window(days, start, stop) -> Window:
    return Window(frozenset(days), start, stop)


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def open_minutes(schedule: Schedule, tz, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Every UTC minute in [start, end) at which the schedule is open."""
    minutes = []
    at = start
    while at < end:
        if is_open(schedule, at, tz):
            minutes.append(at)
        at += dt.timedelta(minutes=1)
    return minutes


# --- JSON parsing and validation -----------------------------------------------------------


def test_windows_from_json_parses_days_and_times():
    windows = windows_from_json(
        [
            {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "stop": "18:00"},
            {"days": ["sat"], "start": "22:00", "stop": "02:00"},
            {"days": ["sun"], "start": "08:00:00", "stop": "16:59:59"},
            {"days": ["wed"], "start": "00:00", "stop": "24:00"},
        ]
    )
    assert windows == (
        window(range(5), 8 * H, 18 * H),
        window([SAT], 22 * H, 2 * H),
        window([SUN], 8 * H, 16 * H + 59 * 60 + 59),
        window([WED], 0, 24 * H),
    )


@pytest.mark.parametrize(
    ("items", "field", "message"),
    [
        ("nope", "windows", "Must be a list of windows."),
        ([], "windows", "Must list at least one window."),
        ([{"days": ["mon"], "start": "08:00", "stop": "09:00"}] * 51, "windows", "At most 50 windows."),
        (["mon 08:00"], "windows[0]", "Must be an object with days, start and stop."),
        ([{"days": ["mon"], "start": "08:00", "stop": "09:00", "tz": "UTC"}], "windows[0].tz", "Unknown field."),
        ([{"days": ["mon"], "start": "08:00"}], "windows[0].stop", "This field is required."),
        ([{"start": "08:00", "stop": "09:00"}], "windows[0].days", "This field is required."),
        (
            [{"days": "mon", "start": "08:00", "stop": "09:00"}],
            "windows[0].days",
            "Must be a list of day names (mon, tue, wed, thu, fri, sat, sun).",
        ),
        ([{"days": [], "start": "08:00", "stop": "09:00"}], "windows[0].days", "Must list at least one day."),
        (
            [{"days": ["mon", "Tue"], "start": "08:00", "stop": "09:00"}],
            "windows[0].days[1]",
            "Unknown day 'Tue'; use mon, tue, wed, thu, fri, sat, sun.",
        ),
        (
            [{"days": ["mon", "fri", "mon"], "start": "08:00", "stop": "09:00"}],
            "windows[0].days[2]",
            "Duplicate day 'mon'.",
        ),
        ([{"days": ["mon"], "start": "8:00", "stop": "09:00"}], "windows[0].start", "Must be HH:MM or HH:MM:SS."),
        ([{"days": ["mon"], "start": 28800, "stop": "09:00"}], "windows[0].start", "Must be HH:MM or HH:MM:SS."),
        ([{"days": ["mon"], "start": "08:00", "stop": "09:00:0"}], "windows[0].stop", "Must be HH:MM or HH:MM:SS."),
        ([{"days": ["mon"], "start": "24:00", "stop": "09:00"}], "windows[0].start", "24:00 is allowed for stop only."),
        (
            [{"days": ["mon"], "start": "08:60", "stop": "09:00"}],
            "windows[0].start",
            "Must be a time between 00:00 and 23:59:59 (24:00 for stop).",
        ),
        (
            [{"days": ["mon"], "start": "08:00", "stop": "24:00:01"}],
            "windows[0].stop",
            "Must be a time between 00:00 and 23:59:59 (24:00 for stop).",
        ),
        (
            [{"days": ["mon"], "start": "08:00", "stop": "08:00:00"}],
            "windows[0].stop",
            "Must differ from start; use 00:00–24:00 for a whole day.",
        ),
    ],
)
def test_windows_from_json_errors_name_the_field(items, field, message):
    with pytest.raises(ScheduleError) as exc_info:
        windows_from_json(items)
    assert exc_info.value.field == field
    assert exc_info.value.message == message
    assert str(exc_info.value) == f"{field}: {message}"


def test_error_names_the_window_by_index():
    items = [
        {"days": ["mon"], "start": "08:00", "stop": "09:00"},
        {"days": ["sat"], "start": "10:00", "stop": "2pm"},
    ]
    with pytest.raises(ScheduleError, match=r"^windows\[1\]\.stop: Must be HH:MM or HH:MM:SS\.$"):
        windows_from_json(items)


def test_fifty_windows_are_allowed():
    assert len(windows_from_json([{"days": ["mon"], "start": "08:00", "stop": "09:00"}] * 50)) == 50


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days": frozenset(), "start": 0, "stop": 60}, "days"),
        ({"days": frozenset({7}), "start": 0, "stop": 60}, "days"),
        ({"days": frozenset({0}), "start": 86400, "stop": 60}, "start"),
        ({"days": frozenset({0}), "start": 0, "stop": 0}, "stop"),
        ({"days": frozenset({0}), "start": 0, "stop": 86401}, "stop"),
        ({"days": frozenset({0}), "start": 60, "stop": 60}, "stop"),
    ],
)
def test_window_refuses_invalid_values(kwargs, field):
    with pytest.raises(ScheduleError) as exc_info:
        Window(**kwargs)
    assert exc_info.value.field == field


def test_schedule_validity_must_be_aware_ordered_and_whole_milliseconds():
    with pytest.raises(ScheduleError, match=r"^validFrom: Must be a timezone-aware datetime\.$"):
        Schedule((ALWAYS,), valid_from=dt.datetime(2025, 1, 1))
    with pytest.raises(ScheduleError, match=r"^validUntil: Must be after validFrom\.$"):
        Schedule((ALWAYS,), valid_from=utc(2025, 1, 2), valid_until=utc(2025, 1, 2))
    with pytest.raises(ScheduleError, match=r"^validUntil: Must be whole milliseconds"):
        Schedule((ALWAYS,), valid_until=utc(2025, 1, 2, 0, 0, 0, 1500))
    with pytest.raises(ScheduleError, match=r"^windows: Must list at least one window\.$"):
        Schedule(())


def test_schedule_keeps_validity_in_utc():
    schedule = Schedule((ALWAYS,), valid_from=dt.datetime(2025, 6, 1, 10, 0, tzinfo=BERLIN))
    assert schedule.valid_from.tzinfo is UTC
    assert schedule.valid_from == utc(2025, 6, 1, 8, 0)


# --- canonical JSON ------------------------------------------------------------------------


def test_windows_to_json_is_canonical():
    windows = windows_from_json(
        [
            {"days": ["fri", "mon", "wed"], "start": "08:00:00", "stop": "24:00:00"},
            {"days": ["sun"], "start": "06:40", "stop": "19:49:59"},
        ]
    )
    assert windows_to_json(windows) == [
        {"days": ["mon", "wed", "fri"], "start": "08:00", "stop": "24:00"},
        {"days": ["sun"], "start": "06:40", "stop": "19:49:59"},
    ]


def test_canonical_schedule():
    schedule = Schedule(
        (window([SAT], 22 * H, 2 * H),),
        valid_from=dt.datetime(2025, 3, 1, 9, 30, tzinfo=BERLIN),
        valid_until=utc(2025, 12, 31, 23, 0, 0, 250_000),
    )
    assert canonical(schedule) == {
        "windows": [{"days": ["sat"], "start": "22:00", "stop": "02:00"}],
        "validFrom": "2025-03-01T08:30:00.000Z",
        "validUntil": "2025-12-31T23:00:00.250Z",
    }
    assert canonical(Schedule((ALWAYS,))) == {
        "windows": [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "stop": "24:00"}],
        "validFrom": None,
        "validUntil": None,
    }


@st.composite
def windows_strategy(draw) -> Window:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(st.integers(0, 86399))
    stop = draw(st.integers(1, 86400))
    stop = 86400 if stop == start else stop  # start == stop is refused; 24:00 is an edge worth hitting
    return Window(days, start, stop)


@settings(max_examples=200, deadline=None)
@given(st.lists(windows_strategy(), min_size=1, max_size=50).map(tuple))
def test_json_round_trip(windows):
    items = windows_to_json(windows)
    assert json.loads(json.dumps(items)) == items
    assert windows_from_json(items) == windows
    # Canonical text is a fixed point: parsing and writing again changes nothing.
    assert windows_to_json(windows_from_json(items)) == items


# --- crossing midnight ---------------------------------------------------------------------

SAT_NIGHT = Schedule((window([SAT], 22 * H, 2 * H),))


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        (dt.datetime(2025, 6, 7, 21, 0), False),  # Sat 21:00: not yet
        (dt.datetime(2025, 6, 7, 22, 0), True),  # Sat 22:00: opens
        (dt.datetime(2025, 6, 8, 1, 0), True),  # Sun 01:00: still open (+1 day)
        (dt.datetime(2025, 6, 8, 1, 59, 59), True),
        (dt.datetime(2025, 6, 8, 2, 0), False),  # Sun 02:00: closed (stop is exclusive)
        (dt.datetime(2025, 6, 8, 3, 0), False),  # Sun 03:00: closed
        (dt.datetime(2025, 6, 8, 22, 30), False),  # Sun 22:30: only Saturday opens
        (dt.datetime(2025, 6, 7, 1, 0), False),  # Sat 01:00: Friday is not listed
    ],
)
def test_crossing_midnight(local, expected):
    at = local.replace(tzinfo=BERLIN)
    assert (is_open(SAT_NIGHT, at, BERLIN) is not None) is expected


def test_crossing_midnight_from_sunday_wraps_to_monday():
    schedule = Schedule((window([SUN], 23 * H, 1 * H),))
    assert is_open(schedule, dt.datetime(2025, 6, 9, 0, 30, tzinfo=BERLIN), BERLIN)  # Mon 00:30
    assert not is_open(schedule, dt.datetime(2025, 6, 3, 0, 30, tzinfo=BERLIN), BERLIN)  # Tue 00:30


def test_whole_day_and_always():
    schedule = Schedule((window([WED], 0, 24 * H),))
    assert is_open(schedule, dt.datetime(2025, 6, 4, 0, 0, tzinfo=BERLIN), BERLIN)
    assert is_open(schedule, dt.datetime(2025, 6, 4, 23, 59, 59, 999_999, tzinfo=BERLIN), BERLIN)
    assert not is_open(schedule, dt.datetime(2025, 6, 5, 0, 0, tzinfo=BERLIN), BERLIN)
    assert is_open(Schedule((ALWAYS,)), utc(2031, 2, 3, 4, 5), NEW_YORK) == ALWAYS


def test_is_open_returns_the_first_matching_window():
    weekdays = window(range(5), 8 * H, 18 * H)
    mornings = window(range(7), 6 * H, 12 * H)
    schedule = Schedule((weekdays, mornings))
    assert is_open(schedule, dt.datetime(2025, 6, 4, 9, 0, tzinfo=BERLIN), BERLIN) == weekdays
    assert is_open(schedule, dt.datetime(2025, 6, 7, 9, 0, tzinfo=BERLIN), BERLIN) == mornings
    assert is_open(schedule, dt.datetime(2025, 6, 7, 13, 0, tzinfo=BERLIN), BERLIN) is None


def test_is_open_reads_the_property_zone_not_the_instants_zone():
    schedule = Schedule((window(range(5), 8 * H, 18 * H),))
    at = utc(2025, 6, 4, 13, 0)  # 15:00 in Berlin, 09:00 in New York, 22:00 in Tokyo
    assert is_open(schedule, at, BERLIN)
    assert is_open(schedule, at, NEW_YORK)
    assert not is_open(schedule, at, ZoneInfo("Asia/Tokyo"))


def test_is_open_needs_an_aware_instant():
    with pytest.raises(ValueError, match="aware"):
        is_open(Schedule((ALWAYS,)), dt.datetime(2025, 6, 4, 13, 0), BERLIN)


# --- validity bounds -----------------------------------------------------------------------


def test_validity_from_inclusive_until_exclusive():
    schedule = Schedule((ALWAYS,), valid_from=utc(2025, 1, 1), valid_until=utc(2025, 2, 1))
    assert not is_open(schedule, utc(2024, 12, 31, 23, 59, 59, 999_000), BERLIN)
    assert is_open(schedule, utc(2025, 1, 1), BERLIN)
    assert is_open(schedule, utc(2025, 1, 31, 23, 59, 59, 999_000), BERLIN)
    assert not is_open(schedule, utc(2025, 2, 1), BERLIN)


def test_validity_bounds_are_instants_and_windows_still_apply():
    schedule = Schedule((window(range(5), 8 * H, 18 * H),), valid_from=utc(2025, 6, 4, 7, 0))  # 09:00 Berlin
    assert not is_open(schedule, dt.datetime(2025, 6, 4, 8, 30, tzinfo=BERLIN), BERLIN)  # window open, not yet valid
    assert is_open(schedule, dt.datetime(2025, 6, 4, 9, 0, tzinfo=BERLIN), BERLIN)
    assert not is_open(schedule, dt.datetime(2025, 6, 7, 9, 0, tzinfo=BERLIN), BERLIN)  # valid, Saturday
    open_ended = Schedule((ALWAYS,), valid_until=utc(2025, 6, 4))
    assert is_open(open_ended, utc(1999, 1, 1), BERLIN)
    assert not is_open(open_ended, utc(2025, 6, 4), BERLIN)


# --- DST: wall-clock rule ------------------------------------------------------------------
# Berlin:   spring 2025-03-30 02:00 CET -> 03:00 CEST (01:00Z); fall 2025-10-26 03:00 CEST -> 02:00 CET (01:00Z)
# New York: spring 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z); fall 2025-11-02 02:00 EDT -> 01:00 EST (06:00Z)

SPRING = [  # zone, the Sunday of the switch, the skipped local hour
    (BERLIN, dt.date(2025, 3, 30), 2),
    (NEW_YORK, dt.date(2025, 3, 9), 2),
]
FALL = [  # zone, the Sunday of the switch, the repeated local hour
    (BERLIN, dt.date(2025, 10, 26), 2),
    (NEW_YORK, dt.date(2025, 11, 2), 1),
]


def local_day_bounds(tz, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(UTC)
    return start, end


@pytest.mark.parametrize(("tz", "day", "hour"), SPRING)
def test_spring_forward_skipped_hour_never_matches(tz, day, hour):
    assert day.weekday() == SUN
    schedule = Schedule((window([SUN], hour * H, (hour + 1) * H),))
    assert open_minutes(schedule, tz, *local_day_bounds(tz, day)) == []


@pytest.mark.parametrize(("tz", "day", "hour"), SPRING)
def test_spring_forward_window_across_the_gap_is_one_hour_shorter(tz, day, hour):
    schedule = Schedule((window([SUN], (hour - 1) * H, (hour + 2) * H),))  # e.g. 01:00–04:00 wall
    minutes = open_minutes(schedule, tz, *local_day_bounds(tz, day))
    assert len(minutes) == 120  # 2 real hours
    assert minutes[0].astimezone(tz).time() == dt.time(hour - 1, 0)
    assert minutes[-1].astimezone(tz).time() == dt.time(hour + 1, 59)
    assert minutes[-1] - minutes[0] == dt.timedelta(minutes=119)  # contiguous


@pytest.mark.parametrize(("tz", "day", "hour"), FALL)
def test_fall_back_repeated_hour_matches_both_occurrences(tz, day, hour):
    schedule = Schedule((window([SUN], hour * H, (hour + 1) * H),))
    minutes = open_minutes(schedule, tz, *local_day_bounds(tz, day))
    assert len(minutes) == 120  # 2 real hours
    assert minutes[-1] - minutes[0] == dt.timedelta(minutes=119)  # back to back
    first = dt.datetime.combine(day, dt.time(hour, 30), tzinfo=tz)
    second = first.replace(fold=1)
    assert second.astimezone(UTC) - first.astimezone(UTC) == dt.timedelta(hours=1)
    assert is_open(schedule, first.astimezone(UTC), tz)
    assert is_open(schedule, second.astimezone(UTC), tz)


@pytest.mark.parametrize(("tz", "day", "hour"), FALL)
def test_fall_back_window_across_the_repeat_is_one_hour_longer(tz, day, hour):
    schedule = Schedule((window([SUN], (hour - 1) * H, (hour + 2) * H),))
    assert len(open_minutes(schedule, tz, *local_day_bounds(tz, day))) == 4 * 60


def test_crossing_midnight_on_spring_night_closes_at_wall_stop():
    # Berlin, Sat 2025-03-29 22:00 CET (21:00Z) until Sun 04:00 CEST (02:00Z): 5 real hours, 6 on the clock.
    schedule = Schedule((window([SAT], 22 * H, 4 * H),))
    minutes = open_minutes(schedule, BERLIN, utc(2025, 3, 29, 12), utc(2025, 3, 30, 12))
    assert minutes[0] == utc(2025, 3, 29, 21, 0)
    assert minutes[-1] == utc(2025, 3, 30, 1, 59)
    assert len(minutes) == 5 * 60


def test_crossing_midnight_with_stop_in_the_skipped_hour_closes_when_the_clock_jumps():
    # New York, Sat 2025-03-08 22:00 EST until "02:30" Sun: the clock jumps 01:59:59 -> 03:00 at 07:00Z.
    schedule = Schedule((window([SAT], 22 * H, 2 * H + 30 * 60),))
    assert is_open(schedule, utc(2025, 3, 9, 6, 59, 59), NEW_YORK)
    assert not is_open(schedule, utc(2025, 3, 9, 7, 0), NEW_YORK)
    assert len(open_minutes(schedule, NEW_YORK, utc(2025, 3, 8, 12), utc(2025, 3, 9, 12))) == 4 * 60


def test_crossing_midnight_on_fall_night_closes_at_wall_stop():
    # New York, Sat 2025-11-01 22:00 EDT (02:00Z) until Sun 02:00 EST (07:00Z): 5 real hours, 4 on the clock.
    schedule = Schedule((window([SAT], 22 * H, 2 * H),))
    minutes = open_minutes(schedule, NEW_YORK, utc(2025, 11, 1, 12), utc(2025, 11, 2, 12))
    assert minutes[0] == utc(2025, 11, 2, 2, 0)
    assert minutes[-1] == utc(2025, 11, 2, 6, 59)
    assert len(minutes) == 5 * 60
    assert not is_open(schedule, utc(2025, 11, 2, 7, 0), NEW_YORK)


def test_crossing_midnight_with_stop_in_the_repeated_hour_reopens_for_the_repeat():
    # Berlin, Sat 2025-10-25 22:00 until Sun 02:30: the wall clock reads 02:00–02:30 twice.
    schedule = Schedule((window([SAT], 22 * H, 2 * H + 30 * 60),))
    assert is_open(schedule, utc(2025, 10, 26, 0, 15), BERLIN)  # 02:15 CEST
    assert not is_open(schedule, utc(2025, 10, 26, 0, 45), BERLIN)  # 02:45 CEST
    assert is_open(schedule, utc(2025, 10, 26, 1, 15), BERLIN)  # 02:15 CET
    assert not is_open(schedule, utc(2025, 10, 26, 1, 30), BERLIN)  # 02:30 CET: closed for good
    minutes = open_minutes(schedule, BERLIN, utc(2025, 10, 25, 12), utc(2025, 10, 26, 12))
    assert len(minutes) == 5 * 60  # 20:00Z–00:30Z and 01:00Z–01:30Z


# --- describe ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (window(range(5), 8 * H, 18 * H), "Mon–Fri 08:00–18:00"),
        (window([SAT], 22 * H, 2 * H), "Sat 22:00–02:00 (+1 day)"),
        (ALWAYS, "every day 00:00–24:00"),
        (window([SAT, SUN], 6 * H + 40 * 60, 19 * H + 49 * 60 + 59), "Sat, Sun 06:40–19:49:59"),
        (window([MON, WED, FRI], 9 * H, 10 * H), "Mon, Wed, Fri 09:00–10:00"),
        (window([MON, TUE, WED, FRI, SAT], 9 * H, 9 * H - 1), "Mon–Wed, Fri, Sat 09:00–08:59:59 (+1 day)"),
        (window([SUN], 0, 24 * H), "Sun 00:00–24:00"),
    ],
)
def test_describe(value, text):
    assert describe(value) == text

"""apps/integrations/lockt/schedules.py: Keyhouse Schedule <-> Lockt schedule, lossless both ways or refused."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.access.schedules import ALWAYS, Schedule, Window, is_open
from apps.integrations.lockt.schedules import DAY_BITS, from_lockt, to_lockt
from apps.integrations.mapping import LossyMappingError, VendorFormatError

H = 3600
UTC = dt.UTC
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def one(days, start, stop, **validity) -> Schedule:
    return Schedule((Window(frozenset(days), start, stop),), **validity)


def lockt(days, start, stop, *, name="S") -> dict:
    bits = {bit: int(index in days) for index, bit in enumerate(DAY_BITS)}
    return {"name": name, **bits, "start": start, "stop": stop}


def hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# --- the spec's examples (lockt-cloud-api.md F33) -----------------------------------------

SPEC_543 = {
    "id": 543,
    "name": "0800-1700 M-F, 1200-1500 Sat",
    "d0": 1,
    "d1": 1,
    "d2": 1,
    "d3": 1,
    "d4": 1,
    "d5": 0,
    "d6": 0,
    "start": "08:00:00",
    "stop": "16:59:59",
}
SPEC_1404 = {
    "id": 1404,
    "name": "Weekend Cleaners",
    "d0": 0,
    "d1": 0,
    "d2": 0,
    "d3": 0,
    "d4": 0,
    "d5": 1,
    "d6": 1,
    "start": "06:40:00",
    "stop": "19:49:59",
}


def test_spec_examples_read_as_exclusive_stops():
    assert from_lockt(SPEC_543) == one(range(5), 8 * H, 17 * H)
    assert from_lockt(SPEC_1404) == one([SAT, SUN], 6 * H + 40 * 60, 19 * H + 50 * 60)


def test_spec_examples_round_trip():
    for obj in (SPEC_543, SPEC_1404):
        expected = {key: value for key, value in obj.items() if key != "id"}
        assert to_lockt(from_lockt(obj), name=obj["name"]) == expected


@pytest.mark.parametrize(
    ("schedule", "start", "stop", "days"),
    [
        (Schedule((ALWAYS,)), "00:00:00", "23:59:59", range(7)),  # 24:00 is Lockt's inclusive 23:59:59
        (one([SAT], 22 * H, 2 * H), "22:00:00", "01:59:59", [SAT]),  # crossing midnight: Lockt stop < start
        (one([SUN], 23 * H, 1), "23:00:00", "00:00:00", [SUN]),  # crossing, closes at 00:00:01
        (one([WED], 8 * H, 8 * H + 1), "08:00:00", "08:00:00", [WED]),  # one second: Lockt start == stop
        (one([MON], 12 * H, 8 * H), "12:00:00", "07:59:59", [MON]),
    ],
)
def test_to_lockt_and_back(schedule, start, stop, days):
    obj = to_lockt(schedule, name="Night shift")
    assert obj == lockt(days, start, stop, name="Night shift")
    assert list(obj) == ["name", *DAY_BITS, "start", "stop"]
    assert from_lockt(obj) == schedule


# --- refusals ------------------------------------------------------------------------------


def test_to_lockt_refuses_second_window_and_validity_naming_each_loss():
    schedule = Schedule(
        (
            Window(frozenset(range(5)), 8 * H, 17 * H),
            Window(frozenset([SAT]), 10 * H, 14 * H),
            Window(frozenset([SUN]), 22 * H, 2 * H),
        ),
        valid_from=dt.datetime(2025, 1, 1, tzinfo=UTC),
        valid_until=dt.datetime(2025, 12, 31, 23, 0, tzinfo=UTC),
    )
    with pytest.raises(LossyMappingError) as exc_info:
        to_lockt(schedule, name="x")
    assert str(exc_info.value) == (
        "Lockt holds one window per schedule: windows[1] (Sat 10:00–14:00), "
        "windows[2] (Sun 22:00–02:00 (+1 day)) would be lost; "
        "validFrom (2025-01-01T00:00:00.000Z) would be lost; "
        "validUntil (2025-12-31T23:00:00.000Z) would be lost"
    )
    assert len(exc_info.value.losses) == 3


def test_to_lockt_refuses_validity_alone():
    with pytest.raises(LossyMappingError) as exc_info:
        to_lockt(Schedule((ALWAYS,), valid_until=dt.datetime(2026, 1, 1, tzinfo=UTC)), name="x")
    assert str(exc_info.value) == "validUntil (2026-01-01T00:00:00.000Z) would be lost"


def test_from_lockt_refuses_a_schedule_without_days():
    with pytest.raises(LossyMappingError) as exc_info:
        from_lockt(lockt([], "08:00:00", "16:59:59"))
    assert str(exc_info.value) == (
        "Lockt schedule has no day bit set (d0..d6 are all 0): a Keyhouse window needs at least one day"
    )


def test_from_lockt_refuses_24_hours_from_start():
    with pytest.raises(LossyMappingError) as exc_info:
        from_lockt(lockt([MON], "08:00:00", "07:59:59"))
    assert str(exc_info.value) == (
        "Lockt start 08:00:00 to stop 07:59:59 opens for 24 hours from 08:00:00: "
        "a Keyhouse window cannot start and stop at the same time (only 00:00–24:00 is a whole day)"
    )


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "schedule: Must be an object."),
        ({k: v for k, v in SPEC_543.items() if k != "d3"}, "d3: This field is required."),
        ({**SPEC_543, "d2": "1"}, "d2: Must be 0 or 1, got '1'."),
        ({**SPEC_543, "d2": 2}, "d2: Must be 0 or 1, got 2."),
        ({**SPEC_543, "d2": True}, "d2: Must be 0 or 1, got True."),
        ({k: v for k, v in SPEC_543.items() if k != "stop"}, "stop: This field is required."),
        ({**SPEC_543, "stop": "24:00:00"}, "stop: Must be HH:MM:SS between 00:00:00 and 23:59:59, got '24:00:00'."),
        ({**SPEC_543, "start": "08:00"}, "start: Must be HH:MM:SS between 00:00:00 and 23:59:59, got '08:00'."),
        ({**SPEC_543, "start": "8:00:00"}, "start: Must be HH:MM:SS between 00:00:00 and 23:59:59, got '8:00:00'."),
        ({**SPEC_543, "start": "08:00:60"}, "start: Must be HH:MM:SS between 00:00:00 and 23:59:59, got '08:00:60'."),
        ({**SPEC_543, "start": None}, "start: Must be HH:MM:SS between 00:00:00 and 23:59:59, got None."),
    ],
)
def test_from_lockt_refuses_malformed_objects(obj, message):
    with pytest.raises(VendorFormatError) as exc_info:
        from_lockt(obj)
    assert str(exc_info.value) == message


# --- properties ----------------------------------------------------------------------------

seconds = st.integers(0, 86399)


@st.composite
def lockt_domain_schedules(draw) -> Schedule:
    """Every Schedule to_lockt accepts: one window, no validity."""
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    start = draw(seconds)
    stop = draw(st.integers(1, 86400))
    stop = 86400 if stop == start else stop  # start == stop is refused; 24:00 is an edge worth hitting
    return Schedule((Window(days, start, stop),))


@st.composite
def lockt_objects(draw) -> dict:
    """Every valid Lockt schedule object (bits 0/1, "HH:MM:SS"), including the ones Keyhouse refuses."""
    obj = {"id": draw(st.integers(1, 10**6)), "name": draw(st.text(max_size=20))}
    obj.update({bit: draw(st.integers(0, 1)) for bit in DAY_BITS})
    start = draw(seconds)
    # Bias towards the edges: stop == start (one second) and stop == start - 1 s (24 hours, refused).
    stop = draw(seconds | st.just(start) | st.just((start - 1) % 86400))
    obj["start"], obj["stop"] = hms(start), hms(stop)
    return obj


def lockt_seconds(text: str) -> int:
    hours, minutes, secs = (int(part) for part in text.split(":"))
    return hours * 3600 + minutes * 60 + secs


def lockt_open(obj: dict, weekday: int, second: int) -> bool:
    """Lockt's reading (spec A27 + our decisions): stop inclusive to the second; stop < start crosses midnight."""
    start, stop = lockt_seconds(obj["start"]), lockt_seconds(obj["stop"])
    today, yesterday = obj[DAY_BITS[weekday]], obj[DAY_BITS[(weekday - 1) % 7]]
    if start <= stop:
        return bool(today) and start <= second <= stop
    return (bool(today) and second >= start) or (bool(yesterday) and second <= stop)


def mappable(obj: dict) -> bool:
    has_day = any(obj[bit] for bit in DAY_BITS)
    return has_day and lockt_seconds(obj["stop"]) + 1 != lockt_seconds(obj["start"])


@settings(max_examples=200, deadline=None)
@given(lockt_domain_schedules(), st.text(max_size=20))
def test_keyhouse_to_lockt_and_back(schedule, name):
    obj = to_lockt(schedule, name=name)
    assert obj["name"] == name
    assert from_lockt(obj) == schedule


@settings(max_examples=200, deadline=None)
@given(lockt_objects())
def test_lockt_to_keyhouse_and_back(obj):
    if not mappable(obj):
        with pytest.raises(LossyMappingError):
            from_lockt(obj)
        return
    assert to_lockt(from_lockt(obj), name=obj["name"]) == {key: value for key, value in obj.items() if key != "id"}


@settings(max_examples=200, deadline=None)
@given(lockt_objects().filter(mappable), st.integers(0, 6), seconds)
def test_mapping_keeps_the_meaning(obj, weekday, second):
    # 2024-01-01 is a Monday; in UTC the wall clock is the instant, so only the mapping is under test.
    at = dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(days=weekday, seconds=second)
    assert (is_open(from_lockt(obj), at, UTC) is not None) == lockt_open(obj, weekday, second)


@settings(max_examples=100, deadline=None)
@given(st.lists(lockt_domain_schedules(), min_size=2, max_size=5))
def test_to_lockt_refuses_every_extra_window(schedules):
    schedule = Schedule(tuple(s.windows[0] for s in schedules))
    with pytest.raises(LossyMappingError) as exc_info:
        to_lockt(schedule, name="x")
    message = str(exc_info.value)
    assert message.startswith("Lockt holds one window per schedule: windows[1] (")
    assert f"windows[{len(schedules) - 1}] (" in message
    assert "windows[0]" not in message

"""apps/integrations/smartphonekey/validity.py: Schedule <-> validFrom/validUntil, lossless both ways or refused."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.access.schedules import ALWAYS, Schedule, Window, timestamp_to_json
from apps.integrations.mapping import LossyMappingError, VendorFormatError
from apps.integrations.smartphonekey.validity import from_smartphonekey, to_smartphonekey

UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_to_smartphonekey():
    schedule = Schedule((ALWAYS,), valid_from=utc(2025, 3, 1, 8, 30), valid_until=utc(2025, 12, 31, 23, 0, 0, 250_000))
    assert to_smartphonekey(schedule) == {
        "validFrom": "2025-03-01T08:30:00.000Z",
        "validUntil": "2025-12-31T23:00:00.250Z",
    }
    assert to_smartphonekey(Schedule((ALWAYS,))) == {"validFrom": None, "validUntil": None}


def test_from_smartphonekey():
    obj = {"validFrom": "2025-03-01T08:30:00.000Z", "validUntil": None, "lockId": "L1", "accessLevel": "GUEST"}
    assert from_smartphonekey(obj) == Schedule((ALWAYS,), valid_from=utc(2025, 3, 1, 8, 30))
    assert from_smartphonekey({}) == Schedule((ALWAYS,))


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-01T08:30:00.000Z",
        "2025-03-01T08:30:00Z",
        "2025-03-01T10:30:00+02:00",
        "2025-03-01T03:30:00.000000-05:00",
    ],
)
def test_from_smartphonekey_reads_iso_8601_and_keeps_the_instant(text):
    schedule = from_smartphonekey({"validUntil": text})
    assert schedule.valid_until == utc(2025, 3, 1, 8, 30)
    assert to_smartphonekey(schedule)["validUntil"] == "2025-03-01T08:30:00.000Z"


def test_to_smartphonekey_refuses_weekly_windows():
    schedule = Schedule(
        (Window(frozenset(range(5)), 8 * 3600, 18 * 3600), Window(frozenset([5]), 22 * 3600, 2 * 3600)),
        valid_until=utc(2026, 1, 1),
    )
    with pytest.raises(LossyMappingError) as exc_info:
        to_smartphonekey(schedule)
    assert str(exc_info.value) == (
        "SmartphoneKey holds validity dates only: weekly windows would be lost: "
        "windows[0] (Mon–Fri 08:00–18:00), windows[1] (Sat 22:00–02:00 (+1 day))"
    )


def test_to_smartphonekey_refuses_always_plus_another_window():
    with pytest.raises(
        LossyMappingError, match=r"weekly windows would be lost: windows\[0\] \(every day 00:00–24:00\), "
    ):
        to_smartphonekey(Schedule((ALWAYS, Window(frozenset([0]), 0, 60))))


@pytest.mark.parametrize(
    ("obj", "error", "message"),
    [
        ("x", VendorFormatError, "access: Must be an object."),
        (
            {"validFrom": "2025-03-01T08:30:00"},
            VendorFormatError,
            "validFrom: Must be an ISO 8601 date-time with Z or an offset, got '2025-03-01T08:30:00'.",
        ),
        (
            {"validFrom": "2025-03-01"},
            VendorFormatError,
            "validFrom: Must be an ISO 8601 date-time with Z or an offset, got '2025-03-01'.",
        ),
        (
            {"validUntil": ""},
            VendorFormatError,
            "validUntil: Must be an ISO 8601 date-time with Z or an offset, got ''.",
        ),
        (
            {"validUntil": 1735689600},
            VendorFormatError,
            "validUntil: Must be an ISO 8601 date-time with Z or an offset, got 1735689600.",
        ),
        (
            {"validUntil": "2025-02-30T00:00:00Z"},
            VendorFormatError,
            "validUntil: Not a valid date-time: '2025-02-30T00:00:00Z'.",
        ),
        (
            {"validFrom": "2025-03-01T08:30:00.123456Z"},
            LossyMappingError,
            "validFrom 2025-03-01T08:30:00.123456Z: "
            "Keyhouse keeps milliseconds, the sub-millisecond part would be lost",
        ),
        (
            {"validFrom": "2025-03-01T08:30:00.000Z", "validUntil": "2025-03-01T10:30:00+02:00"},
            LossyMappingError,
            "validUntil 2025-03-01T10:30:00+02:00 is not after validFrom 2025-03-01T08:30:00.000Z: "
            "a Keyhouse schedule cannot hold an empty validity period",
        ),
    ],
)
def test_from_smartphonekey_refusals(obj, error, message):
    with pytest.raises(error) as exc_info:
        from_smartphonekey(obj)
    assert str(exc_info.value) == message


# --- properties ----------------------------------------------------------------------------

instants = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    lambda value: value.replace(microsecond=value.microsecond // 1000 * 1000, tzinfo=UTC)
)


@st.composite
def validity_schedules(draw) -> Schedule:
    """Every Schedule to_smartphonekey accepts: windows (ALWAYS,), any ordered bounds."""
    valid_from = draw(st.none() | instants)
    valid_until = draw(st.none() | instants)
    if valid_from is not None and valid_until is not None:
        if valid_from == valid_until:
            valid_until = None
        elif valid_until < valid_from:
            valid_from, valid_until = valid_until, valid_from
    return Schedule((ALWAYS,), valid_from=valid_from, valid_until=valid_until)


@settings(max_examples=200, deadline=None)
@given(validity_schedules())
def test_keyhouse_to_smartphonekey_and_back(schedule):
    assert from_smartphonekey(to_smartphonekey(schedule)) == schedule


@settings(max_examples=200, deadline=None)
@given(validity_schedules())
def test_smartphonekey_to_keyhouse_and_back(schedule):
    # Objects in SmartphoneKey's canonical spelling, built independently of to_smartphonekey.
    obj = {
        "validFrom": schedule.valid_from and timestamp_to_json(schedule.valid_from),
        "validUntil": schedule.valid_until and timestamp_to_json(schedule.valid_until),
    }
    assert to_smartphonekey(from_smartphonekey(obj)) == obj

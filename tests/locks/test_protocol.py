"""apps/locks/protocol.py without a database: schedule intervals (DST both ways), log batches,
gaps, acknowledgements, key-map content."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from apps.access import schedules as sched
from apps.keys import canonical
from apps.locks import protocol

BERLIN = ZoneInfo("Europe/Berlin")


def _unix(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


def _schedule(*windows, **bounds) -> sched.Schedule:
    return sched.Schedule(sched.windows_from_json(list(windows)), **bounds)


def test_a_window_in_the_repeated_hour_opens_twice_when_clocks_go_back():
    # Berlin, Sun 26 Oct 2025: 03:00 CEST → 02:00 CET at 01:00Z; 02:00–03:00 happens twice
    window = _schedule({"days": ["sun"], "start": "02:00", "stop": "03:00"})
    start, end = _unix("2025-10-25T12:00:00+00:00"), _unix("2025-10-27T00:00:00+00:00")
    assert protocol.schedule_intervals(window, BERLIN, start, end) == [
        [_unix("2025-10-26T00:00:00+00:00"), _unix("2025-10-26T02:00:00+00:00")]
    ]


def test_a_window_in_the_skipped_hour_never_opens_when_clocks_go_forward():
    window = _schedule({"days": ["sun"], "start": "02:00", "stop": "03:00"})
    start, end = _unix("2025-03-29T12:00:00+00:00"), _unix("2025-03-31T00:00:00+00:00")
    assert protocol.schedule_intervals(window, BERLIN, start, end) == []


def test_intervals_agree_with_is_open_every_minute_and_respect_validity():
    schedule = _schedule(
        {"days": ["fri", "sat"], "start": "22:00", "stop": "02:30"},
        {"days": ["mon"], "start": "00:00", "stop": "24:00"},
        valid_until=dt.datetime(2025, 10, 30, 12, 0, 0, 500000, tzinfo=dt.UTC),
    )
    start, end = _unix("2025-10-23T00:00:00+00:00"), _unix("2025-10-31T00:00:00+00:00")
    intervals = protocol.schedule_intervals(schedule, BERLIN, start, end)
    for second in range(start, end, 60):
        inside = any(a <= second < b for a, b in intervals)
        assert inside == (sched.is_open(schedule, protocol.from_unix(second), BERLIN) is not None), second
    assert intervals[-1][1] <= _unix("2025-10-30T12:00:01+00:00")


def test_missing_ranges():
    assert protocol.missing_ranges(1, [1, 2, 5, 9], up_to=9) == [(3, 4), (6, 8)]
    assert protocol.missing_ranges(3, [4], up_to=6) == [(3, 3), (5, 6)]
    assert protocol.missing_ranges(1, [], up_to=2) == [(1, 2)]


def _logs(*items) -> bytes:
    return canonical.canonical({"logs": list(items)})


def _log(sequence, **extra):
    return {"sequence": sequence, "accessDate": 1, "result": "granted", "reason": "unlock", **extra}


@pytest.mark.parametrize(
    "plaintext, field",
    [
        (b'{"logs": [], "logs": []}', "encryptedAccessLogs"),
        (b'{"logs": [{"sequence": 1.5}]}', "encryptedAccessLogs"),
        (b'{"entries": []}', "encryptedAccessLogs"),
        (_logs(_log(2), _log(2)), "encryptedAccessLogs.logs[1].sequence"),
        (_logs(_log(3), _log(1)), "encryptedAccessLogs.logs[1].sequence"),
        (_logs(_log(0)), "encryptedAccessLogs.logs[0].sequence"),
        (_logs(_log(1, reason="free-passage", result="denied")), "encryptedAccessLogs.logs[0].reason"),
        (_logs(_log(1, extra=True)), "encryptedAccessLogs.logs[0]"),
        (_logs(_log(1, kid="short")), "encryptedAccessLogs.logs[0].kid"),
        (_logs({"sequence": 1, "result": "granted", "reason": "unlock"}), "encryptedAccessLogs.logs[0]"),
    ],
)
def test_malformed_log_batches_are_refused_naming_the_place(plaintext, field):
    with pytest.raises(protocol.ProtocolError) as refused:
        protocol.access_logs_parse(plaintext, max_logs=10)
    assert refused.value.field == field


def test_a_batch_over_the_limit_is_refused():
    with pytest.raises(protocol.ProtocolError, match="at most 2"):
        protocol.access_logs_parse(_logs(_log(1), _log(2), _log(3)), max_logs=2)


def test_ack_shape():
    payload = {"lockId": "L", "keyMapVersion": 3, "keyMapDigest": "x" * 43, "appliedAt": 5}
    assert protocol.ack_check({"payload": payload, "signatures": {}}, lock_id="L") == payload
    with pytest.raises(protocol.ProtocolError, match="another lock"):
        protocol.ack_check({"payload": payload, "signatures": {}}, lock_id="M")
    with pytest.raises(protocol.ProtocolError):
        protocol.ack_check({"payload": {**payload, "extra": 1}, "signatures": {}}, lock_id="L")


def test_nonce_check():
    assert protocol.nonce_check("A" * 22)
    for bad in ("", "A" * 10, "A+" * 11, 5):
        with pytest.raises(protocol.ProtocolError):
            protocol.nonce_check(bad)


def test_content_ignores_order_and_drops_blocked_members():
    key = {"kid": "K" * 22, "publicKey": "P", "keyId": "k", "userDeviceId": "d"}
    lines = [protocol.Line("group", "g", "", None, None), protocol.Line("deny", "u", "", None, None)]
    content = protocol.key_map_content(
        lock_id="L",
        property_id="P",
        time_zone="UTC",
        lines=lines,
        members={"g": ["u"]},
        keys={"u": [key]},
        schedules={},
        property_keys=[],
        property_seal_key=None,
    )
    assert content["entries"] == [] and content["deniedKids"] == ["K" * 22]
    reordered = protocol.key_map_content(**{**_kwargs(lines[::-1], key)})
    assert protocol.content_digest(reordered) == protocol.content_digest(content)


def _kwargs(lines, key):
    return {
        "lock_id": "L",
        "property_id": "P",
        "time_zone": "UTC",
        "lines": lines,
        "members": {"g": ["u"]},
        "keys": {"u": [key]},
        "schedules": {},
        "property_keys": [],
        "property_seal_key": None,
    }

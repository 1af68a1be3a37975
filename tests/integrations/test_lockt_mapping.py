"""apps/integrations/lockt/mapping.py with the spec's own examples (lockt-cloud-api.md §6), and
every refusal naming field, value and reason. No database."""

import datetime as dt

import pytest

from apps.access.schedules import Window
from apps.integrations.lockt import mapping as m
from apps.integrations.mapping import MappingError

UTC = dt.UTC

# F39 GET /user?id=1693 (verbatim, L2945–L2985)
USER_1693 = {
    "id": 1693,
    "id_num": "329359",
    "last_name": "Brown3",
    "first_name": "Susan3",
    "card_num": "8769",
    "pin": "8822",
    "credential_key": "XXXX-XXXX-XXXX-XXXX",
    "email": "susan.brown@web.place",
    "phone": "33344455555",
    "access_effective": "",
    "access_expires": "",
    "enabled": True,
    "accesslevels": [{"unid": 364, "name": "Office Doors"}],
    "credentials": [
        {"id": 613832, "name": "8769", "card_num": "8769", "credential_key": "XXXX-XXXX-XXXX-XXXX", "fob": False},
        {"id": 614010, "name": "Fob 1A", "card_num": "10050", "credential_key": "YYYY-YYYY-YYYY-YYYY", "fob": True},
    ],
}


def _refused(func, record, field, reason, **kw) -> MappingError:
    with pytest.raises(MappingError) as raised:
        func(record, **kw)
    assert raised.value.field == field and reason in raised.value.reason, (raised.value.field, str(raised.value))
    return raised.value


def test_the_spec_user_becomes_a_keyhouse_user_with_its_groups_and_credentials():
    user = m.user_from_lockt(USER_1693)
    assert (user.external_id, user.id_num, user.email, user.display_name) == (
        1693,
        "329359",
        "susan.brown@web.place",
        "Susan3 Brown3",
    )
    assert user.blocked is False and user.valid_from is None and user.valid_until is None
    assert user.group_external_ids == (364,)  # read from `unid` (A30)
    card, fob = user.credentials
    assert (card.external_id, card.card_number, card.fob, card.holder_external_id) == (613832, "8769", False, 1693)
    assert (fob.external_id, fob.name, fob.fob) == (614010, "Fob 1A", True)


def test_disabled_user_is_blocked_missing_enabled_is_unknown_and_windows_parse_in_the_site_zone():
    user = m.user_from_lockt(
        {
            **USER_1693,
            "enabled": "false",
            "access_effective": "2022-01-24 00:00:00",
            "access_expires": "2022-10-29T00:00:00.000Z",
        },
        site_tz="Europe/Paris",
    )
    assert user.blocked is True
    assert user.valid_from == dt.datetime(2022, 1, 23, 23, 0, tzinfo=UTC)  # Paris wall clock, winter
    assert user.valid_until == dt.datetime(2022, 10, 29, tzinfo=UTC)
    listed = {k: v for k, v in USER_1693.items() if k not in ("enabled", "credentials", "pin")}
    assert m.user_from_lockt(listed).blocked is None and m.user_from_lockt(listed).credentials == ()


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"email": "rgreswell0@@@@gravatar.com"}, "email", "not an email address"),  # §2.6.2's example
        ({"card_num": "A8914"}, None, None),  # the top-level card is not read: credentials are
        ({"first_name": "", "last_name": ""}, "first_name", "both empty"),
        ({"id": -1}, "id", "positive integer id"),
        ({"id": True}, "id", "positive integer id"),
        ({"accesslevels": [{"name": "Office"}]}, "accesslevels[0].unid", "positive integer id"),
        ({"accesslevels": "364"}, "accesslevels", "must be a list"),
        ({"enabled": "maybe"}, "enabled", "true or false"),
        ({"access_effective": "24/01/2022"}, "access_effective", "YYYY-MM-DD HH:MM:SS or ISO-8601"),
        (
            {"access_effective": "2022-10-29 00:00:00", "access_expires": "2022-01-24 00:00:00"},
            "access_expires",
            "is not after access_effective",
        ),
        ({"credentials": [{"id": 1, "card_num": "12a4", "fob": False}]}, "credentials[0].card_num", "digits only"),
    ],
)
def test_bad_users_are_refused_naming_the_field(change, field, reason):
    record = {**USER_1693, **change}
    if field is None:
        assert m.user_from_lockt(record).external_id == 1693
    else:
        _refused(m.user_from_lockt, record, field, reason)


def test_a_fob_shaped_user_record_is_refused_not_made_a_person():
    # F35's example list (verbatim L2872–L2898) is fob-shaped (A29)
    record = {
        "id": 5678,
        "id_num": "",
        "name": "Fob 1",
        "card_num": "10000",
        "credential_key": "",
        "enabled": False,
        "access_effective": "",
        "access_expires": "",
        "accesslevels": [],
    }
    _refused(m.user_from_lockt, record, "name", "fob-shaped")


def test_card_numbers_never_reach_error_messages():
    error = _refused(m.credential_from_lockt, {"id": 9, "card_num": "4000123412341234x"}, "card_num", "digits only")
    assert "4000123412341234" not in str(error) and "hidden" in str(error)
    assert error.value == "4000123412341234x"  # kept for the link's own record only
    assert "8769" not in repr(m.user_from_lockt(USER_1693).credentials[0])


def test_the_spec_access_levels_become_groups_with_their_doors():
    # F02 (verbatim L424–L460): 212 has no `doors` key at all (A28)
    security = m.group_from_lockt(
        {
            "id": 208,
            "name": "Security",
            "doors": [{"id": 983, "name": "Office Door"}, {"id": 1087, "name": "Front Door"}],
        }
    )
    assert security.display_name == "Security" and not security.delegate
    assert security.doors == (m.GroupDoor(983, None), m.GroupDoor(1087, None))
    assert m.group_from_lockt({"id": 212, "name": "Administration"}).doors == ()
    written = m.group_from_lockt({"id": 574, "name": "Housekeeping", "doors": [{"id": "1087", "schedule_id": "543"}]})
    assert written.doors == (m.GroupDoor(1087, 543),)
    delegate = m.group_from_lockt({"id": 647929, "name": "delegate_af5abaf069caec3a33047702bfa6128a"})
    assert delegate.delegate is True
    _refused(m.group_from_lockt, {"id": 1, "name": "x", "doors": [{"name": "Front"}]}, "doors[0].id", "positive")
    _refused(m.group_from_lockt, {"id": 1, "name": " "}, "name", "needs a name")


def test_the_spec_doors_become_locks_with_battery_from_doorstate():
    # F17 (verbatim L1303–L1331), F19 (L1697–L1716)
    lock = m.lock_from_lockt(
        {
            "id": 166,
            "type": "Access Controlled Door",
            "name": "Office Supplies",
            "location": "Main Hall",
            "enabled": True,
            "controller": "BEST Switch™ API",
        }
    )
    assert lock == m.LockValues(166, "Office Supplies", True, "Main Hall", "Access Controlled Door", "BEST Switch™ API")
    assert m.battery_from_lockt({"id": 187, "name": "Room 1", "battery_level": 0.64}).level == 0.64
    _refused(m.battery_from_lockt, {"id": 187, "battery_level": 64}, "battery_level", "from 0 to 1")
    _refused(m.lock_from_lockt, {"id": 166, "name": ""}, "name", "needs a name")


def test_the_spec_schedule_becomes_one_weekly_window_and_impossible_ones_are_refused():
    # F33 schedule 543 shape: d0..d6, start/stop inclusive to the second (A27)
    record = {"id": 543, "name": "Business Hours", "d0": 1, "d1": 1, "d2": 1, "d3": 1, "d4": 1, "d5": 0, "d6": 0}
    values = m.schedule_from_lockt({**record, "start": "08:00:00", "stop": "16:59:59"})
    assert values.display_name == "Business Hours"
    assert values.schedule.windows == (Window(frozenset({0, 1, 2, 3, 4}), 8 * 3600, 17 * 3600),)
    _refused(m.schedule_from_lockt, {**record, "start": "08:00:00", "stop": "07:59:59"}, "schedule", "24 hours")
    _refused(m.schedule_from_lockt, {**record, "start": "8am", "stop": "16:59:59"}, "start", "HH:MM:SS")
    _refused(m.schedule_from_lockt, {**record, "d5": 2, "start": "08:00:00", "stop": "16:59:59"}, "d5", "0 or 1")


def test_the_spec_credentials_and_fobs_become_credential_records():
    # F07 (verbatim L976–L1004): `user` is a list of one (A31)
    card = m.credential_from_lockt(
        {
            "id": 335,
            "card_num": "1003",
            "credential_key": "AAAA-BBBB-1111-2222",
            "claim_status": "Claimed",
            "user": [{"id": 300, "name": "User, Test"}],
        }
    )
    assert (card.holder_external_id, card.card_number, card.claimed, card.fob) == (300, "1003", True, False)
    assert m.credential_from_lockt({"id": 336, "card_num": "1004", "user": {"id": "301"}}).holder_external_id == 301
    assert m.credential_from_lockt({"id": 337, "card_num": "", "user": []}).holder_external_id is None
    _refused(m.credential_from_lockt, {"id": 1, "claim_status": "Maybe"}, "claim_status", "Claimed or Unclaimed")
    _refused(m.credential_from_lockt, {"id": 1, "user": [{"id": 1}, {"id": 2}]}, "user", "at most one holder")
    # F27 (verbatim L1953–L1979)
    fob = m.fob_from_lockt(
        {
            "id": 443,
            "id_num": "10000",
            "name": "Office Floor 1 FOB 1",
            "card_num": "10000",
            "credential_key": "XXXX-XXXX-XXXX-XXXX",
            "enabled": False,
            "access_effective": "2022-07-10T09:00:00.000Z",
            "access_expires": "2022-07-10T12:00:00.000Z",
            "accesslevels": [],
        },
        holder_external_id=1693,
    )
    assert (fob.fob, fob.card_number, fob.name, fob.holder_external_id) == (True, "10000", "Office Floor 1 FOB 1", 1693)
    assert (fob.valid_from, fob.valid_until) == (
        dt.datetime(2022, 7, 10, 9, tzinfo=UTC),
        dt.datetime(2022, 7, 10, 12, tzinfo=UTC),
    )


def test_the_spec_delegate_becomes_a_time_bound_door_grant():
    # F11 (verbatim L745–L773): local "YYYY-MM-DD HH:MM:SS" in the site's zone (§9.12)
    delegate = m.delegate_from_lockt(
        {
            "id": 647929,
            "name": "delegate_af5abaf069caec3a33047702bfa6128a",
            "access_effective": "2022-09-08 11:00:00",
            "access_expires": "2022-09-08 12:00:00",
            "doors": [{"id": 187, "name": "Test Door"}],
        },
        site_tz="America/New_York",
    )
    assert delegate.door_external_ids == (187,)
    assert delegate.valid_from == dt.datetime(2022, 9, 8, 15, tzinfo=UTC)
    assert delegate.valid_until == dt.datetime(2022, 9, 8, 16, tzinfo=UTC)
    _refused(
        m.delegate_from_lockt,
        {"id": 1, "access_effective": "2022-09-08 12:00:00", "access_expires": "2022-09-08 11:00:00"},
        "access_expires",
        "is not after",
    )


def test_the_spec_events_become_access_logs_granted_or_denied():
    # F20 (verbatim L1765–L1818)
    denied = m.access_log_from_lockt(
        {
            "id": 865,
            "device": "Core 1",
            "code": 49,
            "code_text": "Access Denied",
            "subcode": 104,
            "subcode_text": "Battery Missing",
            "schedule": "",
            "controller": "Switch™ Bridge",
            "location": "Main Hall",
            "card_num": "1000",
            "user": "Jones, Adam",
            "category": 2,
            "category_text": "Door Access Denied",
            "hw_time": "2021-11-18T16:15:28.000Z",
            "db_time": "2021-11-19T00:47:09.651Z",
        }
    )
    assert (denied.external_id, denied.door_name, denied.outcome, denied.subcode) == (865, "Core 1", "denied", 104)
    assert denied.occurred_at == dt.datetime(2021, 11, 18, 16, 15, 28, tzinfo=UTC)
    assert denied.received_at == dt.datetime(2021, 11, 19, 0, 47, 9, 651000, tzinfo=UTC)
    granted = m.access_log_from_lockt(
        {"id": 837, "device": "Core 2", "code": 48, "event_time": "2021-11-17T13:58:01.000Z", "db_time": ""}
    )
    assert granted.outcome == "granted" and granted.subcode is None and granted.received_at is None  # A32 fallback
    assert m.access_log_from_lockt({"id": 900, "code": 12, "hw_time": "2021-11-17T13:58:01Z"}).outcome is None
    _refused(m.access_log_from_lockt, {"id": 901, "code": 48, "hw_time": ""}, "hw_time", "needs hw_time")
    _refused(m.access_log_from_lockt, {"id": 902, "code": "x", "hw_time": "2021-11-17T13:58:01Z"}, "code", "integer")


def test_record_digest_ignores_key_order_and_sees_any_change():
    assert m.record_digest({"a": 1, "b": [1, 2]}) == m.record_digest({"b": [1, 2], "a": 1})
    assert m.record_digest(USER_1693) != m.record_digest({**USER_1693, "phone": "1"})


@pytest.mark.parametrize("func", [m.user_from_lockt, m.group_from_lockt, m.lock_from_lockt, m.access_log_from_lockt])
def test_a_record_that_is_not_an_object_is_refused(func):
    with pytest.raises(MappingError, match="must be an object"):
        func(["not", "an", "object"])

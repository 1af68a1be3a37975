"""The Lockt sync end to end: the real client and poll against the Lockt emulator over a live
server (/_emulators/lockt/api/v1/), the emulator driven through its control hooks."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.access.models import AccessBlock, Membership, Schedule, UserGroup
from apps.accounts.models import User
from apps.core.models import ExternalRef
from apps.integrations import services
from apps.integrations.lockt.sync import LocktSync
from apps.integrations.models import LocktRecord
from apps.locks.models import Lock, LockAccessLog
from tests.factories.directory import property_create, user_create
from tests.factories.integrations import lockt_account
from tests.integrations.lockt_emulator.conftest import Lockt
from tests.locks.conftest import Phone, settle, world  # noqa: F401 - the reference-lock world fixture

pytestmark = pytest.mark.django_db(transaction=True)

EMULATOR = "/_emulators/lockt/api/v1"
WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


@pytest.fixture
def lockt(client, live_server, settings):
    """The example instance (§9.13 seed), its level reads carrying `schedule_id`."""
    settings.KEYHOUSE_INTEGRATION_ALLOW_HTTP = True
    remote = Lockt(client)
    remote.control("POST", "reset")
    assert remote.control("POST", "switches", {"accesslevel_doors_schedule_id": True}).status_code == 200
    remote.url = f"{live_server.url}{EMULATOR}"
    return remote


def _poll(account):
    run = services.integration_account_poll(account_id=account.pk)
    account.refresh_from_db()
    return run


def _writes(queries) -> list[str]:
    return [m.group(2) for q in queries if (m := WRITE.match(q["sql"]))]


def _linked(account, model, external_id):
    from django.contrib.contenttypes.models import ContentType

    link = ExternalRef.objects.get(
        account_id=account.pk, content_type=ContentType.objects.get_for_model(model), external_id=str(external_id)
    )
    return model.objects.get(pk=link.object_id)


def test_first_poll_brings_users_groups_and_locks_in(lockt):
    prop = property_create()
    account = lockt_account(prop, base_url=lockt.url)
    run = _poll(account)
    assert run.status == "succeeded", run.error
    assert run.created > 0 and account.status == "ok"
    susan = _linked(account, User, 1693)
    assert (susan.display_name, susan.email) == ("Susan3 Brown3", "susan.brown@web.place")
    office = _linked(account, UserGroup, 364)
    assert office.display_name == "Office Doors" and office.property == prop
    assert Membership.objects.filter(user=susan, user_group=office).exists()
    room1 = _linked(account, Lock, 187)
    assert room1.display_name == "Room 1" and room1.property == prop
    assert room1.area.display_name == "Room 1" and room1.area.area_type == "common"
    assert (room1.health.source, room1.health.battery_level) == ("lockt", 64)  # /doorstate 0.64
    weekdays = _linked(account, Schedule, 543)
    assert {"accessType": "group", "userGroupId": str(office.pk), "scheduleId": str(weekdays.pk)} in (
        room1.area.access_list
    )
    assert weekdays.windows == [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "stop": "17:00"}]
    # Each door in its own area; the privileged user is not in GET /user.
    assert Lock.objects.filter(property=prop).count() == 8
    assert not User.objects.filter(email="alice.admin@web.place").exists()


def test_an_unchanged_poll_writes_only_the_poll_time(lockt):
    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    with CaptureQueriesContext(connection) as queries:
        run = _poll(account)
    assert run.status == "succeeded", run.error
    assert (run.created, run.updated) == (0, 0) and run.unchanged > 0
    tables = _writes(queries.captured_queries)
    assert tables == ["integrations_integrationaccount"], tables  # the poll time: no run, no event


def test_events_become_access_logs_once(lockt):
    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    answer = lockt.control(
        "POST",
        "events",
        {
            "events": [
                {"code": 48, "device": "Room 1", "hw_time": "2026-01-05 10:00:00"},
                {"code": 49, "device": "Room 2"},
            ]
        },
    )
    assert answer.status_code == 200, answer.content
    run = _poll(account)
    assert run.created == 2
    room1 = _linked(account, Lock, 187)
    log = LockAccessLog.objects.get(lock=room1)
    assert log.result == "granted" and log.access_date.isoformat() == "2026-01-05T10:00:00+00:00"
    assert LockAccessLog.objects.get(lock=_linked(account, Lock, 446)).result == "denied"
    _poll(account)
    assert LockAccessLog.objects.filter(lock__property=account.property).count() == 2


def test_a_user_removed_in_lockt_loses_access_here(lockt):
    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    rhea = _linked(account, User, 244)
    assert Membership.objects.filter(user=rhea).exists()
    assert lockt.delete("user", {"users": [{"id": 244}]}).status_code == 200
    run = _poll(account)
    assert run.status == "succeeded" and run.updated >= 1
    rhea.refresh_from_db()
    assert not Membership.objects.filter(user=rhea).exists()
    assert rhea.type_state == "deleted"  # the sync made the person and nothing else holds them
    assert not LocktRecord.objects.filter(account=account, kind="user", external_id="244").exists()


def test_disabled_in_lockt_is_blocked_here_and_lifted_when_enabled(lockt):
    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    put = {"users": [{"id": 1693, "enabled": "false"}], "options": {"replace_privileges": "false"}}
    assert lockt.put("user", put).status_code == 200
    _poll(account)
    susan = _linked(account, User, 1693)
    assert AccessBlock.objects.filter(user=susan, property=account.property).exists()
    put["users"][0]["enabled"] = "true"
    assert lockt.put("user", put).status_code == 200
    _poll(account)
    assert not AccessBlock.objects.filter(user=susan).exists()


def test_lockt_owned_copies_are_overwritten_by_the_poll(lockt):
    from apps.access import services as access_services
    from apps.accounts import services as account_services

    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    susan = _linked(account, User, 1693)
    office = _linked(account, UserGroup, 364)
    account_services.user_update(user=susan, display_name="Someone Else", actor="test")
    access_services.membership_remove(group=office, user=susan, actor="test")
    run = _poll(account)
    assert run.updated >= 1
    susan.refresh_from_db()
    assert susan.display_name == "Susan3 Brown3"
    assert Membership.objects.filter(user=susan, user_group=office).exists()
    # A membership taken away alone (her record unchanged in Lockt) is put back too.
    access_services.membership_remove(group=office, user=susan, actor="test")
    assert _poll(account).updated == 1
    assert Membership.objects.filter(user=susan, user_group=office).exists()


def test_levels_without_schedules_fail_closed_naming_the_field(lockt):
    lockt.control("POST", "switches", {"accesslevel_doors_schedule_id": False})
    account = lockt_account(property_create(), base_url=lockt.url)
    run = _poll(account)
    assert run.status == "succeeded" and run.failed >= 1
    record = LocktRecord.objects.get(account=account, kind="group", external_id="364")
    assert (record.status, record.error_field) == ("failed", "doors[0].schedule_id")
    office = _linked(account, UserGroup, 364)
    assert not any(e.get("userGroupId") == str(office.pk) for e in _linked(account, Lock, 187).area.access_list)
    link = ExternalRef.objects.get(account_id=account.pk, object_id=office.pk)
    assert link.sync_status == "failed"


def test_bad_remote_records_fail_alone_and_never_duplicate():
    prop = property_create()
    existing = user_create(email="taken@web.place", display_name="Already Here")
    account = lockt_account(prop, base_url="https://cloudapi.lockt.com/api/v1")
    users = [
        {"id": 1, "first_name": "Bad", "last_name": "Mail", "email": "not-an-email", "accesslevels": []},
        {"id": 2, "name": "Fob 1A"},  # fob-shaped (A29)
        {"id": 3, "first_name": "Un", "last_name": "Known", "email": "u@web.place", "accesslevels": [{"id": 999}]},
        {"id": 4, "first_name": "Good", "last_name": "One", "email": "good@web.place", "id_num": "X1"},
        {"id": 5, "first_name": "Dup", "last_name": "Idnum", "email": "dup@web.place", "id_num": "X1"},
        {"id": 6, "first_name": "Already", "last_name": "Here", "email": "TAKEN@web.place"},
    ]
    counts = LocktSync(account).run(schedules=[], doors=[], levels=[], users=users, events=[])
    assert (counts.created, counts.failed) == (2, 4)
    failed = {r.external_id: r for r in LocktRecord.objects.filter(account=account, status="failed")}
    assert (failed["1"].error_field, failed["1"].error_value) == ("email", "'not-an-email'")
    assert failed["2"].error_field == "name"
    assert failed["3"].error_field == "accesslevels[0]"
    assert failed["5"].error_field == "id_num" and "another Lockt user (4)" in failed["5"].error_reason
    assert User.objects.filter(email="taken@web.place").count() == 1  # linked, not duplicated
    assert _linked(account, User, 6) == existing
    # Once fixed remotely, the record applies and its failure clears.
    users[0]["email"] = "bad.mail@web.place"
    LocktSync(account).run(schedules=[], doors=[], levels=[], users=users, events=[])
    assert LocktRecord.objects.get(account=account, external_id="1").status == "synced"


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ({"kind": "unauthorized"}, "needs_reauth"),
        ({"kind": "instance_error"}, "backing_off"),
        ({"kind": "malformed_json"}, "backing_off"),
        ({"kind": "timeout", "delay": 2}, "backing_off"),
    ],
)
def test_a_broken_account_delays_no_other(lockt, client, settings, fault, status):
    settings.KEYHOUSE_INTEGRATION_READ_TIMEOUT = 1
    settings.KEYHOUSE_INTEGRATION_HTTP_RETRIES = 0
    other = {"apiuser": "second-instance-user", "apikey": "second-instance-key"}
    created = client.generic(
        "POST",
        "/_emulators/lockt/_control/instances",
        f'{{"apiuser": "{other["apiuser"]}", "apikey": "{other["apikey"]}", "seed": "doc"}}',
        content_type="application/json",
    )
    assert created.status_code in (201, 409), created.content
    broken_remote = Lockt(client, apiuser=other["apiuser"], apikey=other["apikey"])
    assert broken_remote.control("POST", "faults", fault).status_code in (200, 201)
    broken = lockt_account(property_create(), base_url=lockt.url, display_name="Broken", credentials=other)
    good = lockt_account(property_create(), base_url=lockt.url, display_name="Good")
    _poll(broken)
    _poll(good)
    broken_remote.control("DELETE", "faults")
    assert broken.status == status and broken.last_error
    assert not ExternalRef.objects.filter(account_id=broken.pk).exists()
    assert good.status == "ok" and ExternalRef.objects.filter(account_id=good.pk).count() > 10


def test_a_user_removed_in_lockt_is_refused_at_the_locks_next_sync(lockt, world):  # noqa: F811
    """The reference lock (tests/locks/reference_lock.py) on a Lockt door's area: a Lockt user's
    phone is in its key map; Lockt deletes the user; after the next poll and lock sync it is not."""
    account = lockt_account(world.prop, base_url=lockt.url)
    _poll(account)
    room1 = _linked(account, Lock, 187)
    response = world.manager.put(
        f"/api/v1/properties/{world.prop.pk}/areas/{room1.area_id}/install/{world.lock.lock_id}", {}, format="json"
    )
    assert response.status_code == 200, response.content
    world.lock.apply_command(response.json())
    susan = _linked(account, User, 1693)
    phone = Phone.provision(susan)
    settle()
    assert world.sync().status_code == 200
    assert phone.access.kid in {e["kid"] for e in world.lock.key_map["entries"]}

    assert lockt.delete("user", {"users": [{"id": 1693}]}).status_code == 200
    assert _poll(account).status == "succeeded"
    settle()
    assert world.sync().status_code == 200
    assert phone.access.kid not in {e["kid"] for e in world.lock.key_map["entries"]}
    assert world.lock.unlock(phone.proof(world.lock.challenge(), at=world.lock.now())) == (False, "unknown-key")


def _remote_by_id_num(lockt, id_num):
    found = lockt.data(f"user?id_num={id_num}")
    return found[0] if found else None


def test_keyhouse_people_in_lockt_groups_are_pushed_and_kept_as_keyhouse_says(lockt):
    from apps.access import services as access_services
    from apps.accounts import services as account_services

    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    office = _linked(account, UserGroup, 364)
    ada = user_create(email="ada@example.test", display_name="Ada Lovelace", phone_number="+14155550123")
    access_services.membership_add(group=office, user=ada, actor="test")
    run = _poll(account)
    assert run.status == "succeeded" and run.created >= 1, run.error
    remote = _remote_by_id_num(lockt, str(ada.pk))
    assert (remote["first_name"], remote["last_name"], remote["email"]) == ("Ada", "Lovelace", "ada@example.test")
    assert [level["unid"] for level in remote["accesslevels"]] == [364]
    link = ExternalRef.objects.get(account_id=account.pk, object_id=ada.pk)
    assert (link.external_id, link.sync_direction) == (str(remote["id"]), "fromInternalToExternal")

    # Edited in Lockt: Keyhouse owns Ada, so the next poll puts Keyhouse's values back.
    edited = {**{k: remote[k] for k in ("id", "id_num", "email", "phone", "pin")}, "first_name": "Eve"}
    edited["last_name"] = "Lovelace"
    body = {"users": [edited], "options": {"update_existing": "true", "replace_privileges": "false"}}
    assert lockt.post("user", body).status_code == 200
    _poll(account)
    assert _remote_by_id_num(lockt, str(ada.pk))["first_name"] == "Ada"
    ada.refresh_from_db()
    assert ada.display_name == "Ada Lovelace"  # the poll did not take Lockt's edit

    # Renamed in Keyhouse: pushed. Then nothing changes: nothing is written.
    account_services.user_update(user=ada, display_name="Ada King", actor="test")
    _poll(account)
    assert _remote_by_id_num(lockt, str(ada.pk))["last_name"] == "King"
    _poll(account)
    with CaptureQueriesContext(connection) as queries:
        run = _poll(account)
    assert (run.created, run.updated, run.failed) == (0, 0, 0)
    assert set(_writes(queries.captured_queries)) <= {
        "integrations_syncrun",
        "integrations_integrationaccount",
        "events_event",
    }

    # Out of every Lockt group: deleted in Lockt, unlinked; the person stays in Keyhouse.
    access_services.membership_remove(group=office, user=ada, actor="test")
    _poll(account)
    assert _remote_by_id_num(lockt, str(ada.pk)) is None
    assert not ExternalRef.objects.filter(account_id=account.pk, object_id=ada.pk).exists()
    ada.refresh_from_db()
    assert ada.type_state != "deleted"


def test_a_keyhouse_person_without_a_phone_is_not_pushed_and_says_why(lockt):
    from apps.access import services as access_services

    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    bob = user_create(email="bob@example.test", display_name="Bob")
    access_services.membership_add(group=_linked(account, UserGroup, 364), user=bob, actor="test")
    run = _poll(account)
    assert run.status == "succeeded" and run.failed >= 1
    record = LocktRecord.objects.get(account=account, external_id=f"keyhouse:{bob.pk}")
    assert record.status == "failed" and record.error_field == "phone"
    assert _remote_by_id_num(lockt, str(bob.pk)) is None
    with CaptureQueriesContext(connection) as queries:
        _poll(account)  # still no phone: nothing new to write
    assert set(_writes(queries.captured_queries)) <= {
        "integrations_syncrun",
        "integrations_integrationaccount",
        "events_event",
    }


def test_manage_py_integration_poll_runs_the_sync_for_one_account(lockt):
    from io import StringIO

    from django.core.management import call_command

    first = lockt_account(property_create(display_name="Harbour House"), base_url=lockt.url, display_name="Harbour")
    second = lockt_account(property_create(), base_url=lockt.url, display_name="Other")
    out = StringIO()
    call_command("integration_poll", "lockt", "--account", str(first.pk), stdout=out)
    # 7 more than the users, groups and locks: the credentials and fobs
    assert "Harbour (Harbour House): succeeded, fetched 34, created 27" in out.getvalue()
    assert ExternalRef.objects.filter(account_id=first.pk).count() > 10
    assert not ExternalRef.objects.filter(account_id=second.pk).exists()


def test_a_delegate_is_a_time_bound_grant_on_its_doors_to_its_holder(lockt):
    from apps.access.models import AccessGrant

    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    assert not AccessGrant.objects.filter(property=account.property).exists()  # the seed's expired in 2022
    delegate = {
        "from_user_id": "1693",
        "to_user_id": "244",
        "access_effective": "2030-01-01 08:00:00",
        "access_expires": "2030-01-02 08:00:00",
        "doors": [{"id": 166}],
    }
    assert lockt.post("delegate", {"delegates": [delegate]}).status_code == 200
    run = _poll(account)
    assert run.created == 1, run.error
    grant = AccessGrant.objects.get(property=account.property)
    assert (grant.user, grant.lock, grant.access_level) == (
        _linked(account, User, 244),
        _linked(account, Lock, 166),
        "GUEST",
    )
    assert (grant.valid_from.isoformat(), grant.valid_until.isoformat()) == (
        "2030-01-01T08:00:00+00:00",
        "2030-01-02T08:00:00+00:00",
    )
    assert _poll(account).created == 0  # unchanged: the same grant
    # Rhea deleted in Lockt: her delegate grant is revoked with the rest of her access.
    assert lockt.delete("user", {"users": [{"id": 244}]}).status_code == 200
    _poll(account)
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_new_people_come_in_batches_and_a_refused_batch_fails_only_its_bad_record():
    """New people are created in batches (one transaction, one membership event); when the
    batch is refused (here a name longer than Keyhouse keeps), each record is applied alone."""
    from apps.events.models import Event

    prop = property_create()
    account = lockt_account(prop, base_url="https://cloudapi.lockt.com/api/v1")
    levels = [{"id": 11, "name": "Front", "doors": []}]
    users = [
        {"id": n, "first_name": f"P{n}", "last_name": "B", "email": f"p{n}@web.place", "accesslevels": [{"id": 11}]}
        for n in range(1, 6)
    ]
    counts = LocktSync(account).run(schedules=[], doors=[], levels=levels, users=users, events=[])
    assert (counts.created, counts.failed) == (6, 0)  # the level and five people
    group = _linked(account, UserGroup, 11)
    assert Membership.objects.filter(user_group=group).count() == 5
    assert Event.objects.filter(event_name="group.members_added", user_group_id=None).count() == 1
    (linked,) = Event.objects.filter(event_name="lockt_record.batch_linked")
    assert {link["externalId"] for link in linked.payload["links"]} == {"1", "2", "3", "4", "5"}

    more = [
        {"id": 6, "first_name": "A" * 250, "last_name": "Long", "email": "long@web.place", "accesslevels": []},
        {"id": 7, "first_name": "Fine", "last_name": "Too", "email": "fine@web.place", "accesslevels": [{"id": 11}]},
    ]
    counts = LocktSync(account).run(schedules=[], doors=[], levels=levels, users=users + more, events=[])
    assert (counts.created, counts.failed) == (1, 1)
    assert LocktRecord.objects.get(account=account, external_id="6").error_field == "display_name"
    assert not User.objects.filter(email="long@web.place").exists()
    assert Membership.objects.filter(user_group=group, user=_linked(account, User, 7)).exists()


def test_new_doors_come_in_batches_as_one_by_one_and_a_refused_batch_fails_only_its_bad_record():
    """New doors are created in one transaction per batch, each with the area, area group, lock
    and events one door alone gets (a disabled door's lock inactive); when the batch is refused
    (a name longer than Keyhouse keeps), each record is applied alone."""
    from apps.areas.models import Area
    from apps.events.models import Event

    prop = property_create()
    account = lockt_account(prop, base_url="https://cloudapi.lockt.com/api/v1")
    doors = [{"id": 501, "name": "Front Door"}, {"id": 502, "name": "Bike Room", "enabled": False}]
    counts = LocktSync(account).run(schedules=[], doors=doors, levels=[], users=[], events=[])
    assert (counts.created, counts.failed) == (2, 0)
    front, bikes = _linked(account, Lock, 501), _linked(account, Lock, 502)
    assert (front.display_name, front.type_state, bikes.type_state) == ("Front Door", "active", "inactive")
    area = front.area
    assert (area.display_name, area.area_type, area.parent_id, area.property_id) == (
        "Front Door",
        "common",
        None,
        prop.pk,
    )
    assert ExternalRef.objects.get(account_id=account.pk, external_id="501", object_id=area.pk)  # the area's link
    assert UserGroup.objects.get(area=area).display_name == "Front Door members"
    assert front.install_date is not None and front.command_sequence == 2  # created, then installed
    names = sorted(Event.objects.filter(lock_id=bikes.pk).values_list("event_name", flat=True))
    assert names == ["lock.installed", "lock.provisioned", "lock.updated"]
    assert Event.objects.filter(event_name="area.created", area_id=area.pk).count() == 1
    (linked,) = Event.objects.filter(event_name="lockt_record.batch_linked")
    assert {link["externalId"] for link in linked.payload["links"]} == {"501", "502"}
    assert LocktRecord.objects.get(account=account, kind="lock", external_id="501").created_here

    more = [{"id": 503, "name": "D" * 250}, {"id": 504, "name": "Gym"}]
    counts = LocktSync(account).run(schedules=[], doors=doors + more, levels=[], users=[], events=[])
    assert (counts.created, counts.failed, counts.unchanged) == (1, 1, 2)
    assert LocktRecord.objects.get(account=account, external_id="503").error_field == "display_name"
    assert not Area.objects.filter(display_name="D" * 250).exists()
    assert _linked(account, Lock, 504).area.display_name == "Gym"
    # the next poll changes nothing
    counts = LocktSync(account).run(schedules=[], doors=doors + more, levels=[], users=[], events=[])
    assert (counts.created, counts.updated) == (0, 0)


def test_a_lockt_users_expiry_denies_at_that_instant_without_another_poll(lockt):
    import datetime as dt

    from apps.access import selectors

    account = lockt_account(property_create(), base_url=lockt.url)  # the property's zone: UTC
    _poll(account)
    put = {"users": [{"id": 1693, "access_expires": "2030-01-09 12:00:00"}], "options": {"replace_privileges": "false"}}
    assert lockt.put("user", put).status_code == 200
    assert _poll(account).updated == 1
    susan, office, room1 = _linked(account, User, 1693), _linked(account, UserGroup, 364), _linked(account, Lock, 187)
    expiry = dt.datetime(2030, 1, 9, 12, tzinfo=dt.UTC)  # a Wednesday, inside Weekdays 08:00-17:00
    assert Membership.objects.get(user=susan, user_group=office).valid_until == expiry  # kept, bounded
    settle()

    def allowed(at):
        return selectors.access_explain(prop=account.property, user=susan, lock=room1, at=at)["allowed"]

    assert allowed(expiry - dt.timedelta(minutes=1)) and not allowed(expiry + dt.timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:  # the window applied: an unchanged poll again
        run = _poll(account)
    assert (run.created, run.updated) == (0, 0)
    assert _writes(queries.captured_queries) == ["integrations_integrationaccount"]

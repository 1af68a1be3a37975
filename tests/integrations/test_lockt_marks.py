"""Groups and locks marked for Lockt, pushed by the poll: the real client and poll against the
Lockt emulator over a live server (docs/INTEGRATIONS.md "Lockt push")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.access import services as access_services
from apps.access.models import Schedule, UserGroup
from apps.areas.models import Area
from apps.integrations.lockt.marks import lockt_mark_clear, lockt_mark_set
from apps.integrations.models import LocktMark, LocktRecord
from apps.locks import services as lock_services
from apps.locks.models import Lock
from tests.factories.directory import property_create, user_create
from tests.factories.integrations import lockt_account
from tests.integrations import test_lockt_sync
from tests.integrations.test_lockt_sync import _linked, _poll, _remote_by_id_num, _writes

pytestmark = pytest.mark.django_db(transaction=True)

lockt = test_lockt_sync.lockt  # the example instance on a live server, as the sync tests use it

QUIET = {"integrations_syncrun", "integrations_integrationaccount", "events_event"}


def _keyhouse_lock(prop, name):
    area = access_services.area_create(prop=prop, display_name=name, area_type="common", actor="test")
    lock = lock_services.lock_create(display_name=name, prop=prop, actor="test")
    return lock_services.lock_install(lock=lock, area=area, actor="test")


def _grant(area, group, schedule):
    entries = [*area.access_list, {"accessType": "group", "userGroupId": str(group.pk), "scheduleId": str(schedule.pk)}]
    access_services.area_update(area=Area.objects.get(pk=area.pk), access_list=entries, actor="test")


def _level(lockt, name):
    return next((level for level in lockt.data("accesslevel") if level["name"] == name), None)


def _door(lockt, name):
    return next((door for door in lockt.data("door") if door["name"] == name), None)


@pytest.fixture
def gym(lockt):
    """A polled account, a Keyhouse lock "Gym" and a Keyhouse group "Gym club" with Ada in it,
    granted on Gym and on Lockt's Room 1 on a weekday schedule made in Keyhouse (Lockt has the
    same one: 543, 08:00:00–16:59:59 Mon–Fri)."""
    prop = property_create()
    account = lockt_account(prop, base_url=lockt.url)
    assert _poll(account).status == "succeeded"
    gym_lock = _keyhouse_lock(prop, "Gym")
    group = access_services.user_group_create(prop=prop, display_name="Gym club", group_type="common", actor="test")
    weekdays = access_services.schedule_create(
        prop=prop,
        display_name="Office hours",
        windows=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "stop": "17:00"}],
        actor="test",
    )
    _grant(gym_lock.area, group, weekdays)
    _grant(_linked(account, Lock, 187).area, group, weekdays)
    ada = user_create(email="ada@example.test", display_name="Ada Lovelace", phone_number="+14155550123")
    access_services.membership_add(group=group, user=ada, actor="test")
    return account, prop, gym_lock, group, ada


def test_marked_lock_and_group_are_pushed_with_their_doors_schedules_and_members(lockt, gym):
    account, prop, gym_lock, group, ada = gym
    lock_mark = lockt_mark_set(account=account, lock=gym_lock, actor="test")
    group_mark = lockt_mark_set(account=account, group=group, actor="test")
    run = _poll(account)
    assert run.status == "succeeded", run.error

    door = _door(lockt, "Gym")
    level = _level(lockt, "Gym club")
    assert door is not None and level is not None
    assert sorted((d["id"], d["schedule_id"]) for d in level["doors"]) == [(187, 543), (door["id"], 543)]
    assert [lv["unid"] for lv in _remote_by_id_num(lockt, str(ada.pk))["accesslevels"]] == [level["id"]]
    lock_mark.refresh_from_db()
    group_mark.refresh_from_db()
    assert (lock_mark.state, lock_mark.external_id) == ("pushed", str(door["id"]))
    assert (group_mark.state, group_mark.external_id) == ("pushed", str(level["id"]))

    # The polls after it do not take them for new Lockt-owned objects.
    _poll(account)
    assert Lock.objects.filter(property=prop, display_name="Gym").count() == 1
    assert UserGroup.objects.filter(property=prop, display_name="Gym club").count() == 1
    assert not LocktRecord.objects.filter(account=account, external_id__in=[str(door["id"]), str(level["id"])])
    assert group.members.filter(pk=ada.pk).exists()

    # Nothing changed: nothing pushed, nothing written but the poll's bookkeeping.
    with CaptureQueriesContext(connection) as queries:
        run = _poll(account)
    assert (run.created, run.updated, run.failed) == (0, 0, 0)
    assert set(_writes(queries.captured_queries)) <= QUIET, _writes(queries.captured_queries)
    assert _level(lockt, "Gym club")["id"] == level["id"]


def test_a_changed_group_is_deleted_and_recreated_and_its_members_follow(lockt, gym):
    account, prop, gym_lock, group, ada = gym
    lockt_mark_set(account=account, lock=gym_lock, actor="test")
    lockt_mark_set(account=account, group=group, actor="test")
    _poll(account)
    old = _level(lockt, "Gym club")

    access_services.user_group_update(group=group, display_name="Gym and pool", actor="test")
    run = _poll(account)
    assert run.status == "succeeded", run.error
    assert _level(lockt, "Gym club") is None
    new = _level(lockt, "Gym and pool")
    assert new is not None and new["id"] != old["id"]
    assert sorted(d["id"] for d in new["doors"]) == sorted(d["id"] for d in old["doors"])
    assert [lv["unid"] for lv in _remote_by_id_num(lockt, str(ada.pk))["accesslevels"]] == [new["id"]]

    # An entry removed in Keyhouse: the level again, without Room 1.
    room1 = _linked(account, Lock, 187).area
    access_services.area_update(
        area=room1, access_list=[e for e in room1.access_list if e.get("userGroupId") != str(group.pk)], actor="test"
    )
    _poll(account)
    again = _level(lockt, "Gym and pool")
    assert [d["id"] for d in again["doors"]] == [_door(lockt, "Gym")["id"]]
    assert [lv["unid"] for lv in _remote_by_id_num(lockt, str(ada.pk))["accesslevels"]] == [again["id"]]


def test_a_schedule_lockt_lacks_fails_the_group_naming_it_and_the_poll_goes_on(lockt, gym):
    account, prop, gym_lock, group, ada = gym
    night = access_services.schedule_create(
        prop=prop,
        display_name="Night shift",
        windows=[{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "22:00", "stop": "06:00"}],
        actor="test",
    )
    _grant(gym_lock.area, group, night)
    lock_mark = lockt_mark_set(account=account, lock=gym_lock, actor="test")
    group_mark = lockt_mark_set(account=account, group=group, actor="test")
    run = _poll(account)
    assert run.status == "succeeded" and run.failed >= 1, run.error
    group_mark.refresh_from_db()
    lock_mark.refresh_from_db()
    assert group_mark.state == "failed" and "Night shift" in group_mark.reason, group_mark.reason
    assert lock_mark.state == "pushed"  # the rest of the push went on
    assert _level(lockt, "Gym club") is None
    with CaptureQueriesContext(connection) as queries:
        _poll(account)  # still failing for the same reason: nothing new written
    assert set(_writes(queries.captured_queries)) <= QUIET


def test_unmarking_deletes_lockt_copies_and_keeps_keyhouse_objects(lockt, gym):
    account, prop, gym_lock, group, ada = gym
    lock_mark = lockt_mark_set(account=account, lock=gym_lock, actor="test")
    group_mark = lockt_mark_set(account=account, group=group, actor="test")
    _poll(account)
    assert lockt_mark_clear(mark=group_mark, actor="test").state == "removing"
    lockt_mark_clear(mark=lock_mark, actor="test")
    _poll(account)
    assert _level(lockt, "Gym club") is None and _door(lockt, "Gym") is None
    assert not LocktMark.objects.filter(account=account).exists()
    assert Lock.objects.filter(pk=gym_lock.pk).exclude(type_state="deleted").exists()
    assert _remote_by_id_num(lockt, str(ada.pk)) is None  # in no Lockt group any more


def test_lockt_owned_and_other_property_objects_are_refused_naming_the_field(lockt):
    from apps.core.exceptions import ApplicationError

    prop = property_create()
    account = lockt_account(prop, base_url=lockt.url)
    _poll(account)
    other = access_services.user_group_create(
        prop=property_create(), display_name="Elsewhere", group_type="common", actor="test"
    )
    for kwargs, field in (
        ({"group": _linked(account, UserGroup, 364)}, "groupId"),
        ({"group": other}, "groupId"),
        ({"lock": _linked(account, Lock, 187)}, "lockId"),
    ):
        with pytest.raises(ApplicationError) as refused:
            lockt_mark_set(account=account, actor="test", **kwargs)
        assert field in refused.value.fields
    assert not LocktMark.objects.exists()
    assert Schedule.objects.filter(property=prop).exists()


MARKS = "/api/v1/integrations/accounts/{}/marks"


def test_api_marks_lists_and_unmarks_scoped_and_refuses_naming_the_field(lockt, gym):
    from apps.core.principal import Grant
    from tests.factories.accounts import key_client
    from tests.factories.directory import ok, refused

    account, prop, gym_lock, group, ada = gym
    url = MARKS.format(account.pk)
    client = key_client(Grant("manage-access", property_id=prop.pk))
    before = LocktMark.objects.count()
    lockt_owned = _linked(account, UserGroup, 364)
    elsewhere = access_services.user_group_create(
        prop=property_create(), display_name="Elsewhere", group_type="common", actor="test"
    )
    for body, field in (
        ({"groupId": str(lockt_owned.pk)}, "groupId"),
        ({"groupId": str(elsewhere.pk)}, "groupId"),
        ({"groupId": str(group.pk), "lockId": str(gym_lock.pk)}, "groupId"),
        ({}, "groupId"),
        ({"lockId": "not-a-uuid"}, "lockId"),
    ):
        answer = refused(client.post(url, body, format="json"), 400)
        assert field in answer["data"]["fields"], (body, answer)
    assert LocktMark.objects.count() == before
    stranger = key_client(Grant("owner", property_id=property_create().pk))
    refused(stranger.post(url, {"lockId": str(gym_lock.pk)}, format="json"), 404)
    refused(stranger.get(url), 404)
    assert LocktMark.objects.count() == before

    made = client.post(url, {"lockId": str(gym_lock.pk)}, format="json")
    assert made.status_code == 202, made.content
    assert made.json()["data"]["name"] == "Gym" and made.json()["data"]["kind"] == "lock"
    client.post(url, {"groupId": str(group.pk)}, format="json")
    _poll(account)
    marks = {m["name"]: m for m in ok(client.get(url))["marks"]}
    assert marks["Gym"]["state"] == "pushed" and marks["Gym"]["externalId"] == str(_door(lockt, "Gym")["id"])
    assert marks["Gym club"]["state"] == "pushed"
    gone = client.delete(f"{url}/{marks['Gym club']['markId']}")
    assert gone.status_code == 202 and gone.json()["data"]["state"] == "removing"
    _poll(account)
    assert _level(lockt, "Gym club") is None
    assert [m["name"] for m in ok(client.get(url))["marks"]] == ["Gym"]


def test_admin_marks_page_shows_state_and_reason_by_name_to_its_property_only(lockt, gym, client):
    from django.test import Client

    from tests.integrations.test_lockt_credentials import _manager, _page

    account, prop, gym_lock, group, ada = gym
    night = access_services.schedule_create(
        prop=prop,
        display_name="Night shift",
        windows=[{"days": ["sun"], "start": "22:00", "stop": "06:00"}],
        actor="test",
    )
    _grant(gym_lock.area, group, night)
    own = _manager(client, prop)
    assert own.get("/admin/integrations/locktmark/add/").status_code == 200
    added = own.post("/admin/integrations/locktmark/add/", {"account": str(account.pk), "group": str(group.pk)})
    assert added.status_code == 302, _page(added)[:2000]
    lockt_mark_set(account=account, lock=gym_lock, actor="test")
    _poll(account)
    listing = _page(own.get("/admin/integrations/locktmark/"))
    assert "Gym club" in listing and "Failed" in listing and "Night shift" in listing
    assert "Gym" in listing and "Pushed" in listing
    other = _manager(Client(), property_create(display_name="Elsewhere"))
    assert "Gym club" not in _page(other.get("/admin/integrations/locktmark/"))
    mark = LocktMark.objects.get(group=group)
    assert other.get(f"/admin/integrations/locktmark/{mark.pk}/change/").status_code in (302, 403, 404)


def test_an_entry_on_a_parent_area_reaches_the_marked_locks_below_it(lockt, gym):
    account, prop, gym_lock, group, ada = gym
    gym_area = gym_lock.area
    access_services.area_update(area=Area.objects.get(pk=gym_area.pk), access_list=[], actor="test")
    leisure = access_services.area_create(prop=prop, display_name="Leisure", area_type="common", actor="test")
    access_services.area_update(area=Area.objects.get(pk=gym_area.pk), parent_id=leisure.pk, actor="test")
    weekdays = Schedule.objects.get(property=prop, display_name="Office hours")
    _grant(leisure, group, weekdays)
    lockt_mark_set(account=account, lock=gym_lock, actor="test")
    lockt_mark_set(account=account, group=group, actor="test")
    _poll(account)
    level = _level(lockt, "Gym club")
    gym_door = _door(lockt, "Gym")["id"]
    assert sorted((d["id"], d["schedule_id"]) for d in level["doors"]) == sorted([(187, 543), (gym_door, 543)])


def test_a_renamed_lock_is_a_new_door_and_its_levels_follow_and_lockt_people_keep_keyhouse_groups(lockt, gym):
    account, prop, gym_lock, group, ada = gym
    from apps.accounts.models import User

    susan = _linked(account, User, 1693)  # Lockt-owned: Lockt says her levels
    access_services.membership_add(group=group, user=susan, actor="test")
    lockt_mark_set(account=account, lock=gym_lock, actor="test")
    lockt_mark_set(account=account, group=group, actor="test")
    _poll(account)
    old_door = _door(lockt, "Gym")["id"]

    lock_services.lock_update(lock=gym_lock, display_name="Gym hall", actor="test")
    run = _poll(account)
    assert run.status == "succeeded", run.error
    assert _door(lockt, "Gym") is None
    new_door = _door(lockt, "Gym hall")["id"]
    assert new_door != old_door
    level = _level(lockt, "Gym club")
    assert sorted(d["id"] for d in level["doors"]) == sorted([187, new_door])
    assert [lv["unid"] for lv in _remote_by_id_num(lockt, str(ada.pk))["accesslevels"]] == [level["id"]]
    _poll(account)
    assert group.members.filter(pk=susan.pk).exists()  # the poll did not strip Keyhouse's member
    assert Lock.objects.filter(property=prop, display_name__in=["Gym", "Gym hall"]).count() == 1

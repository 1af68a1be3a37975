"""Access-model API extensions over HTTP: schedules, grants, blocks, derived access, explain,
what-if; and their isolation (no key 401, other property 404, no permission 403)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessGrant, Schedule, UserAccessMap
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import access as a
from tests.factories import directory as d

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "correct horse battery"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


@pytest.fixture
def tower():
    """Tower (resident) with Unit 1 (resident) and the Lobby (common), a door each; the
    Residents group is on Tower's access list; Alice lives in Unit 1. Time zone New York."""
    prop = d.property_create(display_name="Tower", time_zone="America/New_York")
    residents = d.property_group(prop, "resident")
    building = d.area_create(
        prop, display_name="Tower", access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}]
    )
    unit1 = d.area_create(prop, display_name="Unit 1", parent=building)
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=building)
    alice = d.user_create(display_name="Alice", email="alice@example.test", password=PASSWORD)
    d.member_add(residents, alice)
    d.member_add(unit1.area_user_group, alice)
    door1, lobby_door = a.lock_in(unit1, "Unit 1 door"), a.lock_in(lobby, "Lobby door")
    a.process_events()
    return prop, residents, building, unit1, lobby, alice, door1, lobby_door


@pytest.fixture
def manager(client_for, tower):
    return client_for(Grant("manage-access", property_id=tower[0].pk))[0]


def _url(prop, rest=""):
    return f"/api/v1/properties/{prop.pk}{rest}"


def test_schedule_crud_names_bad_windows_and_refuses_deleting_one_in_use(manager, tower):
    prop, residents, building, *_ = tower
    body = {"displayName": "Office hours", "windows": [{"days": WEEKDAYS, "start": "08:00", "stop": "25:00"}]}
    error = d.refused(manager.post(_url(prop, "/schedules"), body, format="json"), 400)
    assert error["error"].startswith("windows[0].stop: ")
    assert not Schedule.objects.exists()

    body["windows"][0]["stop"] = "18:00"
    created = d.ok(manager.post(_url(prop, "/schedules"), body, format="json"))
    assert created["windows"] == [{"days": WEEKDAYS, "start": "08:00", "stop": "18:00"}]
    assert created["propertyId"] == str(prop.pk) and created["validFrom"] is None
    schedule_url = _url(prop, f"/schedules/{created['scheduleId']}")
    assert d.ok(manager.get(schedule_url))["displayName"] == "Office hours"
    listed = d.ok(manager.get(_url(prop, "/schedules")))
    assert [s["scheduleId"] for s in listed["schedules"]] == [created["scheduleId"]]

    entries = [{"accessType": "group", "userGroupId": str(residents.pk), "scheduleId": created["scheduleId"]}]
    access_services.area_update(area=building, access_list=entries, actor=SYSTEM)
    refused = d.refused(manager.delete(schedule_url), 409)
    assert refused["data"]["blockedBy"] == {"areaIds": [str(building.pk)]}

    access_services.area_update(area=building, access_list=[], actor=SYSTEM)
    assert d.ok(manager.delete(schedule_url))["typeState"] == "deleted"
    d.refused(manager.get(schedule_url), 404)


def test_a_manager_grants_a_guest_who_then_appears_in_the_lock_access(manager, tower):
    prop, *_, door1, lobby_door = tower
    guest = d.user_create(display_name="Guest")
    d.group_create(prop, display_name="Visitors", group_type="common", members=[guest])  # known at the Tower
    body = {"userId": str(guest.pk), "lockId": str(door1.pk), "accessLevel": "GUEST"}
    assert d.refused(manager.post(_url(prop, "/grants"), body, format="json"), 400)["error"].startswith("validUntil")

    body["validUntil"] = (timezone.now() + timedelta(days=2)).isoformat()
    grant = d.ok(manager.post(_url(prop, "/grants"), body, format="json"))
    assert (grant["state"], grant["accessLevel"], grant["lockId"]) == ("active", "GUEST", str(door1.pk))
    a.process_events()

    lines = d.ok(manager.get(_url(prop, f"/locks/{door1.pk}/access")))
    assert {"kind": "user", "subjectId": str(guest.pk)}.items() <= next(
        line for line in lines["lines"] if line["kind"] == "user"
    ).items()
    access = d.ok(manager.get(_url(prop, f"/users/{guest.pk}/access")))
    assert [e["lockId"] for e in access["entries"]] == [str(door1.pk)]
    assert access["accessMapVersion"] == 1

    revoked = d.ok(manager.delete(_url(prop, f"/grants/{grant['grantId']}")))
    assert revoked["state"] == "revoked"
    a.process_events()
    assert d.ok(manager.get(_url(prop, f"/users/{guest.pk}/access")))["entries"] == []


def _signed_in(client, user):
    token = d.ok(client.post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json"))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token['token']}")
    return client


def test_a_lock_owner_may_grant_guests_but_not_owners_and_a_resident_may_grant_nothing(tower):
    from rest_framework.test import APIClient

    prop, *_, alice, door1, lobby_door = tower
    owner = d.user_create(email="owner@example.test", password=PASSWORD)
    access_services.grant_create(prop=prop, user=owner, lock=door1, access_level="OWNER", actor=SYSTEM)
    friend = d.user_create()
    d.group_create(prop, display_name="Visitors", group_type="common", members=[friend])  # a person of the Tower
    until = (timezone.now() + timedelta(hours=3)).isoformat()
    as_owner = _signed_in(APIClient(), owner)

    guest = {"userId": str(friend.pk), "lockId": str(door1.pk), "accessLevel": "GUEST", "validUntil": until}
    created = d.ok(as_owner.post(_url(prop, "/grants"), guest, format="json"))
    assert created["grantedBy"] == f"user:{owner.pk}"
    promote = {**guest, "accessLevel": "OWNER"}
    assert "not OWNER" in d.refused(as_owner.post(_url(prop, "/grants"), promote, format="json"), 403)["error"]
    other_door = {**guest, "lockId": str(lobby_door.pk)}
    d.refused(as_owner.post(_url(prop, "/grants"), other_door, format="json"), 403)

    as_alice = _signed_in(APIClient(), alice)
    d.refused(as_alice.post(_url(prop, "/grants"), guest, format="json"), 403)
    # alice sees no grant she neither holds nor gave
    assert d.ok(as_alice.get(_url(prop, "/grants")))["grants"] == []
    d.refused(as_alice.delete(_url(prop, f"/grants/{created['grantId']}")), 404)
    # the grantor revokes what they gave
    assert d.ok(as_owner.delete(_url(prop, f"/grants/{created['grantId']}")))["state"] == "revoked"


def test_block_and_unblock(manager, tower):
    prop, *_, alice, door1, lobby_door = tower
    block = d.ok(manager.put(_url(prop, f"/blocks/{alice.pk}"), {"reason": "lease ended"}, format="json"))
    assert (block["userId"], block["reason"]) == (str(alice.pk), "lease ended")
    a.process_events()
    assert d.ok(manager.get(_url(prop, f"/users/{alice.pk}/access")))["entries"] == []
    assert [b["userId"] for b in d.ok(manager.get(_url(prop, "/blocks")))["blocks"]] == [str(alice.pk)]

    d.ok(manager.delete(_url(prop, f"/blocks/{alice.pk}")))
    a.process_events()
    assert a.locks_of(alice, prop) == {str(door1.pk), str(lobby_door.pk)}


def test_explain_gives_the_derivation_path_and_the_schedule_window(manager, tower):
    prop, residents, building, unit1, lobby, alice, door1, lobby_door = tower
    explained = d.ok(manager.get(_url(prop, "/access/explain"), {"userId": alice.pk, "lockId": lobby_door.pk}))
    assert explained["allowed"] is True and explained["blocked"] is False
    (path,) = explained["paths"]
    assert path["userGroupName"] == "Residents" and path["areaId"] == str(building.pk)
    assert path["steps"] == [
        "member of group 'Residents'",
        "access list entry #0 of area 'Tower'",
        "inherited by sub-area 'Lobby', where the lock is (a common area)",
    ]

    hours = access_services.schedule_create(
        prop=prop,
        display_name="Day",
        windows=[{"days": WEEKDAYS, "start": "08:00", "stop": "18:00"}],
        actor=SYSTEM,
    )
    entries = [{"accessType": "group", "userGroupId": str(residents.pk), "scheduleId": str(hours.pk)}]
    access_services.area_update(area=building, access_list=entries, actor=SYSTEM)
    # Monday 2026-11-23 07:00 New York = 12:00Z: before the window
    early = d.ok(
        manager.get(
            _url(prop, "/access/explain"),
            {"userId": alice.pk, "lockId": lobby_door.pk, "at": "2026-11-23T12:00:00Z"},
        )
    )
    assert early["allowed"] is False
    assert early["summary"] == "Denied: every path is outside its schedule or validity at that time."
    assert early["paths"][0]["steps"][-1] == "schedule 'Day': outside its windows (Mon–Fri 08:00–18:00)"
    noon = d.ok(
        manager.get(
            _url(prop, "/access/explain"), {"userId": alice.pk, "lockId": lobby_door.pk, "at": "2026-11-23T17:00:00Z"}
        )
    )
    assert noon["allowed"] is True and noon["at"] == "2026-11-23T17:00:00.000Z"

    visitor = d.user_create()
    d.group_create(prop, display_name="Visitors", group_type="common", members=[visitor])
    nobody = d.ok(manager.get(_url(prop, "/access/explain"), {"userId": visitor.pk, "lockId": door1.pk}))
    assert nobody["allowed"] is False and nobody["paths"] == []
    bad = d.refused(manager.get(_url(prop, "/access/explain"), {"userId": alice.pk}), 400)
    assert bad["error"] == "lockId: This field is required."


def test_what_if_reports_gains_and_losses_and_writes_nothing(manager, tower):
    prop, residents, building, unit1, lobby, alice, door1, lobby_door = tower
    bob = d.user_create()
    d.group_create(prop, display_name="Visitors", group_type="common", members=[bob])
    events, maps = Event.objects.count(), list(UserAccessMap.objects.values_list("user_id", "version"))

    result = d.ok(
        manager.post(
            _url(prop, "/access/what-if"),
            {
                "changes": [
                    {"change": "addMembership", "userGroupId": str(unit1.area_user_group.pk), "userId": str(bob.pk)},
                    {"change": "setAccessList", "areaId": str(building.pk), "accessList": []},
                ]
            },
            format="json",
        )
    )

    assert result["gains"] == [
        {"userId": str(bob.pk), "userDisplayName": bob.display_name, "lockId": str(door1.pk), "lockName": "Unit 1 door"}
    ]
    assert result["losses"] == [
        {"userId": str(alice.pk), "userDisplayName": "Alice", "lockId": str(lobby_door.pk), "lockName": "Lobby door"}
    ]
    assert Event.objects.count() == events
    assert list(UserAccessMap.objects.values_list("user_id", "version")) == maps
    assert not AccessGrant.objects.exists()

    bad = d.refused(
        manager.post(
            _url(prop, "/access/what-if"),
            {"changes": [{"change": "moveArea", "areaId": str(building.pk), "parentAreaId": str(unit1.pk)}]},
            format="json",
        ),
        400,
    )
    assert bad["error"] == "changes[0].parentAreaId: The move would put the area under itself."
    missing = d.refused(
        manager.post(_url(prop, "/access/what-if"), {"changes": [{"change": "block"}]}, format="json"), 400
    )
    assert "userId" in missing["error"]


ROUTES = [
    ("get", "/schedules"),
    ("post", "/schedules"),
    ("get", "/grants"),
    ("post", "/grants"),
    ("get", "/blocks"),
    ("put", "/blocks/{user}"),
    ("delete", "/blocks/{user}"),
    ("get", "/locks/{lock}/access"),
    ("get", "/users/{user}/access"),
    ("get", "/access/explain?userId={user}&lockId={lock}"),
    ("post", "/access/what-if"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_access_route_is_authenticated_and_scoped(client_for, tower, method, path, api_client):
    prop, *_, alice, door1, lobby_door = tower
    other = d.property_create()
    url = _url(prop, path.format(user=alice.pk, lock=door1.pk))
    other_key, _ = client_for(Grant("owner", property_id=other.pk))
    firmware_key, _ = client_for(Grant("manage-firmware"))
    support, _ = client_for(Grant("support", property_id=prop.pk))
    events = Event.objects.count()

    assert getattr(api_client, method)(url, {}, format="json").status_code == 401
    d.refused(getattr(other_key, method)(url, {}, format="json"), 404)
    d.refused(getattr(firmware_key, method)(url, {}, format="json"), 403)
    if method != "get":
        d.refused(getattr(support, method)(url, {}, format="json"), 403)
    assert Event.objects.count() == events


def test_a_schedule_exports_to_lockt_or_says_what_would_be_lost(manager, tower):
    prop = tower[0]
    one = access_services.schedule_create(
        prop=prop, display_name="Day", windows=[{"days": WEEKDAYS, "start": "08:00", "stop": "17:00"}], actor=SYSTEM
    )
    exported = d.ok(manager.get(_url(prop, f"/schedules/{one.pk}/export"), {"target": "lockt"}))
    assert exported["schedule"]["start"] == "08:00:00" and exported["schedule"]["stop"] == "16:59:59"
    assert [exported["schedule"][f"d{i}"] for i in range(7)] == [1, 1, 1, 1, 1, 0, 0]

    two = access_services.schedule_create(
        prop=prop,
        display_name="Split",
        windows=[
            {"days": WEEKDAYS, "start": "08:00", "stop": "12:00"},
            {"days": ["sat"], "start": "10:00", "stop": "14:00"},
        ],
        actor=SYSTEM,
    )
    refused = d.refused(manager.get(_url(prop, f"/schedules/{two.pk}/export"), {"target": "lockt"}), 409)
    assert "windows[1] (Sat 10:00–14:00) would be lost" in refused["error"]
    refused = d.refused(manager.get(_url(prop, f"/schedules/{one.pk}/export"), {"target": "smartphonekey"}), 409)
    assert refused["error"].startswith("target: ")


LOCK_LINE_SOURCE = r"(accessList:[0-9a-f-]{36}:\d+|areaGroup:[0-9a-f-]{36}|grant:[0-9a-f-]{36}|block:[0-9a-f-]{36})"
USER_ENTRY_SOURCE = rf"(group:[0-9a-f-]{{36}}\|{LOCK_LINE_SOURCE}|grant:[0-9a-f-]{{36}})"


def test_source_strings_follow_the_documented_grammar(manager, tower):
    """docs/ACCESS.md "Derived access": every `source` a client reads parses by that grammar,
    and the schema documents both (getLockAccess lines, getUserAccess entries)."""
    import re

    prop, *_, alice, door1, lobby_door = tower
    guest = d.user_create()
    d.group_create(prop, display_name="Visitors", group_type="common", members=[guest])
    until = (timezone.now() + timedelta(days=1)).isoformat()
    body = {"userId": str(guest.pk), "lockId": str(door1.pk), "accessLevel": "GUEST", "validUntil": until}
    d.ok(manager.post(_url(prop, "/grants"), body, format="json"))
    a.process_events()
    lines = [
        line["source"]
        for lock in (door1, lobby_door)
        for line in d.ok(manager.get(_url(prop, f"/locks/{lock.pk}/access")))["lines"]
    ]
    entries = [
        e["source"] for u in (alice, guest) for e in d.ok(manager.get(_url(prop, f"/users/{u.pk}/access")))["entries"]
    ]
    assert {s.split(":")[0] for s in lines} >= {"accessList", "areaGroup", "grant"}
    assert {s.split(":")[0] for s in entries} == {"group", "grant"}
    assert all(re.fullmatch(LOCK_LINE_SOURCE, s) for s in lines), lines
    assert all(re.fullmatch(USER_ENTRY_SOURCE, s) for s in entries), entries

    schema = manager.get("/api/v1/schema/", {"format": "json"}).json()
    entry = schema["components"]["schemas"]["UserAccessEntry"]["properties"]
    assert "group:<userGroupId>|<lock line source>" in entry["source"]["description"]
    line = schema["components"]["schemas"]["LockAccessLine"]["properties"]
    assert "accessList:<areaId>:<index>" in line["source"]["description"]

"""DoorLock operations 32–40 through the API: provisioning with the lock's own keys and a
secret shown once, signed commands the reference lock applies, scope and isolation, what a
lock may call, deprovisioning, access-log paging, and the acknowledgements extension."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.core.principal import Grant
from apps.events.models import Event
from apps.locks.models import Lock, LockCredential
from tests.factories import directory as d
from tests.factories.accounts import key_client
from tests.locks.conftest import Phone, lock_client, ok_signed, settle
from tests.locks.reference_lock import LockRefused, ReferenceLock

pytestmark = pytest.mark.django_db


def test_provision_returns_the_secret_once_and_a_signed_provision_command(world):
    lock = ReferenceLock()
    response = world.manager.post("/api/v1/locks", lock.provision_body(propertyId=str(world.prop.pk)), format="json")
    data = ok_signed(response)
    private = data["private"]
    assert private["apiKeySecret"].startswith("khl_")
    assert private["lockKey"]["kid"] == lock.kid and private["lockSealKey"]["offlineAsymmetricKey"]["algorithm"] == (
        "X25519"
    )
    assert data["lockCommand"]["command"] == "provision" and data["lockCommand"]["sequence"] == 1
    lock.apply_command(response.json())
    assert lock.trusted and lock.api_secret == private["apiKeySecret"]

    credential = LockCredential.objects.get(lock_id=lock.lock_id)
    assert private["apiKey"] == str(credential.pk) and private["apiKeySecret"] not in credential.digest
    again = ok_signed(world.manager.get(f"/api/v1/locks/{lock.lock_id}"))
    assert "apiKeySecret" not in again["private"] and again["private"]["apiKey"] == str(credential.pk)
    assert not any(private["apiKeySecret"] in str(e.payload) for e in Event.objects.all())


def test_provision_refusals(world):
    lock = ReferenceLock()
    body = lock.provision_body(propertyId=str(world.prop.pk))
    assert ok_signed(world.manager.post("/api/v1/locks", body, format="json"))
    taken = d.refused(world.manager.post("/api/v1/locks", body, format="json"), 409)
    assert taken["data"]["fields"] == {"lockKey": ["this public key is already registered"]}
    bad = d.refused(world.manager.post("/api/v1/locks", {**body, "lockKey": "AAAA"}, format="json"), 400)
    assert "lockKey" in bad["data"]["fields"]
    other = d.property_create()
    fresh = ReferenceLock().provision_body(propertyId=str(other.pk))
    assert "propertyId" in d.refused(world.manager.post("/api/v1/locks", fresh, format="json"), 400)["error"]
    unplaced = ReferenceLock().provision_body()
    assert "propertyId" in d.refused(world.manager.post("/api/v1/locks", unplaced, format="json"), 400)["error"]
    d.refused(key_client(Grant("install-lock")).post("/api/v1/locks", unplaced, format="json"), 403)
    assert Lock.objects.count() == 2


def test_a_chosen_lock_id_is_refused_when_any_object_has_it(world):
    """Ids are unique across types: a lock may not take its property's (or anyone's) id."""
    for taken in (world.prop.pk, world.alice.pk):
        body = {**ReferenceLock().provision_body(propertyId=str(world.prop.pk)), "lockId": str(taken)}
        refused = d.refused(world.manager.post("/api/v1/locks", body, format="json"), 409)
        assert refused["data"]["fields"] == {"lockId": ["Already in use (ids are unique across types)."]}
    assert not Lock.objects.filter(pk__in=[world.prop.pk, world.alice.pk]).exists()


def test_install_and_uninstall_answer_signed_commands_the_lock_applies(world):
    lock, area = world.lock, d.area_create(world.prop, display_name="Gym", area_type="common", parent=world.tower)
    response = world.manager.put(
        f"/api/v1/properties/{world.prop.pk}/areas/{area.pk}/install/{lock.lock_id}", {}, format="json"
    )
    command = lock.apply_command(response.json())
    assert (command["command"], lock.area_id, command["sequence"]) == ("install", str(area.pk), 3)

    stale = world.manager.get(f"/api/v1/locks/{lock.lock_id}").json()
    response = world.manager.put(f"/api/v1/locks/{lock.lock_id}/uninstall?uninstallMode=property", format="json")
    data = ok_signed(response)
    assert data["propertyId"] is None and data["lockCommand"]["propertyKeys"] == []
    lock.apply_command(response.json())  # signed by the property it leaves
    assert lock.trusted == {} and lock.property_id is None
    with pytest.raises(LockRefused, match="stale"):
        lock.apply_command(stale)  # an older command cannot put it back
    d.refused(world.manager.put(f"/api/v1/locks/{lock.lock_id}/uninstall?uninstallMode=garage"), 400)


def test_a_command_for_another_lock_or_key_is_refused_by_the_lock(world):
    other = ReferenceLock()
    response = world.manager.post("/api/v1/locks", other.provision_body(propertyId=str(world.prop.pk)), format="json")
    with pytest.raises(LockRefused, match="another lock"):
        world.lock.apply_command(response.json())
    forged = response.json()
    forged["data"]["lockCommand"]["lockId"] = world.lock.lock_id
    with pytest.raises(LockRefused, match="bad signature"):
        world.lock.apply_command(forged)


def test_a_lock_calls_only_get_and_sync_for_itself(world):
    api, lock_id = world.lock_api, world.lock.lock_id
    own = ok_signed(api.get(f"/api/v1/locks/{lock_id}"))
    assert own["private"]["lockKey"]["kid"] == world.lock.kid
    other = ReferenceLock()
    response = world.manager.post("/api/v1/locks", other.provision_body(propertyId=str(world.prop.pk)), format="json")
    other.apply_command(response.json())
    d.refused(api.get(f"/api/v1/locks/{other.lock_id}"), 404)
    d.refused(api.get("/api/v1/locks"), 403)
    d.refused(api.put(f"/api/v1/locks/{lock_id}", {"displayName": "x"}, format="json"), 403)
    d.refused(api.get(f"/api/v1/locks/{lock_id}/logs"), 403)
    d.refused(api.delete(f"/api/v1/locks/{lock_id}"), 403)
    d.refused(api.get(f"/api/v1/properties/{world.prop.pk}"), 403)


def test_deprovision_revokes_the_secret_and_retires_the_keys(world):
    response = world.manager.delete(f"/api/v1/locks/{world.lock.lock_id}")
    assert d.ok(response) == {}
    lock = Lock.objects.get(pk=world.lock.lock_id)
    assert lock.type_state == "deleted" and lock.area_id is None
    d.refused(world.lock_api.get(f"/api/v1/locks/{world.lock.lock_id}"), 401)
    d.refused(world.manager.get(f"/api/v1/locks/{world.lock.lock_id}"), 404)
    names = list(Event.objects.filter(lock_id=lock.pk).values_list("event_name", flat=True))
    assert {"lock.uninstalled", "key.deactivated", "lock.deprovisioned"} <= set(names)


def test_scope_isolation_and_private_visibility(world):
    other = d.property_create()
    stranger = key_client(Grant("owner", property_id=other.pk))
    d.refused(stranger.get(f"/api/v1/locks/{world.lock.lock_id}"), 404)
    assert d.ok(stranger.get("/api/v1/locks"))["locks"] == []
    d.refused(stranger.put(f"/api/v1/locks/{world.lock.lock_id}", {"displayName": "x"}, format="json"), 404)
    d.refused(
        stranger.put(f"/api/v1/properties/{world.prop.pk}/areas/{world.unit.pk}/install/{world.lock.lock_id}"), 404
    )
    support = key_client(Grant("support", property_id=world.prop.pk))
    listed = d.ok(support.get("/api/v1/locks", {"propertyId": str(world.prop.pk)}))["locks"]
    assert [lk["lockId"] for lk in listed] == [world.lock.lock_id] and listed[0]["private"]["keyMapVersion"] >= 1
    d.refused(support.put(f"/api/v1/locks/{world.lock.lock_id}", {"displayName": "x"}, format="json"), 403)
    # a resident (`me`) sees the lock of their property, without its private part
    from apps.accounts.services import user_token_create

    carol = d.user_create(password="correct horse battery")
    d.member_add(world.residents, carol)
    _, token = user_token_create(email=carol.email, password="correct horse battery")
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    seen = ok_signed(token_client.get(f"/api/v1/locks/{world.lock.lock_id}"))
    assert seen["private"] is None


def test_update_lock_renames_with_one_event(world):
    data = ok_signed(world.manager.put(f"/api/v1/locks/{world.lock.lock_id}", {"displayName": "Gate"}, format="json"))
    assert data["displayName"] == "Gate" and data["lockCommand"]["command"] == "state"
    world.manager.put(f"/api/v1/locks/{world.lock.lock_id}", {"displayName": "Gate"}, format="json")
    assert Event.objects.filter(event_name="lock.updated", lock_id=world.lock.lock_id).count() == 1


def test_list_locks_pages_with_a_flat_query_count(world):
    for n in range(6):
        lock = ReferenceLock()
        body = lock.provision_body(f"Door {n}", propertyId=str(world.prop.pk), areaId=str(world.unit.pk))
        ok_signed(world.manager.post("/api/v1/locks", body, format="json"))
    pages = d.all_pages(world.manager, "/api/v1/locks", "locks", page_size=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    with CaptureQueriesContext(connection) as small:
        d.ok(world.manager.get("/api/v1/locks", {"pageSize": 2}))
    with CaptureQueriesContext(connection) as large:
        d.ok(world.manager.get("/api/v1/locks", {"pageSize": 7}))
    assert len(large) == len(small) <= 12


def test_access_logs_page_newest_first_by_sequence(world):
    lock = world.lock
    lock.logs = [
        {"sequence": s, "accessDate": 1_800_000_000 + s, "result": "denied", "reason": "unknown-key"}
        for s in range(1, 8)
    ]
    world.sync()
    pages = []
    token = None
    while True:
        query = {"pageSize": 3, **({"pageToken": token} if token else {})}
        response = world.manager.get(f"/api/v1/locks/{lock.lock_id}/logs", query)
        data = response.json()["data"]
        pages.append([log["sequence"] for log in data["accessLogs"]])
        token = data["pageToken"]
        if token is None:
            break
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    log = data["accessLogs"][0]
    assert log["accessDate"] == "2027-01-15T08:00:01.000Z" and log["result"] == "denied" and log["receivedAt"]
    d.refused(world.manager.get(f"/api/v1/locks/{lock.lock_id}/logs", {"pageToken": "x"}), 400)


def test_acknowledgements_show_which_locks_applied_a_change(world):
    second = ReferenceLock()
    body = second.provision_body("Back door", propertyId=str(world.prop.pk), areaId=str(world.unit.pk))
    second.apply_command(world.manager.post("/api/v1/locks", body, format="json").json())
    second_api = lock_client(second)
    Phone.provision(world.alice)
    settle()
    for lock, api in ((world.lock, world.lock_api), (second, second_api)):
        lock.receive_sync(api.put(f"/api/v1/locks/{lock.lock_id}/sync", lock.sync_body(), format="json").json())

    d.member_add(world.residents, world.alice)
    event = Event.objects.get(event_name="group.member_added", user_id=world.alice.pk)
    url = f"/api/v1/events/{event.pk}/acknowledgements"
    pending = d.ok(world.manager.get(url))
    assert pending["tracked"] is True and pending["keyMapsBuilt"] is False and pending["locks"] == 0

    settle()
    status = d.ok(world.manager.get(url))
    assert (status["keyMapsBuilt"], status["locks"], status["acknowledged"], status["pending"]) == (True, 2, 0, 2)

    world.sync()  # gets the map
    world.sync()  # acknowledges it
    status = d.ok(world.manager.get(url))
    assert (status["acknowledged"], status["pending"]) == (1, 1)
    assert status["acknowledgedLocks"][0]["lockId"] == world.lock.lock_id
    assert status["pendingLocks"][0]["lockId"] == second.lock_id
    assert status["pendingLocks"][0]["keyMapNotAfter"]

    unrelated = (
        Event.objects.filter(event_name="lock.updated").first()
        or Event.objects.filter(event_name="property.created").first()
    )
    assert d.ok(world.manager.get(f"/api/v1/events/{unrelated.pk}/acknowledgements"))["tracked"] is False
    d.refused(key_client(Grant("owner", property_id=d.property_create().pk)).get(url), 404)


def test_an_owner_provisions_and_deprovisions_its_own_property_s_locks(world):
    """API.md: an owner confers every grantable permission within its scope, so it may do what
    provision-lock does there itself; never in another property, never an unplaced lock."""
    owner = key_client(Grant("owner", property_id=world.prop.pk))
    lock = ReferenceLock()
    response = owner.post("/api/v1/locks", lock.provision_body(propertyId=str(world.prop.pk)), format="json")
    lock.apply_command(response.json())
    assert ok_signed(response)["propertyId"] == str(world.prop.pk) and lock.trusted
    other = d.property_create()
    elsewhere = ReferenceLock().provision_body(propertyId=str(other.pk))
    assert "propertyId" in d.refused(owner.post("/api/v1/locks", elsewhere, format="json"), 400)["data"]["fields"]
    unplaced = ReferenceLock().provision_body()
    assert "propertyId" in d.refused(owner.post("/api/v1/locks", unplaced, format="json"), 400)["data"]["fields"]
    d.refused(key_client(Grant("owner", property_id=other.pk)).delete(f"/api/v1/locks/{lock.lock_id}"), 404)
    assert d.ok(owner.delete(f"/api/v1/locks/{lock.lock_id}")) == {}
    assert Lock.objects.get(pk=lock.lock_id).type_state == "deleted"


def test_a_write_answers_its_event_ids_and_the_change_is_followed_to_the_locks(world):
    """API.md "Following a write": removeUserFromUserGroup answers exactly its own event's id
    (not a racing change's, not the worker's derived events), and that id is the one
    GET /api/v1/events/{eventId}/acknowledgements follows to "effective on N/M locks"."""
    Phone.provision(world.alice)
    d.member_add(world.residents, world.alice)
    settle()
    world.sync()
    world.sync()
    member_url = f"/api/v1/properties/{world.prop.pk}/groups/{world.residents.pk}/users/{world.alice.pk}"
    body = world.manager.delete(member_url).json()
    assert body["success"] is True and body["data"] == {}
    removed = Event.objects.get(event_name="group.member_removed", user_id=world.alice.pk)
    assert body["eventIds"] == [str(removed.pk)]
    assert "eventIds" not in world.manager.get(f"/api/v1/locks/{world.lock.lock_id}").json()  # reads carry none

    url = f"/api/v1/events/{body['eventIds'][0]}/acknowledgements"
    settle()
    status = d.ok(world.manager.get(url))
    assert (status["tracked"], status["keyMapsBuilt"], status["locks"], status["acknowledged"]) == (True, True, 1, 0)
    world.sync()  # gets the map without Alice
    world.sync()  # acknowledges it
    status = d.ok(world.manager.get(url))
    assert (status["locks"], status["acknowledged"], status["pending"]) == (1, 1, 0)


def test_a_factory_fresh_lock_takes_its_first_clock_from_the_command_then_from_a_sync(world):
    """PROTOCOL.md §9.1 "First clock": a lock with no trusted time (its clock at 1970 here)
    applies its provisioning command without the time check, takes the signed `issuedAt` as a
    provisional clock, and trusts time only once a signed sync answer sets it; from then on a
    command outside its validity by that clock is refused, and so is any older command."""
    import time

    fresh = ReferenceLock(clock_offset=-int(time.time()))  # no RTC: the clock reads 1970
    assert fresh.now() < 10 and not fresh.clock_trusted
    response = world.manager.post("/api/v1/locks", fresh.provision_body(propertyId=str(world.prop.pk)), format="json")
    command = fresh.apply_command(response.json())
    assert abs(fresh.now() - command["issuedAt"]) <= 1 and not fresh.clock_trusted
    assert fresh.trusted and fresh.api_secret

    api = lock_client(fresh)
    answer = api.put(f"/api/v1/locks/{fresh.lock_id}/sync", fresh.sync_body(), format="json").json()
    assert answer["success"] is True, answer
    fresh.receive_sync(answer)
    assert fresh.clock_trusted and abs(fresh.now() - int(time.time())) <= 2

    state = world.manager.get(f"/api/v1/locks/{fresh.lock_id}").json()
    fresh.clock_offset += 2 * 86400  # a trusted clock two days on: yesterday's command is stale
    with pytest.raises(LockRefused, match="outside its validity"):
        fresh.apply_command(state)
    fresh.clock_offset -= 2 * 86400
    fresh.apply_command(state)
    reset = ReferenceLock(signing_key=fresh.signing_key, command_sequence=fresh.command_sequence + 1)
    with pytest.raises(LockRefused, match="stale command"):  # no clock, yet no replay: the sequence
        reset.apply_command(response.json())

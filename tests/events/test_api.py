"""listEvents (op 46) and triggerEventProcessing (op 47): filters, paging, output, processing,
and the isolation matrix for both operations (tests/api/test_isolation_matrix.py covers 1–25).

| caller           | what it is                               | listEvents               | trigger...Processing |
|------------------|------------------------------------------|--------------------------|----------------------|
| `anonymous`      | no credential                            | 401                      | 401                  |
| `unrelated`      | `manage-firmware` (not owner / support)  | 403                      | 403                  |
| `other_property` | `owner` scoped to property B             | 200, B's events, no A's  | 404 on A's event     |
| `right`          | `owner` / `support` scoped to property A | 200, A's events only     | 200                  |
| `unscoped`       | `support` for every property             | 200, every event         | 200                  |
"""

import uuid

import pytest

from apps.core.principal import Grant
from apps.events import services
from apps.events.models import Event
from tests.events.helpers import FLAKY, event_add
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

LIST = "/api/v1/events"


def process_url(event) -> str:
    return f"/api/v1/events/{event.pk if hasattr(event, 'pk') else event}/process"


def ids(data) -> list[str]:
    return [item["eventId"] for item in data["events"]]


# -- filters ---------------------------------------------------------------------------------

UUID_FILTERS = {
    "propertyId": "property_id",
    "areaId": "area_id",
    "userGroupId": "user_group_id",
    "lockId": "lock_id",
    "userId": "user_id",
    "apiKeyId": "api_key_id",
    "keyId": "key_id",
    "userDeviceId": "user_device_id",
}


@pytest.mark.parametrize(("param", "field"), UUID_FILTERS.items())
def test_each_id_filter_narrows_to_its_events(owner_client, param, field):
    wanted = uuid.uuid4()
    hit = event_add("lock.updated", **{field: wanted})
    event_add("lock.updated", **{field: uuid.uuid4()})
    event_add("lock.updated")
    assert ids(d.ok(owner_client.get(LIST, {param: str(wanted)}))) == [str(hit.pk)]


def test_firmware_version_filter(owner_client):
    hit = event_add("firmware.assigned", firmware_version="2.4.1")
    event_add("firmware.assigned", firmware_version="2.4.10")
    assert ids(d.ok(owner_client.get(LIST, {"firmwareVersion": "2.4.1"}))) == [str(hit.pk)]


def test_event_source_and_event_name_filters(owner_client):
    moved = event_add("area.moved")
    created = event_add("area.created")
    lock = event_add("lock.installed")
    assert set(ids(d.ok(owner_client.get(LIST, {"eventSource": "area"})))) >= {str(moved.pk), str(created.pk)}
    assert str(lock.pk) not in ids(d.ok(owner_client.get(LIST, {"eventSource": "area"})))
    assert ids(d.ok(owner_client.get(LIST, {"eventName": "area.moved"}))) == [str(moved.pk)]
    assert ids(d.ok(owner_client.get(LIST, {"eventSource": "lock", "eventName": "area.moved"}))) == []


def test_event_source_is_optional_and_absent_means_every_source(owner_client):
    made = {str(event_add(name).pk) for name in ("area.moved", "lock.installed", "user.updated")}
    assert made <= set(ids(d.ok(owner_client.get(LIST, {"pageSize": 500}))))


def test_a_declared_source_without_events_is_an_empty_list(owner_client):
    assert d.ok(owner_client.get(LIST, {"eventSource": "firmware"})) == {"events": [], "pageToken": None}


def test_a_source_seen_in_the_log_is_accepted_even_if_nobody_declared_it(owner_client):
    event = event_add("test_undeclared.happened")
    assert ids(d.ok(owner_client.get(LIST, {"eventSource": "test_undeclared"}))) == [str(event.pk)]


def test_an_unknown_event_source_is_a_400_listing_the_allowed_values(owner_client):
    event_add("test_undeclared.happened")
    body = d.refused(owner_client.get(LIST, {"eventSource": "aera"}), 400)
    (message,) = body["data"]["fields"]["eventSource"]
    assert body["error"].startswith("eventSource: Unknown event source 'aera'; one of: ")
    allowed = message.split("one of: ", 1)[1].rstrip(".").split(", ")
    assert {"area", "property", "group", "user", "lock", "api_key", "firmware", "test_undeclared"} <= set(allowed)
    assert allowed == sorted(allowed)


def test_processed_and_failing_filters(owner_client, flaky):
    waiting = event_add(FLAKY)
    done = event_add(FLAKY)
    services.event_process(event_id=done.pk)
    failing = event_add(FLAKY)
    Event.objects.filter(pk=failing.pk).update(attempts=5, last_error="RuntimeError: down")
    mine = {str(waiting.pk), str(done.pk), str(failing.pk)}

    def listed(**params):
        return set(ids(d.ok(owner_client.get(LIST, {"eventSource": "test_events", **params})))) & mine

    assert listed(processed="true") == {str(done.pk)}
    assert listed(processed="false") == {str(waiting.pk), str(failing.pk)}
    assert listed(failing="true") == {str(failing.pk)}
    assert listed(failing="false") == {str(waiting.pk), str(done.pk)}
    assert listed(processed="false", failing="false") == {str(waiting.pk)}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"processed": "maybe"}, "processed"), ({"failing": "1"}, "failing"), ({"propertyId": "nope"}, "propertyId")],
)
def test_bad_filter_values_are_a_400_naming_the_filter(owner_client, params, field):
    body = d.refused(owner_client.get(LIST, params), 400)
    assert field in body["data"]["fields"]


# -- output ---------------------------------------------------------------------------------


def test_an_event_shows_the_spec_fields_and_the_extensions(owner_client):
    refs = {f: uuid.uuid4() for f in UUID_FILTERS.values()}
    event = event_add("lock.installed", actor="apiKey:abc", payload={"areaId": "x"}, firmware_version="1.0.0", **refs)
    (item,) = d.ok(owner_client.get(LIST, {"lockId": str(refs["lock_id"])}))["events"]
    assert item == {
        "eventName": "lock.installed",
        "eventId": str(event.pk),
        "propertyId": str(refs["property_id"]),
        "userId": str(refs["user_id"]),
        "userDeviceId": str(refs["user_device_id"]),
        "userGroupId": str(refs["user_group_id"]),
        "lockId": str(refs["lock_id"]),
        "areaId": str(refs["area_id"]),
        "keyId": str(refs["key_id"]),
        "type": "event",
        "typeState": "active",
        "createdAt": item["createdAt"],
        "lastModifiedAt": item["lastModifiedAt"],
        "lastModifiedBy": "apiKey:abc",
        "eventSource": "lock",
        "apiKeyId": str(refs["api_key_id"]),
        "firmwareVersion": "1.0.0",
        "payload": {"areaId": "x"},
        "processedAt": None,
        "attempts": 0,
        "lastError": None,
        "nextAttemptAt": None,
        "failing": False,
    }
    assert item["createdAt"].endswith("Z") and len(item["createdAt"]) == 24


def test_absent_refs_are_null(owner_client):
    event_add("user.updated", user_id=uuid.uuid4())
    item = d.ok(owner_client.get(LIST, {"eventName": "user.updated"}))["events"][0]
    assert item["propertyId"] is None and item["lockId"] is None and item["firmwareVersion"] is None


# -- paging ---------------------------------------------------------------------------------


def test_newest_first_and_rows_added_between_pages_are_neither_skipped_nor_repeated(owner_client):
    prop = uuid.uuid4()
    made = [str(event_add("area.updated", property_id=prop).pk) for _ in range(25)]
    url_params = {"propertyId": str(prop), "pageSize": 10}

    first = d.ok(owner_client.get(LIST, url_params))
    assert ids(first) == made[::-1][:10]
    later = [str(event_add("area.updated", property_id=prop).pk) for _ in range(3)]  # newer than the cursor
    second = d.ok(owner_client.get(LIST, {**url_params, "pageToken": first["pageToken"]}))
    event_add("area.updated", property_id=prop)
    third = d.ok(owner_client.get(LIST, {**url_params, "pageToken": second["pageToken"]}))

    seen = ids(first) + ids(second) + ids(third)
    assert seen == made[::-1], "every row that existed at the start, once, newest first"
    assert third["pageToken"] is None
    # A new traversal starts with what was added meanwhile.
    assert ids(d.ok(owner_client.get(LIST, url_params)))[1:4] == later[::-1]


def test_a_page_token_from_another_filter_is_a_400(owner_client):
    for _ in range(3):
        event_add("area.updated")
    token = d.ok(owner_client.get(LIST, {"eventSource": "area", "pageSize": 1}))["pageToken"]
    body = d.refused(owner_client.get(LIST, {"eventSource": "lock", "pageToken": token}), 400)
    assert "pageToken" in body["data"]["fields"]


# -- triggerEventProcessing -----------------------------------------------------------------


def test_processing_runs_now_and_returns_the_resulting_state(owner_client, flaky):
    event = event_add(FLAKY, payload={"door": 1})
    data = d.ok(owner_client.put(process_url(event)))
    assert data["eventId"] == str(event.pk)
    assert data["processedAt"] is not None and data["attempts"] == 1
    assert data["lastError"] is None and data["nextAttemptAt"] is None and data["failing"] is False
    assert flaky.state == {event.pk: {"door": 1}}


def test_processing_again_is_idempotent(owner_client, flaky):
    event = event_add(FLAKY, payload={"door": 1})
    first = d.ok(owner_client.put(process_url(event)))
    second = d.ok(owner_client.put(process_url(event)))
    assert flaky.calls == 2 and flaky.state == {event.pk: {"door": 1}}
    assert second["attempts"] == 2 and second["processedAt"] >= first["processedAt"]
    assert second["lastModifiedBy"] == first["lastModifiedBy"] == "system"  # the write's actor stays


def test_a_failure_is_shown_in_the_response_and_retried_later(owner_client, flaky):
    flaky.failures = 1
    event = event_add(FLAKY)
    data = d.ok(owner_client.put(process_url(event)))
    assert data["processedAt"] is None and data["attempts"] == 1
    assert data["lastError"].startswith("RuntimeError: remote lock cloud unreachable")
    assert data["nextAttemptAt"] is not None
    data = d.ok(owner_client.put(process_url(event)))  # forced: no need to wait for the retry time
    assert data["processedAt"] is not None and data["lastError"] is None and data["nextAttemptAt"] is None


def test_an_event_a_worker_is_processing_right_now_is_a_409(owner_client, monkeypatch):
    event = event_add()
    monkeypatch.setattr(services, "event_process", lambda **kwargs: None)  # the row is locked elsewhere
    body = d.refused(owner_client.put(process_url(event)), 409)
    assert "being processed" in body["error"]


# A fixed unknown id: parallel runs (pytest -n) need every process to collect the same test ids.
UNKNOWN_ID = "0193a3e1-5c2d-7000-8000-00000000d00d"


@pytest.mark.parametrize("event_id", [UNKNOWN_ID, "not-a-uuid"])
def test_unknown_event_is_a_404(owner_client, event_id):
    d.refused(owner_client.put(process_url(event_id)), 404)


def test_events_cannot_be_created_through_the_api(owner_client):
    d.refused(owner_client.post(LIST, {}, format="json"), 405)


# -- isolation matrix (ops 46–47) -----------------------------------------------------------


@pytest.fixture
def world(client_for):
    a, b = d.property_create().pk, d.property_create().pk
    return {
        "a": a,
        "b": b,
        "event_a": event_add("area.updated", property_id=a),
        "event_b": event_add("area.updated", property_id=b),
        "event_none": event_add("user.updated", user_id=uuid.uuid4()),  # belongs to no property
        "clients": {
            "unrelated": client_for("manage-firmware")[0],
            "other_property": client_for(Grant("owner", property_id=b))[0],
            "right_owner": client_for(Grant("owner", property_id=a))[0],
            "right_support": client_for(Grant("support", property_id=a))[0],
            "unscoped": client_for("support")[0],
        },
    }


def _listed(client, world) -> set[str]:
    seen = set(ids(d.ok(client.get(LIST, {"pageSize": 500}))))
    return {name for name in ("event_a", "event_b", "event_none") if str(world[name].pk) in seen}


def test_anonymous_is_401_on_both(api_client, world):
    d.refused(api_client.get(LIST), 401)
    d.refused(api_client.put(process_url(world["event_a"])), 401)


def test_a_key_without_owner_or_support_is_403_on_both(world):
    client = world["clients"]["unrelated"]
    d.refused(client.get(LIST), 403)
    d.refused(client.put(process_url(world["event_a"])), 403)


def test_another_propertys_key_never_sees_or_touches_a(world):
    client = world["clients"]["other_property"]
    assert _listed(client, world) == {"event_b"}
    assert d.ok(client.get(LIST, {"propertyId": str(world["a"])}))["events"] == []
    not_mine = d.refused(client.put(process_url(world["event_a"])), 404)
    unknown = d.refused(client.put(process_url(uuid.uuid4())), 404)
    assert not_mine == unknown, "out of scope looks exactly like unknown"
    assert Event.objects.get(pk=world["event_a"].pk).attempts == 0


@pytest.mark.parametrize("who", ["right_owner", "right_support"])
def test_the_right_key_lists_and_processes_its_propertys_events_only(world, who):
    client = world["clients"][who]
    assert _listed(client, world) == {"event_a"}
    assert d.ok(client.put(process_url(world["event_a"])))["processedAt"] is not None
    d.refused(client.put(process_url(world["event_none"])), 404)


def test_an_unscoped_key_sees_every_event_including_those_without_a_property(world):
    client = world["clients"]["unscoped"]
    assert _listed(client, world) == {"event_a", "event_b", "event_none"}
    assert d.ok(client.put(process_url(world["event_none"])))["attempts"] == 1

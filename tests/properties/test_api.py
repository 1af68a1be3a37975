"""DoorLock operations 1–5 over HTTP: listProperties, createProperty, getProperty,
updateProperty, deleteProperty."""

import uuid

import pytest

from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

PROPERTY_FIELDS = {
    "propertyId",
    "ownerId",
    "externalRefs",
    "displayName",
    "address",
    "accessManagerIds",
    "timeZone",
    "private",  # requiredFirmwareVersion (apps/firmware)
    "type",
    "typeState",
    "createdAt",
    "lastModifiedAt",
    "lastModifiedBy",
}


def _new(**overrides) -> dict:
    return {"displayName": "Harbour View", "address": d.address(), "timeZone": "Europe/London", **overrides}


def _put_body(prop, **overrides) -> dict:
    return {"displayName": prop.display_name, "address": prop.address, "accessManagerIds": [], **overrides}


# -- createProperty -------------------------------------------------------------------------


def test_create_property_returns_the_spec_property(client_for):
    client, key = client_for("owner")
    owner, manager = d.user_create(), d.user_create()
    data = d.ok(
        client.post(
            "/api/v1/properties",
            _new(ownerId=str(owner.pk), accessManagerIds=[str(manager.pk)], address=d.address(line2="Flat 2")),
            format="json",
        )
    )
    assert set(data) == PROPERTY_FIELDS
    assert data["displayName"] == "Harbour View"
    assert data["address"] == d.address(line2="Flat 2")
    assert data["timeZone"] == "Europe/London"
    assert data["ownerId"] == str(owner.pk)
    assert data["accessManagerIds"] == [str(manager.pk)]
    assert data["externalRefs"] == []
    assert (data["type"], data["typeState"]) == ("property", "active")
    assert data["lastModifiedBy"] == f"apiKey:{key.pk}"
    assert data["createdAt"].endswith("Z")
    assert Event.objects.filter(event_name="property.created", property_id=data["propertyId"]).count() == 1
    # and it is really there
    assert d.ok(client.get(f"/api/v1/properties/{data['propertyId']}")) == data


def test_create_property_defaults_time_zone_and_owner(owner_client):
    data = d.ok(owner_client.post("/api/v1/properties", {"displayName": "X", "address": d.address()}, format="json"))
    assert data["timeZone"] == "UTC"
    assert data["ownerId"] is None  # an API key is nobody
    assert data["accessManagerIds"] == []


def test_create_property_also_creates_its_residents_and_staff_groups(owner_client):
    prop = d.ok(owner_client.post("/api/v1/properties", _new(), format="json"))
    groups = d.ok(owner_client.get(f"/api/v1/properties/{prop['propertyId']}/groups"))["groups"]
    assert sorted((g["displayName"], g["groupSource"], g["groupType"]) for g in groups) == [
        ("Residents", "property", "resident"),
        ("Staff", "property", "staff"),
    ]


@pytest.mark.parametrize("missing", ["line1", "city", "country", "postalCode"])
def test_address_missing_a_required_member_is_400_naming_it(owner_client, missing):
    address = d.address()
    del address[missing]
    body = d.refused(owner_client.post("/api/v1/properties", _new(address=address), format="json"), 400)
    assert f"address.{missing}" in body["data"]["fields"]
    assert f"address.{missing}" in body["error"]


def test_address_with_unknown_member_is_400_naming_it(owner_client):
    body = d.refused(
        owner_client.post("/api/v1/properties", _new(address=d.address(planet="Mars")), format="json"), 400
    )
    assert body["data"]["fields"] == {"address.planet": ["Unknown field."]}


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "GMT+25", ""])
def test_bad_time_zone_is_400_naming_time_zone(owner_client, zone):
    body = d.refused(owner_client.post("/api/v1/properties", _new(timeZone=zone), format="json"), 400)
    assert list(body["data"]["fields"]) == ["timeZone"]


def test_unknown_and_missing_fields_are_400_naming_each(owner_client):
    body = d.refused(
        owner_client.post("/api/v1/properties", {"address": d.address(), "colour": "red"}, format="json"), 400
    )
    assert set(body["data"]["fields"]) == {"displayName", "colour"}
    assert body["data"]["fields"]["colour"] == ["Unknown field."]


def test_unknown_owner_or_manager_is_400_naming_the_field(owner_client):
    body = d.refused(owner_client.post("/api/v1/properties", _new(ownerId=str(uuid.uuid4())), format="json"), 400)
    assert "ownerId" in body["data"]["fields"]
    body = d.refused(
        owner_client.post("/api/v1/properties", _new(accessManagerIds=[str(uuid.uuid4())]), format="json"), 400
    )
    assert "accessManagerIds" in body["data"]["fields"]


# -- listProperties / getProperty -------------------------------------------------------------


def test_list_properties_pages_with_page_size_and_page_token(owner_client):
    made = [str(d.property_create().pk) for _ in range(7)]
    pages = d.all_pages(owner_client, "/api/v1/properties", "properties", page_size=3)
    assert [len(p) for p in pages] == [3, 3, 1]
    seen = [p["propertyId"] for page in pages for p in page]
    assert seen == made  # creation order, no duplicates, nothing skipped
    assert all(set(p) == PROPERTY_FIELDS for page in pages for p in page)


def test_list_properties_with_a_scoped_key_shows_only_that_property(client_for):
    a, b = d.property_create(), d.property_create()
    client, _ = client_for(Grant("support", property_id=a.pk))
    data = d.ok(client.get("/api/v1/properties"))
    assert [p["propertyId"] for p in data["properties"]] == [str(a.pk)]
    assert data["pageToken"] is None
    assert str(b.pk) not in str(data)


def test_page_token_of_another_list_is_400(owner_client):
    for _ in range(3):
        d.property_create()
    token = d.ok(owner_client.get("/api/v1/properties", {"pageSize": 1}))["pageToken"]
    prop = d.property_create()
    body = d.refused(owner_client.get(f"/api/v1/properties/{prop.pk}/areas", {"pageToken": token}), 400)
    assert "pageToken" in body["data"]["fields"]


def test_get_unknown_property_is_404(owner_client):
    d.refused(owner_client.get(f"/api/v1/properties/{uuid.uuid4()}"), 404)


# -- updateProperty -------------------------------------------------------------------------


def test_update_property_replaces_the_writable_fields(client_for):
    client, key = client_for("owner")
    manager, new_owner = d.user_create(), d.user_create()
    prop = d.property_create(access_managers=[d.user_create()])
    body = _put_body(
        prop,
        displayName="Renamed",
        address=d.address(city="Southsea"),
        accessManagerIds=[str(manager.pk)],
        timeZone="America/New_York",
        ownerId=str(new_owner.pk),
    )
    data = d.ok(client.put(f"/api/v1/properties/{prop.pk}", body, format="json"))
    assert set(data) == PROPERTY_FIELDS
    assert (data["displayName"], data["address"]["city"], data["timeZone"]) == (
        "Renamed",
        "Southsea",
        "America/New_York",
    )
    assert data["accessManagerIds"] == [str(manager.pk)]
    assert data["ownerId"] == str(new_owner.pk)
    assert data["lastModifiedBy"] == f"apiKey:{key.pk}"
    assert d.ok(client.get(f"/api/v1/properties/{prop.pk}")) == data
    event = Event.objects.get(event_name="property.updated", property_id=prop.pk)
    assert set(event.payload["changed"]) == {"displayName", "address", "timeZone", "ownerId", "accessManagerIds"}


def test_update_property_without_time_zone_keeps_it(owner_client):
    prop = d.property_create(time_zone="Asia/Tokyo")
    data = d.ok(owner_client.put(f"/api/v1/properties/{prop.pk}", _put_body(prop, displayName="Y"), format="json"))
    assert data["timeZone"] == "Asia/Tokyo"


def test_update_property_validation(owner_client):
    prop = d.property_create()
    url = f"/api/v1/properties/{prop.pk}"
    body = d.refused(owner_client.put(url, _put_body(prop, timeZone="Nowhere/Land"), format="json"), 400)
    assert list(body["data"]["fields"]) == ["timeZone"]
    address = d.address()
    del address["city"]
    body = d.refused(owner_client.put(url, _put_body(prop, address=address), format="json"), 400)
    assert list(body["data"]["fields"]) == ["address.city"]
    body = d.refused(owner_client.put(url, _put_body(prop, propertyId=str(uuid.uuid4())), format="json"), 400)
    assert body["data"]["fields"] == {"propertyId": ["Unknown field."]}
    put = _put_body(prop)
    del put["accessManagerIds"]
    body = d.refused(owner_client.put(url, put, format="json"), 400)
    assert list(body["data"]["fields"]) == ["accessManagerIds"]
    assert not Event.objects.filter(event_name="property.updated").exists()


def test_update_unknown_property_is_404(owner_client):
    prop = d.property_create()
    d.refused(owner_client.put(f"/api/v1/properties/{uuid.uuid4()}", _put_body(prop), format="json"), 404)


# -- deleteProperty -------------------------------------------------------------------------


def test_delete_property_with_areas_is_409_listing_them(owner_client):
    prop = d.property_create()
    top = d.area_create(prop)
    sub = d.area_create(prop, parent=top)
    body = d.refused(owner_client.delete(f"/api/v1/properties/{prop.pk}"), 409)
    assert sorted(body["data"]["blockedBy"]["areaIds"]) == sorted([str(top.pk), str(sub.pk)])
    assert str(top.pk) in body["error"]
    d.ok(owner_client.get(f"/api/v1/properties/{prop.pk}"))  # still there


def test_deleted_property_is_gone_from_lists_and_404(owner_client):
    keep, gone = d.property_create(), d.property_create()
    assert d.ok(owner_client.delete(f"/api/v1/properties/{gone.pk}")) == {}
    assert Event.objects.filter(event_name="property.deleted", property_id=gone.pk).count() == 1
    listed = [p["propertyId"] for p in d.ok(owner_client.get("/api/v1/properties"))["properties"]]
    assert listed == [str(keep.pk)]
    d.refused(owner_client.get(f"/api/v1/properties/{gone.pk}"), 404)
    d.refused(owner_client.get(f"/api/v1/properties/{gone.pk}/groups"), 404)
    d.refused(owner_client.get(f"/api/v1/properties/{gone.pk}/areas"), 404)
    d.refused(owner_client.put(f"/api/v1/properties/{gone.pk}", _put_body(gone), format="json"), 404)
    d.refused(owner_client.delete(f"/api/v1/properties/{gone.pk}"), 404)


def test_delete_property_after_its_areas_are_deleted(owner_client):
    prop = d.property_create()
    top = d.area_create(prop)
    sub = d.area_create(prop, parent=top)
    d.ok(owner_client.delete(f"/api/v1/properties/{prop.pk}/areas/{sub.pk}"))
    d.ok(owner_client.delete(f"/api/v1/properties/{prop.pk}/areas/{top.pk}"))
    assert d.ok(owner_client.delete(f"/api/v1/properties/{prop.pk}")) == {}
    d.refused(owner_client.get(f"/api/v1/properties/{prop.pk}"), 404)


def test_external_refs_are_shown_as_spec_external_refs(owner_client):
    from apps.core.models import ExternalRef

    prop = d.property_create()
    ExternalRef.objects.create(
        entity=prop, source="crm", external_id="P-42", sync_direction="fromExternalToInternal", sync_status="synced"
    )
    listed = d.ok(owner_client.get("/api/v1/properties"))["properties"][0]["externalRefs"]
    got = d.ok(owner_client.get(f"/api/v1/properties/{prop.pk}"))["externalRefs"]
    assert (
        listed
        == got
        == [
            {
                "id": "P-42",
                "source": "crm",
                "syncDirection": "fromExternalToInternal",
                "syncStatus": "synced",
                "syncSchedule": "",
                "lastSyncDate": None,
            }
        ]
    )


def test_get_property_reads_managers_and_refs_in_one_query_as_the_list_shows_them(owner_client):
    """getProperty reads access managers and external refs in one UNION ALL query
    (properties.selectors.property_links); its body is byte for byte the list's item."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from apps.core.models import ExternalRef

    managers = [d.user_create() for _ in range(4)]
    prop = d.property_create(access_managers=managers)
    d.property_create(access_managers=[d.user_create()])  # another property's links stay out
    for n, when in ((3, timezone.now()), (1, None), (2, None)):
        ExternalRef.objects.create(
            entity=prop, source=f"crm{n}", external_id=f"P-{n}", sync_direction="both", last_sync_date=when
        )
    owner_client.get(f"/api/v1/properties/{prop.pk}")  # the key's first use, and the content type
    with CaptureQueriesContext(connection) as queries:
        got = owner_client.get(f"/api/v1/properties/{prop.pk}")
    link_reads = [q["sql"] for q in queries.captured_queries if "core_externalref" in q["sql"]]
    assert len(link_reads) == 1 and "properties_property_access_managers" in link_reads[0]
    assert not any("properties_property_access_managers" in q["sql"] for q in queries if q["sql"] != link_reads[0])
    data = d.ok(got)
    assert data["accessManagerIds"] == sorted(str(m.pk) for m in managers)
    assert [r["id"] for r in data["externalRefs"]] == ["P-3", "P-1", "P-2"]  # by link id: creation order
    assert data["externalRefs"][0]["lastSyncDate"] is not None
    (listed,) = [
        p for p in d.ok(owner_client.get("/api/v1/properties"))["properties"] if p["propertyId"] == str(prop.pk)
    ]
    assert listed == data

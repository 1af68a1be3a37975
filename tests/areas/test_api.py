"""DoorLock operations 6–10 over HTTP: listAreas, createArea, getArea, updateArea, deleteArea."""

import uuid

import pytest

from apps.areas.models import Area
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

AREA_FIELDS = {
    "propertyId",
    "areaId",
    "areaUserGroupId",
    "accessListVersion",
    "lockIds",
    "containingAreaIds",
    "subAreaIds",
    "externalRefs",
    "displayName",
    "accessList",
    "areaType",
    "parentAreaId",
    "private",  # requiredFirmwareVersion (apps/firmware)
    "type",
    "typeState",
    "createdAt",
    "lastModifiedAt",
    "lastModifiedBy",
}


@pytest.fixture
def prop():
    return d.property_create()


def _url(prop, area=None) -> str:
    base = f"/api/v1/properties/{prop.pk}/areas"
    return base if area is None else f"{base}/{area if isinstance(area, str) else area.pk}"


def _get(client, prop, area) -> dict:
    return d.ok(client.get(_url(prop, area)))


def _create(client, prop, **body) -> dict:
    return d.ok(client.post(_url(prop), {"displayName": "Area", "areaType": "resident", **body}, format="json"))


def _put(client, prop, area, **body):
    name = body.pop("displayName", None) or _get(client, prop, area)["displayName"]
    return client.put(_url(prop, area), {"displayName": name, **body}, format="json")


# -- createArea / getArea -----------------------------------------------------------------------


def test_create_area_returns_the_spec_area_with_its_area_group(client_for, prop):
    client, key = client_for("owner")
    data = _create(client, prop, displayName="Lobby", areaType="common")
    assert set(data) == AREA_FIELDS
    assert data["propertyId"] == str(prop.pk)
    assert (data["displayName"], data["areaType"], data["parentAreaId"]) == ("Lobby", "common", None)
    assert data["containingAreaIds"] == [] and data["subAreaIds"] == []
    assert data["accessList"] == [] and data["accessListVersion"] == 1
    assert data["lockIds"] == [] and data["externalRefs"] == []
    assert (data["type"], data["typeState"], data["lastModifiedBy"]) == ("area", "active", f"apiKey:{key.pk}")
    group = d.ok(client.get(f"/api/v1/properties/{prop.pk}/groups/{data['areaUserGroupId']}"))
    assert (group["groupSource"], group["areaId"], group["groupType"]) == ("area", data["areaId"], "common")
    assert _get(client, prop, data["areaId"]) == data
    assert Event.objects.filter(event_name="area.created", area_id=data["areaId"]).count() == 1


def test_sub_area_knows_its_ancestors_and_its_parent_knows_it(owner_client, prop):
    building = _create(owner_client, prop, displayName="Building", areaType="common")
    floor = _create(owner_client, prop, displayName="Floor 1", areaType="common", parentAreaId=building["areaId"])
    unit = _create(owner_client, prop, displayName="Unit 101", parentAreaId=floor["areaId"])
    assert unit["parentAreaId"] == floor["areaId"]
    assert unit["containingAreaIds"] == [floor["areaId"], building["areaId"]]  # nearest first
    assert _get(owner_client, prop, building["areaId"])["subAreaIds"] == [floor["areaId"]]  # direct children only
    assert _get(owner_client, prop, floor["areaId"])["subAreaIds"] == [unit["areaId"]]
    assert _get(owner_client, prop, floor["areaId"])["containingAreaIds"] == [building["areaId"]]


def test_create_area_with_an_access_list(owner_client, prop):
    group = d.group_create(prop)
    other = d.area_create(prop)
    entries = [
        {"accessType": "group", "userGroupId": str(group.pk)},
        {"accessType": "area", "areaId": str(other.pk)},
    ]
    data = _create(owner_client, prop, accessList=entries)
    assert [{k: v for k, v in e.items() if v is not None} for e in data["accessList"]] == entries
    assert data["accessListVersion"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"areaType": "penthouse"}, "areaType"),
        ({"displayName": ""}, "displayName"),
        ({"parentAreaId": "not-a-uuid"}, "parentAreaId"),
        ({"colour": "red"}, "colour"),
        ({"accessList": [{"accessType": "group"}]}, "accessList[0].userGroupId"),
        ({"accessList": [{"accessType": "teleport"}]}, "accessList[0].accessType"),
    ],
)
def test_create_area_validation_names_the_field(owner_client, prop, body, field):
    response = owner_client.post(_url(prop), {"displayName": "A", "areaType": "resident", **body}, format="json")
    assert field in d.refused(response, 400)["data"]["fields"]
    assert not Area.objects.filter(property=prop).exists()


def test_create_area_under_a_parent_of_another_property_is_400(owner_client, prop):
    foreign = d.area_create(d.property_create())
    body = d.refused(
        owner_client.post(
            _url(prop), {"displayName": "A", "areaType": "staff", "parentAreaId": str(foreign.pk)}, format="json"
        ),
        400,
    )
    assert list(body["data"]["fields"]) == ["parentAreaId"]
    assert not Area.objects.filter(property=prop).exists()


def test_create_area_in_unknown_property_is_404(owner_client):
    d.refused(owner_client.post(f"/api/v1/properties/{uuid.uuid4()}/areas", {}, format="json"), 404)


def test_area_of_another_property_is_404_on_this_property_path(owner_client, prop):
    foreign = d.area_create(d.property_create())
    d.refused(owner_client.get(_url(prop, foreign)), 404)
    d.refused(_put(owner_client, prop, foreign, displayName="x"), 404)
    d.refused(owner_client.delete(_url(prop, foreign)), 404)
    assert Area.objects.get(pk=foreign.pk).type_state == "active"


# -- listAreas ------------------------------------------------------------------------------------


def test_list_areas_names_its_array_properties_as_the_spec_does(owner_client, prop):
    a = d.area_create(prop)
    d.area_create(d.property_create())  # another property's area stays out
    data = d.ok(owner_client.get(_url(prop)))
    assert set(data) == {"properties", "pageToken"}
    assert [x["areaId"] for x in data["properties"]] == [str(a.pk)]
    assert set(data["properties"][0]) == AREA_FIELDS
    assert data["pageToken"] is None


def test_list_areas_pages(owner_client, prop):
    made = [str(d.area_create(prop).pk) for _ in range(5)]
    pages = d.all_pages(owner_client, _url(prop), "properties", page_size=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [a["areaId"] for page in pages for a in page] == made


def test_list_areas_filters(owner_client, prop):
    lobby = d.area_create(prop, display_name="Main Lobby", area_type="common")
    gym = d.area_create(prop, display_name="Gym", area_type="common", parent=lobby)
    unit = d.area_create(prop, display_name="Unit 1", area_type="resident", parent=lobby)
    office = d.area_create(prop, display_name="Office", area_type="staff")

    def listed(**params):
        return [a["areaId"] for a in d.ok(owner_client.get(_url(prop), params))["properties"]]

    assert listed(areaType="common") == [str(lobby.pk), str(gym.pk)]
    assert listed(areaType="staff") == [str(office.pk)]
    assert listed(parentAreaId=str(lobby.pk)) == [str(gym.pk), str(unit.pk)]
    assert listed(parentAreaId="none") == [str(lobby.pk), str(office.pk)]
    assert listed(q="lobby") == [str(lobby.pk)]
    assert listed(q="UNIT") == [str(unit.pk)]
    assert listed(areaType="resident", parentAreaId=str(lobby.pk)) == [str(unit.pk)]
    assert listed(q="nothing like it") == []
    # filters and paging together
    pages = d.all_pages(owner_client, _url(prop), "properties", page_size=1, areaType="common")
    assert [a["areaId"] for page in pages for a in page] == [str(lobby.pk), str(gym.pk)]


@pytest.mark.parametrize(("param", "value"), [("areaType", "penthouse"), ("parentAreaId", "top")])
def test_bad_list_filter_is_400_naming_it(owner_client, prop, param, value):
    body = d.refused(owner_client.get(_url(prop), {param: value}), 400)
    assert param in body["data"]["fields"]


def test_list_and_get_show_live_lock_ids_by_id_and_the_area_group(owner_client, prop):
    """lockIds are read per page as bare ids (locks.selectors.lock_ids_by_area) and the area
    group's id is joined into the page query; a single area reads the same."""
    from apps.access.models import UserGroup
    from apps.core.actors import SYSTEM
    from apps.locks import services as lock_services

    area, other = d.area_create(prop), d.area_create(prop)
    locks = [lock_services.lock_create(display_name=f"Door {n}", prop=prop, actor=SYSTEM) for n in range(3)]
    for lock in locks:
        lock_services.lock_install(lock=lock, area=area, actor=SYSTEM)
    lock_services.lock_uninstall(lock=locks[1], actor=SYSTEM)  # no longer in the area
    listed = {a["areaId"]: a for a in d.ok(owner_client.get(_url(prop)))["properties"]}
    expected = sorted(str(lock.pk) for lock in (locks[0], locks[2]))
    assert listed[str(area.pk)]["lockIds"] == expected
    assert listed[str(other.pk)]["lockIds"] == []
    for each in (area, other):
        assert listed[str(each.pk)] == _get(owner_client, prop, each)
        assert listed[str(each.pk)]["areaUserGroupId"] == str(UserGroup.objects.get(area=each).pk)


def test_list_areas_of_a_property_without_areas_is_an_empty_page(owner_client, prop):
    assert d.ok(owner_client.get(_url(prop))) == {"properties": [], "pageToken": None}


@pytest.mark.parametrize(
    "params",
    [{}, {"areaType": "common"}, {"areaType": "penthouse"}, {"pageToken": "not-a-token"}],
    ids=["plain", "filtered", "bad-filter", "bad-page-token"],
)
@pytest.mark.parametrize("which", ["unknown", "deleted"])
def test_list_areas_of_an_unknown_or_deleted_property_is_404_before_anything_else(owner_client, which, params):
    """The property is checked only when the page is empty or refused (AreaListCreateApi.get):
    a missing or deleted property still answers 404, also over a refused filter or pageToken."""
    gone = d.property_create()
    d.ok(owner_client.delete(f"/api/v1/properties/{gone.pk}"))
    property_id = uuid.uuid4() if which == "unknown" else gone.pk
    d.refused(owner_client.get(f"/api/v1/properties/{property_id}/areas", params), 404)


def test_list_areas_of_another_property_in_scope_only_names_its_own(client_for, prop):
    mine, theirs = d.area_create(prop), d.area_create(d.property_create())
    client, _ = client_for(Grant("owner", property_id=prop.pk))
    assert [a["areaId"] for a in d.ok(client.get(_url(prop)))["properties"]] == [str(mine.pk)]
    d.refused(client.get(f"/api/v1/properties/{theirs.property_id}/areas"), 404)  # out of scope: unknown


# -- updateArea: rename, access list, move ---------------------------------------------------------


def test_update_area_renames_and_keeps_the_rest(client_for, prop):
    client, key = client_for("owner")
    parent = d.area_create(prop)
    area = d.area_create(prop, parent=parent, area_type="staff")
    data = d.ok(_put(client, prop, area, displayName="Back office"))
    assert set(data) == AREA_FIELDS
    assert data["displayName"] == "Back office"
    assert (data["areaType"], data["parentAreaId"], data["accessListVersion"]) == ("staff", str(parent.pk), 1)
    assert data["lastModifiedBy"] == f"apiKey:{key.pk}"
    assert _get(client, prop, area) == data


def test_area_type_is_write_once(owner_client, prop):
    area = d.area_create(prop, area_type="staff")
    body = d.refused(_put(owner_client, prop, area, areaType="resident"), 400)
    assert body["data"]["fields"] == {"areaType": ["Unknown field."]}
    assert _get(owner_client, prop, area)["areaType"] == "staff"


def test_access_list_version_rises_only_when_the_list_changes(owner_client, prop):
    area = d.area_create(prop)
    group = d.group_create(prop)
    entries = [{"accessType": "group", "userGroupId": str(group.pk)}]
    first = d.ok(_put(owner_client, prop, area, accessList=entries))
    assert first["accessListVersion"] == 2
    second = d.ok(_put(owner_client, prop, area, accessList=entries))
    assert second["accessListVersion"] == 2
    renamed = d.ok(_put(owner_client, prop, area, displayName="Renamed"))  # no accessList: left alone
    assert renamed["accessListVersion"] == 2
    assert [e["userGroupId"] for e in renamed["accessList"]] == [str(group.pk)]
    cleared = d.ok(_put(owner_client, prop, area, accessList=[]))
    assert (cleared["accessListVersion"], cleared["accessList"]) == (3, [])


def test_move_with_put_parent_area_id_updates_the_whole_subtree(owner_client, prop):
    # a ─ b ─ c ─ e        x
    a, x = d.area_create(prop), d.area_create(prop)
    b = d.area_create(prop, parent=a)
    c = d.area_create(prop, parent=b)
    e = d.area_create(prop, parent=c)

    moved = d.ok(_put(owner_client, prop, b, parentAreaId=str(x.pk)))
    assert moved["parentAreaId"] == str(x.pk)
    assert moved["containingAreaIds"] == [str(x.pk)]
    assert moved["subAreaIds"] == [str(c.pk)]
    assert _get(owner_client, prop, c)["containingAreaIds"] == [str(b.pk), str(x.pk)]
    assert _get(owner_client, prop, e)["containingAreaIds"] == [str(c.pk), str(b.pk), str(x.pk)]
    assert _get(owner_client, prop, a)["subAreaIds"] == []
    assert _get(owner_client, prop, x)["subAreaIds"] == [str(b.pk)]
    assert Event.objects.filter(event_name="area.moved", area_id=b.pk).count() == 1

    top = d.ok(_put(owner_client, prop, b, parentAreaId=None))  # null = top level
    assert (top["parentAreaId"], top["containingAreaIds"]) == (None, [])
    assert _get(owner_client, prop, e)["containingAreaIds"] == [str(c.pk), str(b.pk)]
    assert _get(owner_client, prop, x)["subAreaIds"] == []
    listed = [x["areaId"] for x in d.ok(owner_client.get(_url(prop), {"parentAreaId": "none"}))["properties"]]
    assert listed == [str(a.pk), str(x.pk), str(b.pk)]


def test_put_without_parent_area_id_does_not_move(owner_client, prop):
    parent = d.area_create(prop)
    area = d.area_create(prop, parent=parent)
    assert d.ok(_put(owner_client, prop, area, displayName="Same place"))["parentAreaId"] == str(parent.pk)
    assert not Event.objects.filter(event_name="area.moved").exists()


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_move_that_would_make_a_cycle_is_400_naming_both_areas(owner_client, prop, target):
    a = d.area_create(prop)
    b = d.area_create(prop, parent=a)
    c = d.area_create(prop, parent=b)
    parent = {"self": a, "child": b, "grandchild": c}[target]
    body = d.refused(_put(owner_client, prop, a, displayName="Renamed", parentAreaId=str(parent.pk)), 400)
    assert "Area 'Renamed' cannot move under" in body["error"] and str(a.pk) not in body["error"]
    assert target == "self" or f"'{parent.display_name}', which is inside it" in body["error"]
    assert "parentAreaId" in body["data"]["fields"]
    # nothing changed, not even the name sent alongside
    after = _get(owner_client, prop, a)
    assert (after["parentAreaId"], after["displayName"]) == (None, a.display_name)
    assert _get(owner_client, prop, c)["containingAreaIds"] == [str(b.pk), str(a.pk)]


def test_move_under_an_area_of_another_property_is_400(owner_client, prop):
    a = d.area_create(prop)
    foreign = d.area_create(d.property_create())
    body = d.refused(_put(owner_client, prop, a, parentAreaId=str(foreign.pk)), 400)
    assert list(body["data"]["fields"]) == ["parentAreaId"]
    assert _get(owner_client, prop, a)["parentAreaId"] is None


def test_access_list_naming_a_group_of_another_property_is_400(owner_client, prop):
    area = d.area_create(prop)
    foreign = d.group_create(d.property_create())
    response = _put(owner_client, prop, area, accessList=[{"accessType": "group", "userGroupId": str(foreign.pk)}])
    assert list(d.refused(response, 400)["data"]["fields"]) == ["accessList[0].userGroupId"]
    assert _get(owner_client, prop, area)["accessListVersion"] == 1


# -- deleteArea ------------------------------------------------------------------------------------


def test_delete_area_with_sub_areas_is_409_listing_them(owner_client, prop):
    a = d.area_create(prop)
    b, c = d.area_create(prop, parent=a), d.area_create(prop, parent=a)
    body = d.refused(owner_client.delete(_url(prop, a)), 409)
    assert body["data"]["blockedBy"] == {"subAreaIds": [str(b.pk), str(c.pk)]}
    _get(owner_client, prop, a)


@pytest.mark.parametrize("via", ["area", "group"])
def test_delete_area_named_by_another_access_list_is_409(owner_client, prop, via):
    target, holder = d.area_create(prop), d.area_create(prop)
    entry = (
        {"accessType": "area", "areaId": str(target.pk)}
        if via == "area"
        else {"accessType": "group", "userGroupId": str(target.area_user_group.pk)}
    )
    d.ok(_put(owner_client, prop, holder, accessList=[entry]))
    body = d.refused(owner_client.delete(_url(prop, target)), 409)
    assert body["data"]["blockedBy"] == {"referencedByAreaIds": [str(holder.pk)]}
    assert f"'{holder.display_name}'" in body["error"]  # names for people; ids in blockedBy


def test_deleted_area_leaves_lists_and_its_parent_and_is_404(owner_client, prop):
    parent = d.area_create(prop)
    keep, gone = d.area_create(prop, parent=parent), d.area_create(prop, parent=parent)
    group_id = str(gone.area_user_group.pk)
    assert d.ok(owner_client.delete(_url(prop, gone))) == {}
    d.refused(owner_client.get(_url(prop, gone)), 404)
    d.refused(_put(owner_client, prop, gone, displayName="x"), 404)
    d.refused(owner_client.delete(_url(prop, gone)), 404)
    assert [a["areaId"] for a in d.ok(owner_client.get(_url(prop)))["properties"]] == [str(parent.pk), str(keep.pk)]
    assert _get(owner_client, prop, parent)["subAreaIds"] == [str(keep.pk)]
    d.refused(owner_client.get(f"/api/v1/properties/{prop.pk}/groups/{group_id}"), 404)  # its group went too
    assert Event.objects.filter(event_name="area.deleted", area_id=gone.pk).count() == 1
    # a deleted area cannot be a parent
    response = owner_client.post(
        _url(prop), {"displayName": "x", "areaType": "resident", "parentAreaId": str(gone.pk)}, format="json"
    )
    assert list(d.refused(response, 400)["data"]["fields"]) == ["parentAreaId"]


def test_a_page_reads_its_locks_children_and_refs_in_one_query(owner_client, prop):
    """listAreas reads a page's lockIds, subAreaIds and externalRefs in one UNION ALL
    (locks.selectors.area_links): live locks and live children by id, refs by link id, each
    area's own only; a bigger page costs the same queries, and every row equals getArea."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.access import services as access_services
    from apps.core.actors import SYSTEM
    from apps.core.models import ExternalRef
    from apps.locks import services as lock_services

    building = d.area_create(prop, display_name="Building")
    floors = [d.area_create(prop, display_name=f"Floor {n}", parent=building) for n in range(3)]
    access_services.area_delete(area=floors[1], actor=SYSTEM)  # a deleted child is not listed
    door = lock_services.lock_create(display_name="Front door", prop=prop, actor=SYSTEM)
    lock_services.lock_install(lock=door, area=building, actor=SYSTEM)
    for n in (2, 1):
        ExternalRef.objects.create(entity=building, source=f"crm{n}", external_id=f"B-{n}", sync_direction="both")
    ExternalRef.objects.create(entity=floors[0], source="crm", external_id="F-0", sync_direction="pull")

    owner_client.get(_url(prop))  # the key's first use, and the content type
    with CaptureQueriesContext(connection) as queries:
        listed = {a["displayName"]: a for a in d.ok(owner_client.get(_url(prop)))["properties"]}
    link_reads = [q["sql"] for q in queries.captured_queries if "core_externalref" in q["sql"]]
    assert len(link_reads) == 1 and "locks_lock" in link_reads[0]
    assert not any("locks_lock" in q["sql"] for q in queries.captured_queries if q["sql"] != link_reads[0])
    assert listed["Building"]["lockIds"] == [str(door.pk)]
    assert listed["Building"]["subAreaIds"] == sorted(str(f.pk) for f in (floors[0], floors[2]))
    assert [r["id"] for r in listed["Building"]["externalRefs"]] == ["B-2", "B-1"]  # by link id
    assert [r["id"] for r in listed["Floor 0"]["externalRefs"]] == ["F-0"]
    assert listed["Floor 2"]["externalRefs"] == [] and listed["Floor 2"]["lockIds"] == []
    for area in (building, floors[0], floors[2]):
        assert listed[area.display_name] == _get(owner_client, prop, area)

    for n in range(5):
        d.area_create(prop, parent=floors[0], display_name=f"Unit {n}")
    with CaptureQueriesContext(connection) as more:
        assert len(d.ok(owner_client.get(_url(prop)))["properties"]) == 8
    assert len(more.captured_queries) == len(queries.captured_queries)

"""Area services: the tree stays right on create, move and delete; one transaction each."""

import pytest

from apps.access import services as access_services
from apps.access.models import Membership, UserGroup
from apps.areas.models import Area
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def _fresh(*areas):
    return [Area.objects.get(pk=a.pk) for a in areas]


def _ids(*areas) -> list[str]:
    return [str(a.pk) for a in areas]


@pytest.fixture
def prop():
    return d.property_create()


def test_create_sets_ancestors_depth_and_its_area_group(prop):
    building = d.area_create(prop, area_type="common")
    floor = d.area_create(prop, parent=building, area_type="common")
    unit = access_services.area_create(
        prop=prop, display_name="Unit 1", area_type="resident", parent_id=floor.pk, actor="k"
    )
    unit.refresh_from_db()
    assert unit.ancestor_ids == _ids(floor, building)
    assert (building.depth, floor.depth, unit.depth) == (0, 1, 2)
    group = UserGroup.objects.get(area=unit)
    assert (group.group_source, group.group_type, group.property_id) == ("area", "resident", prop.pk)
    assert group.display_name == "Unit 1 members"
    assert list(Event.objects.filter(area_id=unit.pk).order_by("id").values_list("event_name", flat=True)) == [
        "area.created",
        "group.created",
    ]
    assert Event.objects.get(event_name="area.created", area_id=unit.pk).payload == {
        "parentAreaId": str(floor.pk),
        "areaType": "resident",
    }


def test_area_and_its_group_are_one_transaction(prop, monkeypatch):
    import apps.access.services.places as access_services  # where area_create looks it up

    def broken(**kwargs):
        raise RuntimeError("group store down")

    monkeypatch.setattr(access_services, "area_group_create", broken)
    before = (Area.objects.count(), UserGroup.objects.count(), Event.objects.count())
    with pytest.raises(RuntimeError):
        d.area_create(prop, display_name="Doomed")
    assert (Area.objects.count(), UserGroup.objects.count(), Event.objects.count()) == before
    assert not Area.objects.filter(display_name="Doomed").exists()


def test_parent_must_be_a_live_area_of_the_same_property(prop):
    other = d.property_create()
    foreign = d.area_create(other)
    with pytest.raises(ApplicationError) as exc:
        d.area_create(prop, parent=foreign)
    assert "parentAreaId" in exc.value.fields
    gone = d.area_create(prop)
    access_services.area_delete(area=gone, actor=SYSTEM)
    with pytest.raises(ApplicationError):
        d.area_create(prop, parent=gone)
    assert Area.objects.filter(property=prop).count() == 1  # only `gone`


def test_move_rewrites_the_whole_subtree(prop):
    # a ─ b ─ c ─ e          x
    #          └ f
    a, x = d.area_create(prop), d.area_create(prop)
    b = d.area_create(prop, parent=a)
    c = d.area_create(prop, parent=b)
    e, f = d.area_create(prop, parent=c), d.area_create(prop, parent=c)

    d.area_move(b, x)

    b, c, e, f, a = _fresh(b, c, e, f, a)
    assert b.parent_id == x.pk
    assert b.ancestor_ids == _ids(x)
    assert c.ancestor_ids == _ids(b, x)
    assert e.ancestor_ids == f.ancestor_ids == _ids(c, b, x)
    assert (b.depth, c.depth, e.depth) == (1, 2, 3)
    assert a.ancestor_ids == [] and not a.children.exists()
    moved = Event.objects.get(event_name="area.moved", area_id=b.pk)
    assert moved.payload == {"from": str(a.pk), "to": str(x.pk), "subtreeSize": 4}
    assert not Event.objects.filter(event_name="area.updated", area_id=b.pk).exists()


def test_move_to_top_level(prop):
    a = d.area_create(prop)
    b = d.area_create(prop, parent=a)
    c = d.area_create(prop, parent=b)
    d.area_move(b, None)
    b, c = _fresh(b, c)
    assert b.parent_id is None and b.ancestor_ids == [] and b.depth == 0
    assert c.ancestor_ids == _ids(b) and c.depth == 1


@pytest.mark.parametrize("target", ["self", "child", "grandchild"])
def test_move_under_itself_or_a_descendant_is_refused_naming_both(prop, target):
    a = d.area_create(prop)
    b = d.area_create(prop, parent=a)
    c = d.area_create(prop, parent=b)
    parent = {"self": a, "child": b, "grandchild": c}[target]
    before = Event.objects.count()
    with pytest.raises(ApplicationError) as exc:
        d.area_move(a, parent)
    assert f"Area '{a.display_name}' cannot move under" in exc.value.message and str(a.pk) not in exc.value.message
    assert target == "self" or f"'{parent.display_name}', which is inside it" in exc.value.message
    assert "parentAreaId" in exc.value.fields
    a, b, c = _fresh(a, b, c)
    assert (a.parent_id, b.parent_id, c.parent_id) == (None, a.pk, b.pk)
    assert c.ancestor_ids == _ids(b, a)
    assert Event.objects.count() == before


def test_move_to_another_property_is_refused(prop):
    a = d.area_create(prop)
    foreign = d.area_create(d.property_create())
    with pytest.raises(ApplicationError):
        d.area_move(a, foreign)
    assert Area.objects.get(pk=a.pk).parent_id is None


def test_move_to_the_same_parent_changes_nothing(prop):
    a = d.area_create(prop)
    b = d.area_create(prop, parent=a)
    d.area_move(b, a)
    assert not Event.objects.filter(event_name__in=["area.moved", "area.updated"]).exists()


def test_access_list_version_rises_only_when_the_content_changes(prop):
    a, b = d.area_create(prop), d.area_create(prop)
    group = d.group_create(prop)
    entries = [{"accessType": "group", "userGroupId": str(group.pk)}]
    assert a.access_list_version == 1
    a = access_services.area_update(area=a, access_list=entries, actor=SYSTEM)
    assert a.access_list_version == 2
    a = access_services.area_update(area=a, access_list=list(entries), actor=SYSTEM)
    assert a.access_list_version == 2
    a = access_services.area_update(area=a, display_name="Renamed", actor=SYSTEM)
    assert a.access_list_version == 2
    a = access_services.area_update(
        area=a, access_list=[*entries, {"accessType": "area", "areaId": str(b.pk)}], actor=SYSTEM
    )
    assert a.access_list_version == 3
    a = access_services.area_update(area=a, access_list=[], actor=SYSTEM)
    assert a.access_list_version == 4 and Area.objects.get(pk=a.pk).access_list == []
    versions = [e.payload["accessListVersion"] for e in Event.objects.filter(event_name="area.updated", area_id=a.pk)]
    assert versions == [2, 2, 3, 4]  # the rename is an event too, at the unchanged version


def test_access_list_entries_must_name_groups_and_areas_of_the_same_property(prop):
    a = d.area_create(prop)
    other = d.property_create()
    foreign_group, foreign_area = d.group_create(other), d.area_create(other)
    with pytest.raises(ApplicationError) as exc:
        access_services.area_update(
            area=a,
            access_list=[
                {"accessType": "group", "userGroupId": str(foreign_group.pk)},
                {"accessType": "area", "areaId": str(foreign_area.pk)},
            ],
            actor=SYSTEM,
        )
    assert set(exc.value.fields) == {"accessList[0].userGroupId", "accessList[1].areaId"}
    assert Area.objects.get(pk=a.pk).access_list_version == 1


def test_delete_is_refused_while_it_has_sub_areas(prop):
    a = d.area_create(prop)
    b, c = d.area_create(prop, parent=a), d.area_create(prop, parent=a)
    with pytest.raises(ConflictError) as exc:
        access_services.area_delete(area=a, actor=SYSTEM)
    assert exc.value.extra["blockedBy"] == {"subAreaIds": _ids(b, c)}
    assert Area.objects.get(pk=a.pk).type_state == "active"


@pytest.mark.parametrize("via", ["area", "group"])
def test_delete_is_refused_while_another_access_list_names_it_or_its_group(prop, via):
    target, holder = d.area_create(prop), d.area_create(prop)
    entry = (
        {"accessType": "area", "areaId": str(target.pk)}
        if via == "area"
        else {"accessType": "group", "userGroupId": str(target.area_user_group.pk)}
    )
    access_services.area_update(area=holder, access_list=[entry], actor=SYSTEM)
    with pytest.raises(ConflictError) as exc:
        access_services.area_delete(area=target, actor=SYSTEM)
    assert exc.value.extra["blockedBy"] == {"referencedByAreaIds": _ids(holder)}
    # once the access list lets go, the delete goes through
    access_services.area_update(area=holder, access_list=[], actor=SYSTEM)
    access_services.area_delete(area=target, actor=SYSTEM)
    assert Area.objects.get(pk=target.pk).type_state == "deleted"


def test_an_area_naming_itself_does_not_block_its_own_delete(prop):
    a = d.area_create(prop)
    access_services.area_update(area=a, access_list=[{"accessType": "area", "areaId": str(a.pk)}], actor=SYSTEM)
    access_services.area_delete(area=a, actor=SYSTEM)
    assert Area.objects.get(pk=a.pk).type_state == "deleted"


def test_delete_takes_its_area_group_and_memberships_along(prop):
    parent = d.area_create(prop)
    a = d.area_create(prop, parent=parent)
    resident = d.user_create()
    d.member_add(a.area_user_group, resident)
    access_services.area_delete(area=a, actor="k")
    a = Area.objects.get(pk=a.pk)
    assert (a.type_state, a.last_modified_by) == ("deleted", "k")
    assert UserGroup.objects.get(area=a).type_state == "deleted"
    assert not Membership.objects.filter(user=resident).exists()
    assert not parent.children.alive().exists()
    names = set(Event.objects.filter(area_id=a.pk).values_list("event_name", flat=True))
    assert {"area.deleted", "group.deleted"} <= names
    # with its only child gone, the parent can go too
    access_services.area_delete(area=parent, actor=SYSTEM)
    assert Area.objects.get(pk=parent.pk).type_state == "deleted"


def test_renaming_an_area_renames_its_area_group_unless_it_was_given_its_own_name():
    from apps.access import services as access_services

    prop = d.property_create()
    area = d.area_create(prop, display_name="Unit 1")
    access_services.area_update(area=area, display_name="Unit 1A", actor=SYSTEM)
    group = area.area_user_group
    group.refresh_from_db()
    assert group.display_name == "Unit 1A members"

    access_services.user_group_update(group=group, display_name="The Smiths", actor=SYSTEM)
    access_services.area_update(area=area, display_name="Unit 1B", actor=SYSTEM)
    group.refresh_from_db()
    assert group.display_name == "The Smiths"

"""Property services: one transaction each, with their events and property groups."""

import pytest
from django.core.exceptions import ValidationError

from apps.access import services as access_services
from apps.access.models import Membership, UserGroup
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.models import Event
from apps.properties import services
from apps.properties.models import Property
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def _names(**filters) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("id").values_list("event_name", flat=True))


def test_create_makes_the_property_its_two_groups_and_events():
    owner, manager = d.user_create(), d.user_create()
    prop = access_services.property_create(
        display_name="Harbour View",
        address=d.address(),
        time_zone="Europe/London",
        owner_id=owner.pk,
        access_manager_ids=[manager.pk],
        actor="apiKey:x",
    )
    prop.refresh_from_db()
    assert (prop.display_name, prop.time_zone, prop.owner_id) == ("Harbour View", "Europe/London", owner.pk)
    assert list(prop.access_managers.all()) == [manager]
    assert prop.last_modified_by == "apiKey:x"
    groups = UserGroup.objects.filter(property=prop).order_by("id")
    assert [(g.display_name, g.group_source, g.group_type) for g in groups] == [
        ("Residents", "property", "resident"),
        ("Staff", "property", "staff"),
    ]
    assert _names(property_id=prop.pk) == ["property.created", "group.created", "group.created"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"address": {"line1": "1 Street", "country": "GB", "postalCode": "X"}}, "address"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
    ],
)
def test_create_refuses_bad_address_or_time_zone_and_writes_nothing(kwargs, field):
    before = (Property.objects.count(), UserGroup.objects.count(), Event.objects.count())
    with pytest.raises(ValidationError) as exc:
        access_services.property_create(
            display_name="Bad", actor=SYSTEM, **{"address": d.address(), "time_zone": "UTC", **kwargs}
        )
    assert field in exc.value.message_dict
    assert (Property.objects.count(), UserGroup.objects.count(), Event.objects.count()) == before


def test_create_with_unknown_owner_or_manager_names_the_field_and_writes_nothing():
    import uuid

    before = (Property.objects.count(), Event.objects.count())
    with pytest.raises(ApplicationError) as exc:
        access_services.property_create(display_name="X", address=d.address(), owner_id=uuid.uuid4(), actor=SYSTEM)
    assert "ownerId" in exc.value.fields
    with pytest.raises(ApplicationError) as exc:
        access_services.property_create(
            display_name="X", address=d.address(), access_manager_ids=[uuid.uuid4()], actor=SYSTEM
        )
    assert "accessManagerIds" in exc.value.fields
    assert (Property.objects.count(), Event.objects.count()) == before


def test_update_records_what_changed_and_an_identical_update_is_silent():
    prop = d.property_create(display_name="Old")
    manager = d.user_create()
    services.property_update(
        prop=prop,
        display_name="New",
        address=prop.address,
        access_manager_ids=[manager.pk],
        actor="apiKey:y",
    )
    prop.refresh_from_db()
    assert prop.display_name == "New" and list(prop.access_managers.all()) == [manager]
    updated = Event.objects.get(event_name="property.updated", property_id=prop.pk)
    assert updated.payload == {"changed": ["displayName", "accessManagerIds"]}
    assert prop.last_modified_by == "apiKey:y"

    services.property_update(
        prop=prop, display_name="New", address=prop.address, access_manager_ids=[manager.pk], actor="apiKey:z"
    )
    assert Event.objects.filter(event_name="property.updated", property_id=prop.pk).count() == 1
    prop.refresh_from_db()
    assert prop.last_modified_by == "apiKey:y"


def test_delete_is_refused_while_areas_remain_and_lists_them():
    prop = d.property_create()
    top = d.area_create(prop)
    sub = d.area_create(prop, parent=top)
    with pytest.raises(ConflictError) as exc:
        access_services.property_delete(prop=prop, actor=SYSTEM)
    assert exc.value.status == 409
    assert sorted(exc.value.extra["blockedBy"]["areaIds"]) == sorted([str(top.pk), str(sub.pk)])
    prop.refresh_from_db()
    assert prop.type_state == "active"
    assert not Event.objects.filter(event_name="property.deleted").exists()


def test_delete_soft_deletes_the_property_with_its_groups_and_memberships():
    prop = d.property_create()
    resident = d.user_create()
    group = d.group_create(prop, members=[resident])
    d.member_add(d.property_group(prop), resident)
    access_services.property_delete(prop=prop, actor="apiKey:z")
    prop.refresh_from_db()
    assert prop.type_state == "deleted" and prop.last_modified_by == "apiKey:z"
    assert set(UserGroup.objects.filter(property=prop).values_list("type_state", flat=True)) == {"deleted"}
    assert not Membership.objects.filter(user_group__property=prop).exists()
    assert Event.objects.filter(event_name="group.deleted", property_id=prop.pk).count() == 3
    assert Event.objects.filter(event_name="property.deleted", property_id=prop.pk).count() == 1
    group.refresh_from_db()
    assert group.type_state == "deleted"
    resident.refresh_from_db()
    assert resident.type_state == "active"  # people outlive the building

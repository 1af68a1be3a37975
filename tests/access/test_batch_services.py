"""The batch services bulk imports use: many people and memberships in one write, checked as
one at a time would be, with the events derived access and key maps follow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.access import services as access_services
from apps.access.models import Membership
from apps.accounts import services as account_services
from apps.accounts.models import User
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.events.models import Event
from apps.locks.models import KeyMapRequest
from tests.factories import directory as d
from tests.factories.access import lock_in, locks_of, process_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def prop():
    prop = d.property_create(display_name="Harbour House")
    return prop


def people(n: int, start: int = 0) -> list[dict]:
    return [
        {"email": f"P{i}@Example.com", "display_name": f"Person {i}", "external_id": f"E{i}"}
        for i in range(start, start + n)
    ]


def test_users_create_makes_people_with_their_ids_and_one_event_each():
    made = account_services.users_create(people=people(3), actor=SYSTEM, external_source="import:x")
    assert [u.email for u in made] == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert not made[0].has_usable_password()
    refs = ExternalRef.objects.filter(source="import:x").values_list("external_id", "object_id")
    assert sorted(refs) == sorted((f"E{i}", u.pk) for i, u in enumerate(made))
    events = Event.objects.filter(event_name="user.created", user_id__in=[u.pk for u in made])
    assert events.count() == 3 and events.first().payload == {"isStaff": False, "externalRefs": ["import:x"]}


def test_users_create_refuses_taken_emails_and_ids_and_bad_fields_writing_nothing():
    d.user_create(email="p1@example.com")
    with pytest.raises(ApplicationError, match="email: already used by another person: p1@example.com"):
        account_services.users_create(people=people(3), actor=SYSTEM, external_source="import:x")
    twice = people(2) + [{"email": "q@example.com", "display_name": "Q", "external_id": "E0"}]
    with pytest.raises(ApplicationError, match="externalId: another person's id in import:x: E0"):
        account_services.users_create(people=twice[2:] + people(1), actor=SYSTEM, external_source="import:x")
    with pytest.raises(Exception, match="E.164"):
        account_services.users_create(
            people=[{"email": "r@example.com", "display_name": "R", "phone_number": "12"}], actor=SYSTEM
        )
    assert not User.objects.filter(email__in=["p0@example.com", "q@example.com", "r@example.com"]).exists()


def test_memberships_add_is_one_write_one_event_and_derived_access_follows(prop):
    unit = d.area_create(prop, display_name="3B")
    door = lock_in(unit, "3B door")
    gym = d.group_create(prop, display_name="Gym")
    unit_group = prop.user_groups.get(area=unit)
    made = account_services.users_create(people=people(30), actor=SYSTEM, external_source="import:x")
    d.member_add(gym, made[0])  # already a member: changes nothing
    process_events()
    pairs = [(unit_group, u) for u in made] + [(gym, u) for u in made]
    with CaptureQueriesContext(connection) as queries:
        added = access_services.memberships_add(memberships=pairs, actor=SYSTEM)
    assert added == 59
    assert len(queries) < 10  # flat: not one query per person
    assert Membership.objects.filter(user_group__in=[unit_group, gym]).count() == 60
    event = Event.objects.get(event_name="group.members_added")
    assert event.property_id == prop.pk and len(event.payload["members"]) == 59
    assert event.payload["userIds"] == sorted(str(u.pk) for u in made)
    process_events()
    assert KeyMapRequest.objects.filter(event_id=event.pk, reason="group.members_added").count() == 1
    assert all(str(door.pk) in locks_of(u, prop) for u in made)  # one refresh brought everyone's map

    removed = access_services.memberships_remove(memberships=[(unit_group, u) for u in made[:10]], actor=SYSTEM)
    assert removed == 10
    assert access_services.memberships_remove(memberships=[(unit_group, made[0])], actor=SYSTEM) == 0
    assert Event.objects.filter(event_name="group.members_removed").count() == 1
    process_events()
    assert [str(door.pk) in locks_of(u, prop) for u in made[:11]] == [False] * 10 + [True]


def test_memberships_of_two_properties_are_not_one_batch(prop):
    other = d.property_create(display_name="Elsewhere")
    user = d.user_create(email="ana@example.com")
    pairs = [(d.group_create(prop), user), (d.group_create(other), user)]
    with pytest.raises(ValueError, match="one property"):
        access_services.memberships_add(memberships=pairs, actor=SYSTEM)

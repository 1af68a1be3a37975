"""A scoped caller names only people it already reaches (docs/API.md, "Permissions and scope").

An audit found createGrant, blockUser, unblockUser, explainAccess and whatIfAccess acting on,
or naming, a person who belongs only to another property, and answering a made-up id
differently (so they also told which ids exist). Each operation now answers a person of
another property exactly as it answers an id that does not exist, and writes nothing.
"""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access.models import AccessBlock, AccessGrant
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import access as a
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(client_for):
    """Property A (a manager's key for it, Ann living in its Unit 1 with a door) and property B (Bea)."""
    prop_a, prop_b = d.property_create(display_name="A"), d.property_create(display_name="B")
    unit = d.area_create(prop_a, display_name="Unit 1")
    door = a.lock_in(unit, "Unit 1 door")
    ann = d.user_create(display_name="Ann")
    d.member_add(d.property_group(prop_a), ann)
    d.member_add(unit.area_user_group, ann)
    bea = d.user_create(display_name="Bea Elsewhere")
    d.member_add(d.property_group(prop_b), bea)
    a.process_events()
    manager = client_for(Grant("manage-access", property_id=prop_a.pk))[0]
    return prop_a, door, ann, bea, manager


def _same_refusal(call, stranger_id, status):
    """The answer for a person of another property equals the answer for a made-up id."""
    made_up = uuid.uuid4()
    for_stranger, for_nobody = call(stranger_id), call(made_up)
    assert (for_stranger.status_code, for_nobody.status_code) == (status, status)
    assert for_stranger.json() == for_nobody.json()
    assert "Elsewhere" not in for_stranger.content.decode()
    return for_stranger.json()


def test_create_grant_names_only_people_of_the_property(world):
    prop, door, ann, bea, manager = world
    until = (timezone.now() + timedelta(days=1)).isoformat()
    url = f"/api/v1/properties/{prop.pk}/grants"

    def grant(user_id):
        body = {"userId": str(user_id), "lockId": str(door.pk), "accessLevel": "GUEST", "validUntil": until}
        return manager.post(url, body, format="json")

    refused = _same_refusal(grant, bea.pk, 400)
    assert refused["data"]["fields"] == {"userId": ["No such user."]}
    assert not AccessGrant.objects.exists()
    assert d.ok(grant(ann.pk))["userId"] == str(ann.pk)


def test_block_and_unblock_name_only_people_of_the_property(world):
    prop, door, ann, bea, manager = world
    events = Event.objects.count()

    def block(user_id):
        return manager.put(f"/api/v1/properties/{prop.pk}/blocks/{user_id}", {"reason": "x"}, format="json")

    _same_refusal(block, bea.pk, 404)
    _same_refusal(lambda user_id: manager.delete(f"/api/v1/properties/{prop.pk}/blocks/{user_id}"), bea.pk, 404)
    assert not AccessBlock.objects.exists() and Event.objects.count() == events
    assert d.ok(block(ann.pk))["userId"] == str(ann.pk)


def test_a_blocked_person_stays_reachable_to_be_unblocked(world):
    prop, door, ann, bea, manager = world
    d.ok(manager.put(f"/api/v1/properties/{prop.pk}/blocks/{ann.pk}", {"reason": "moved out"}, format="json"))
    ann.memberships.all().delete()  # no longer in any group of A: the block still ties her to A
    d.ok(manager.delete(f"/api/v1/properties/{prop.pk}/blocks/{ann.pk}"))
    assert not AccessBlock.objects.exists()


def test_explain_names_only_people_of_the_property(world):
    prop, door, ann, bea, manager = world

    def explain(user_id):
        return manager.get(f"/api/v1/properties/{prop.pk}/access/explain", {"userId": user_id, "lockId": door.pk})

    assert _same_refusal(explain, bea.pk, 400)["data"]["fields"] == {"userId": ["No such user."]}
    assert d.ok(explain(ann.pk))["allowed"] is True


def test_what_if_names_only_people_of_the_property(world):
    prop, door, ann, bea, manager = world
    group = d.group_create(prop, display_name="Gym users")

    def what_if(user_id):
        change = {"change": "addMembership", "userGroupId": str(group.pk), "userId": str(user_id)}
        return manager.post(f"/api/v1/properties/{prop.pk}/access/what-if", {"changes": [change]}, format="json")

    refused = _same_refusal(what_if, bea.pk, 400)
    assert refused["data"]["fields"] == {"changes[0].userId": ["No such user."]}
    assert d.ok(what_if(ann.pk))["usersConsidered"] >= 1


def test_user_access_of_a_person_of_another_property_is_not_found(world):
    prop, door, ann, bea, manager = world
    _same_refusal(lambda user_id: manager.get(f"/api/v1/properties/{prop.pk}/users/{user_id}/access"), bea.pk, 404)
    assert d.ok(manager.get(f"/api/v1/properties/{prop.pk}/users/{ann.pk}/access"))["userId"] == str(ann.pk)


def test_an_unscoped_owner_still_names_anyone_but_not_a_made_up_id(world, client_for):
    prop, door, ann, bea, manager = world
    owner = client_for("owner")[0]
    url = f"/api/v1/properties/{prop.pk}/access/explain"
    assert d.ok(owner.get(url, {"userId": bea.pk, "lockId": door.pk}))["allowed"] is False
    d.refused(owner.get(url, {"userId": uuid.uuid4(), "lockId": door.pk}), 400)


def test_a_guest_of_the_property_can_be_blocked_by_its_manager(world, client_for):
    """Holding a door grant at A is a tie to A: A's manager can block a guest an owner let in."""
    prop, door, ann, bea, manager = world
    until = (timezone.now() + timedelta(days=1)).isoformat()
    body = {"userId": str(bea.pk), "lockId": str(door.pk), "accessLevel": "GUEST", "validUntil": until}
    d.ok(client_for("owner")[0].post(f"/api/v1/properties/{prop.pk}/grants", body, format="json"))
    d.ok(manager.put(f"/api/v1/properties/{prop.pk}/blocks/{bea.pk}", {"reason": "lost pass"}, format="json"))

"""Membership windows over HTTP (extension): getUserGroupMembership / updateUserGroupMembership,
and addUserToUserGroup with a window. Lockt-owned windows are refused; another property's
manager gets 404."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType

from apps.access import services as access_services
from apps.access.models import Membership
from apps.core.actors import SYSTEM
from apps.core.models import ExternalRef
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d
from tests.factories.accounts import key_client
from tests.factories.integrations import lockt_account, lockt_person_link

pytestmark = pytest.mark.django_db

FROM, UNTIL = "2026-12-01T09:00:00.000Z", "2026-12-24T18:00:00.000Z"


@pytest.fixture
def world():
    prop = d.property_create(time_zone="Europe/London")
    person = d.user_create(display_name="Ada Lovelace")
    group = d.group_create(prop, display_name="Cleaners", group_type="staff", members=[person])
    manager = key_client(Grant("manage-access", property_id=prop.pk))
    return prop, group, person, manager


def _url(prop, group, user) -> str:
    return f"/api/v1/properties/{prop.pk}/groups/{group.pk}/users/{user.pk}"


def _window(group, user):
    m = Membership.objects.get(user_group=group, user=user)
    return (m.valid_from, m.valid_until)


def test_a_membership_shows_its_window_and_a_manager_sets_it(world):
    prop, group, person, manager = world
    data = d.ok(manager.get(_url(prop, group, person)))
    assert data == {
        "userGroupId": str(group.pk),
        "userId": str(person.pk),
        "userDisplayName": "Ada Lovelace",
        "validFrom": None,
        "validUntil": None,
        "windowSource": "keyhouse",
    }
    data = d.ok(manager.put(_url(prop, group, person), {"validFrom": FROM, "validUntil": UNTIL}, format="json"))
    assert (data["validFrom"], data["validUntil"]) == (FROM, UNTIL)
    assert d.ok(manager.get(_url(prop, group, person))) == data
    assert Event.objects.filter(event_name="group.member_window_set", user_id=person.pk).count() == 1
    # an offset other than Z is the same instant
    data = d.ok(manager.put(_url(prop, group, person), {"validUntil": "2026-12-24T19:00:00+01:00"}, format="json"))
    assert (data["validFrom"], data["validUntil"]) == (None, UNTIL)
    # absent or null: unbounded again
    data = d.ok(manager.put(_url(prop, group, person), {}, format="json"))
    assert (data["validFrom"], data["validUntil"]) == (None, None)
    assert _window(group, person) == (None, None)


def test_adding_a_member_with_a_window(world):
    prop, group, _, manager = world
    newcomer = d.user_create(display_name="Grace Hopper")
    d.group_create(prop, members=[newcomer])  # the manager reaches them through the property
    d.ok(manager.post(_url(prop, group, newcomer), {"validFrom": FROM}, format="json"))
    data = d.ok(manager.get(_url(prop, group, newcomer)))
    assert (data["validFrom"], data["validUntil"]) == (FROM, None)
    event = Event.objects.get(event_name="group.member_added", user_id=newcomer.pk, user_group_id=group.pk)
    assert event.payload["validFrom"].startswith("2026-12-01T09:00:00")
    # without a body, as the spec's operation: a plain membership, nothing else changes
    other = d.user_create()
    d.group_create(prop, members=[other])
    d.ok(manager.post(_url(prop, group, other)))
    assert _window(group, other) == (None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"validFrom": UNTIL, "validUntil": FROM}, "validUntil"),
        ({"validFrom": FROM, "validUntil": FROM}, "validUntil"),
        ({"validFrom": "2026-12-01T09:00:00"}, "validFrom"),  # no offset
        ({"validUntil": "next tuesday"}, "validUntil"),
        ({"validUntil": 1764579600}, "validUntil"),
        ({"validFrom": FROM, "until": UNTIL}, "until"),
    ],
)
@pytest.mark.parametrize("method", ["put", "post"])
def test_a_bad_window_is_a_400_naming_the_field_and_changes_nothing(world, body, field, method):
    prop, group, person, manager = world
    d.ok(manager.put(_url(prop, group, person), {"validUntil": UNTIL}, format="json"))
    before_events, before = Event.objects.count(), _window(group, person)
    response = getattr(manager, method)(_url(prop, group, person), body, format="json")
    assert field in d.refused(response, 400)["data"]["fields"]
    assert (Event.objects.count(), _window(group, person)) == (before_events, before)


def test_not_a_member_is_404(world):
    prop, group, _, manager = world
    stranger = d.user_create()
    d.group_create(prop, members=[stranger])
    d.refused(manager.get(_url(prop, group, stranger)), 404)
    d.refused(manager.put(_url(prop, group, stranger), {"validUntil": UNTIL}, format="json"), 404)
    assert not Membership.objects.filter(user_group=group, user=stranger).exists()


def test_another_propertys_manager_gets_404_and_changes_nothing(world):
    prop, group, person, _ = world
    other = key_client(Grant("manage-access", property_id=d.property_create().pk))
    before = Event.objects.count()
    d.refused(other.get(_url(prop, group, person)), 404)
    d.refused(other.put(_url(prop, group, person), {"validUntil": UNTIL}, format="json"), 404)
    assert (Event.objects.count(), _window(group, person)) == (before, (None, None))


def test_support_reads_but_may_not_edit(world):
    prop, group, person, _ = world
    support = key_client(Grant("support", property_id=prop.pk))
    assert d.ok(support.get(_url(prop, group, person)))["validUntil"] is None
    d.refused(support.put(_url(prop, group, person), {"validUntil": UNTIL}, format="json"), 403)
    assert _window(group, person) == (None, None)


def test_a_lockt_owned_window_is_shown_but_not_editable(world):
    prop, group, person, manager = world
    account = lockt_account(prop, base_url="http://127.0.0.1:9/lockt")
    lockt_person_link(account, person)
    _lockt_group_link(account, group)
    until = dt.datetime(2026, 12, 24, 18, tzinfo=dt.UTC)
    access_services.membership_window_set(group=group, user=person, valid_from=None, valid_until=until, actor=SYSTEM)
    data = d.ok(manager.get(_url(prop, group, person)))
    assert (data["validUntil"], data["windowSource"]) == (UNTIL, "lockt")
    before = Event.objects.count()
    for method, body in (("put", {"validUntil": None}), ("post", {"validUntil": "2027-01-31T00:00:00Z"})):
        refusal = d.refused(getattr(manager, method)(_url(prop, group, person), body, format="json"), 409)
        assert "Ada Lovelace in Cleaners comes from Lockt" in str(refusal), refusal
    assert (Event.objects.count(), _window(group, person)) == (before, (None, until))


def _lockt_group_link(account, group):
    return ExternalRef.objects.create(
        content_type=ContentType.objects.get_for_model(group),
        object_id=group.pk,
        source="lockt",
        account_id=account.pk,
        external_id="7",
        sync_direction="fromExternalToInternal",
        sync_status="synced",
    )

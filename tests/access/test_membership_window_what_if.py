"""What-if honours membership windows (docs/ACCESS.md "What-if"): a member whose window has
ended has nothing to lose or gain; a future or current window counts as access; the
`setMembershipWindow` change previews a window edit."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import access as a
from tests.factories import directory as d
from tests.factories.accounts import key_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def tower():
    """Tower (resident) with Residents on its access list and the Lobby (common) below it, with a
    door: Residents open the Lobby door. Alice is a resident with no window; Bob is one too."""
    prop = d.property_create(display_name="Tower", time_zone="America/New_York")
    residents = d.property_group(prop, "resident")
    building = d.area_create(
        prop, display_name="Tower", access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}]
    )
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=building)
    alice, bob = d.user_create(display_name="Alice"), d.user_create(display_name="Bob")
    d.member_add(residents, alice)
    d.member_add(residents, bob)
    lobby_door = a.lock_in(lobby, "Lobby door")
    a.process_events()
    manager = key_client(Grant("manage-access", property_id=prop.pk))
    return prop, residents, building, alice, bob, lobby_door, manager


def _window(kind: str):
    now = timezone.now()
    return {
        "past": (now - timedelta(days=10), now - timedelta(days=3)),
        "current": (now - timedelta(days=3), now + timedelta(days=3)),
        "future": (now + timedelta(days=3), now + timedelta(days=10)),
    }[kind]


def _what_if(manager, prop, *changes):
    return d.ok(manager.post(f"/api/v1/properties/{prop.pk}/access/what-if", {"changes": list(changes)}, format="json"))


def _who(rows) -> list[tuple[str, str]]:
    return sorted((row["userDisplayName"], row["lockName"]) for row in rows)


@pytest.mark.parametrize(("kind", "bob_loses"), [("past", False), ("current", True), ("future", True)])
def test_a_windowed_member_loses_only_what_the_window_still_gives(tower, kind, bob_loses):
    prop, residents, building, alice, bob, lobby_door, manager = tower
    valid_from, valid_until = _window(kind)
    access_services.membership_window_set(
        group=residents, user=bob, valid_from=valid_from, valid_until=valid_until, actor=SYSTEM
    )
    events = Event.objects.count()

    result = _what_if(manager, prop, {"change": "setAccessList", "areaId": str(building.pk), "accessList": []})

    expected = [("Alice", "Lobby door")] + ([("Bob", "Lobby door")] if bob_loses else [])
    assert _who(result["losses"]) == expected
    assert result["gains"] == [] and result["changed"] == []
    assert Event.objects.count() == events  # nothing written


@pytest.mark.parametrize(("kind", "bob_gains"), [("past", False), ("current", True), ("future", True)])
def test_a_windowed_member_gains_only_what_the_window_allows(tower, kind, bob_gains):
    prop, residents, building, alice, bob, lobby_door, manager = tower
    access_services.area_update(area=building, access_list=[], actor=SYSTEM)
    valid_from, valid_until = _window(kind)
    access_services.membership_window_set(
        group=residents, user=bob, valid_from=valid_from, valid_until=valid_until, actor=SYSTEM
    )
    a.process_events()

    entry = {"accessType": "group", "userGroupId": str(residents.pk)}
    result = _what_if(manager, prop, {"change": "setAccessList", "areaId": str(building.pk), "accessList": [entry]})

    assert _who(result["gains"]) == [("Alice", "Lobby door")] + ([("Bob", "Lobby door")] if bob_gains else [])


def test_set_membership_window_previews_an_edit(tower):
    prop, residents, building, alice, bob, lobby_door, manager = tower
    change = {"change": "setMembershipWindow", "userGroupId": str(residents.pk), "userId": str(bob.pk)}

    ended = _window("past")
    result = _what_if(manager, prop, {**change, "validFrom": None, "validUntil": ended[1].isoformat()})
    assert (_who(result["losses"]), result["gains"], result["changed"]) == ([("Bob", "Lobby door")], [], [])

    later = _window("future")
    result = _what_if(manager, prop, {**change, "validFrom": later[0].isoformat(), "validUntil": None})
    assert (result["losses"], result["gains"], _who(result["changed"])) == ([], [], [("Bob", "Lobby door")])

    # Bob's window has ended; clearing it (both null) gives him the door back
    access_services.membership_window_set(
        group=residents, user=bob, valid_from=ended[0], valid_until=ended[1], actor=SYSTEM
    )
    result = _what_if(manager, prop, {**change, "validFrom": None, "validUntil": None})
    assert (_who(result["gains"]), result["losses"]) == ([("Bob", "Lobby door")], [])


def test_set_membership_window_on_a_non_member_previews_them_joining_with_it(tower):
    prop, residents, building, alice, bob, lobby_door, manager = tower
    stranger = d.user_create(display_name="Stranger")
    d.group_create(prop, members=[stranger])
    later = _window("future")
    change = {
        "change": "setMembershipWindow",
        "userGroupId": str(residents.pk),
        "userId": str(stranger.pk),
        "validFrom": later[0].isoformat(),
    }
    assert _who(_what_if(manager, prop, change)["gains"]) == [("Stranger", "Lobby door")]
    ended = _window("past")
    change = {**change, "validFrom": ended[0].isoformat(), "validUntil": ended[1].isoformat()}
    assert _what_if(manager, prop, change)["gains"] == []


def test_set_membership_window_backwards_is_a_400_naming_the_field(tower):
    prop, residents, building, alice, bob, lobby_door, manager = tower
    now = timezone.now()
    change = {
        "change": "setMembershipWindow",
        "userGroupId": str(residents.pk),
        "userId": str(bob.pk),
        "validFrom": now.isoformat(),
        "validUntil": now.isoformat(),
    }
    url = f"/api/v1/properties/{prop.pk}/access/what-if"
    refused = d.refused(manager.post(url, {"changes": [change]}, format="json"), 400)
    assert refused["error"] == "changes[0].validUntil: Must be after validFrom."

"""A membership window narrows a member's key-map entries (pure protocol)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.locks import protocol
from apps.locks.models import Lock, SignedKeyMap
from tests.factories import directory as d
from tests.locks.conftest import Phone, settle

GROUP_ID, ANN, BEN = "group-1", "user-ann", "user-ben"
T0, EXPIRY = 1_764_000_000, 1_764_900_000


def _content(lines, member_windows=None) -> dict:
    return protocol.key_map_content(
        lock_id="lock-1",
        property_id="property-1",
        time_zone="UTC",
        lines=lines,
        members={GROUP_ID: [ANN, BEN]},
        keys={
            ANN: [{"kid": "kid-ann", "publicKey": "pk-ann", "keyId": "k1", "userDeviceId": "d1"}],
            BEN: [{"kid": "kid-ben", "publicKey": "pk-ben", "keyId": "k2", "userDeviceId": "d2"}],
        },
        schedules={},
        property_keys=[],
        property_seal_key=None,
        member_windows=member_windows,
    )


def _validity(content) -> dict:
    return {e["userId"]: (e["validFrom"], e["validUntil"]) for e in content["entries"]}


def test_only_the_windowed_member_gets_an_end_and_the_other_keeps_the_lines_validity():
    lines = [protocol.Line("group", GROUP_ID, "", None, None)]
    content = _content(lines, {(GROUP_ID, ANN): (None, EXPIRY)})
    assert _validity(content) == {ANN: (None, EXPIRY), BEN: (None, None)}


def test_the_later_start_and_earlier_end_win_and_no_overlap_drops_the_entry():
    lines = [protocol.Line("group", GROUP_ID, "", T0, EXPIRY + 100)]
    content = _content(lines, {(GROUP_ID, ANN): (T0 - 50, EXPIRY), (GROUP_ID, BEN): (EXPIRY + 100, None)})
    assert _validity(content) == {ANN: (T0, EXPIRY)}


def test_without_windows_the_content_is_unchanged():
    lines = [protocol.Line("group", GROUP_ID, "", None, None)]
    assert _content(lines) == _content(lines, {})


@pytest.mark.django_db
def test_a_membership_window_reaches_the_signed_key_map_and_clearing_it_lifts_the_end(world):
    d.member_add(world.residents, world.alice)
    Phone.provision(world.alice)
    settle()
    until = (timezone.now() + timedelta(hours=1)).replace(microsecond=500_000)
    assert access_services.membership_window_set(
        group=world.residents, user=world.alice, valid_from=None, valid_until=until, actor=SYSTEM
    )
    settle()
    (entry,) = _current(world)["entries"]
    assert (entry["userId"], entry["validUntil"]) == (str(world.alice.pk), protocol.unix(until))  # closes no later

    assert not access_services.membership_window_set(  # the same window: nothing to do
        group=world.residents, user=world.alice, valid_from=None, valid_until=until, actor=SYSTEM
    )
    access_services.membership_window_set(
        group=world.residents, user=world.alice, valid_from=None, valid_until=None, actor=SYSTEM
    )
    settle()
    (entry,) = _current(world)["entries"]
    assert entry["validUntil"] is None


def _current(world) -> dict:
    lock = Lock.objects.get(pk=world.lock.lock_id)
    return SignedKeyMap.objects.get(lock_id=lock.pk, version=lock.signed_key_map_version).payload

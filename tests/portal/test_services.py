"""Unit users through the portal services: membership, guest grants, block and unblock, the
last UNIT user, passphrases (generated, chosen, unique, encrypted at rest), tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessGrant
from apps.accounts.selectors import credential_authenticate
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.models import Event
from apps.portal import passphrases, selectors, services
from apps.portal.models import UnitUser
from tests.factories import access as a
from tests.portal.conftest import add

pytestmark = pytest.mark.django_db


def test_unit_and_linked_users_open_their_unit_not_the_next(building):
    b = building
    for unit_user in (b.ulla, b.lena):
        assert a.locks_of(unit_user.user, b.prop) == {str(b.doors["unit1"].pk)}
    assert a.locks_of(b.uma.user, b.prop) == {str(b.doors["unit2"].pk)}


def test_a_generated_passphrase_is_16_unambiguous_characters_encrypted_at_rest(building):
    passphrase = selectors.passphrase_of(building.ulla)
    assert len(passphrase) == 16 and set(passphrase) <= set(passphrases.ALPHABET)
    assert not set("0Oo1lIi") & set(passphrase)
    row = UnitUser.objects.get(pk=building.ulla.pk)
    assert passphrase.encode() not in bytes(row.passphrase_wrapped)
    assert passphrase not in row.passphrase_digest
    # no event carries it
    assert not any(passphrase in str(e.payload) for e in Event.objects.all())


def test_the_property_sets_the_generated_length(building):
    services.portal_settings_update(prop=building.prop, actor=SYSTEM, passphrase_length=24)
    unit_user, _, dpsk = services.unit_user_update(unit_user=building.lena, passphrase="", actor=SYSTEM)
    assert len(selectors.passphrase_of(unit_user)) == 24 and dpsk.event_name == "unit_user.passphrase_changed"


@pytest.mark.parametrize("length, ok", [(7, False), (8, True), (63, True), (64, False)])
def test_chosen_passphrase_length_boundaries(building, length, ok):
    chosen = ("Ab3-" * 20)[:length]
    if ok:
        unit_user, _, _ = services.unit_user_update(unit_user=building.lena, passphrase=chosen, actor=SYSTEM)
        assert selectors.passphrase_of(unit_user) == chosen
    else:
        with pytest.raises(ApplicationError) as refused:
            services.unit_user_update(unit_user=building.lena, passphrase=chosen, actor=SYSTEM)
        assert "passphrase" in refused.value.fields


def test_chosen_passphrase_must_be_printable_ascii_and_unique_without_naming_the_holder(building):
    with pytest.raises(ApplicationError) as refused:
        services.unit_user_update(unit_user=building.lena, passphrase="café-au-lait", actor=SYSTEM)
    assert "printable ASCII" in refused.value.fields["passphrase"][0]
    taken = selectors.passphrase_of(building.uma)  # another unit of the same property
    with pytest.raises(ApplicationError) as refused:
        services.unit_user_update(unit_user=building.lena, passphrase=taken, actor=SYSTEM)
    message = refused.value.fields["passphrase"][0]
    assert "Uma" not in message and "Unit 2" not in message and "cannot be used" in message
    assert selectors.passphrase_of(UnitUser.objects.get(pk=building.lena.pk)) != taken


def test_block_removes_membership_and_passphrase_and_unblock_restores(building):
    b = building
    blocked = services.unit_user_block(unit_user=b.lena, actor=SYSTEM)
    a.process_events()
    assert blocked.status == "BLOCKED" and selectors.passphrase_of(blocked) is None
    assert a.locks_of(b.lena.user, b.prop) == set()
    names = list(Event.objects.filter(user_id=b.lena.user_id).values_list("event_name", flat=True))
    assert "group.member_removed" in names and "unit_user.blocked" in names

    active = services.unit_user_unblock(unit_user=blocked, actor=SYSTEM)
    a.process_events()
    assert active.status == "ACTIVE" and len(selectors.passphrase_of(active)) == 16
    assert a.locks_of(b.lena.user, b.prop) == {str(b.doors["unit1"].pk)}


def test_the_last_active_unit_user_cannot_be_blocked(building):
    with pytest.raises(ConflictError):
        services.unit_user_block(unit_user=building.ulla, actor=SYSTEM)
    second = add(building.unit1, name="Ursula Second", user_type="UNIT")
    services.unit_user_block(unit_user=building.ulla, actor=SYSTEM)
    with pytest.raises(ConflictError):
        services.unit_user_block(unit_user=second, actor=SYSTEM)
    assert UnitUser.objects.get(pk=second.pk).status == "ACTIVE"


def test_a_deleted_person_leaves_the_unit_the_portal_and_the_wifi_export(building):
    b = building
    passphrase = selectors.passphrase_of(b.lena)
    access_services.user_delete(user=b.lena.user, actor=SYSTEM)
    assert b.lena.user_id not in {u.user_id for u in selectors.unit_user_list(area_id=b.unit1.pk)}
    a.process_events()
    row = UnitUser.objects.get(pk=b.lena.pk)
    assert row.type_state == "deleted" and selectors.passphrase_of(row) is None
    assert passphrase not in {entry["passphrase"] for entry in selectors.dpsk_export(property_id=b.prop.pk)}
    assert Event.objects.filter(event_name="unit_user.removed", user_id=b.lena.user_id).count() == 1
    # The handler runs again (a redelivered event): nothing more happens.
    services.unit_users_of_deleted_user(user_id=b.lena.user_id, actor=SYSTEM)
    assert Event.objects.filter(event_name="unit_user.removed", user_id=b.lena.user_id).count() == 1
    # The last leaseholder may leave this way (there is no one left to protect).
    access_services.user_delete(user=b.uma.user, actor=SYSTEM)
    a.process_events()
    assert not selectors.unit_user_list(area_id=b.unit2.pk).exists()


def test_a_guest_gets_guest_grants_on_the_unit_and_the_areas_above_until_the_window_ends(building):
    b = building
    until = timezone.now() + timedelta(days=2)
    guest = services.guest_invite(
        area=b.unit1, user_name="Gus Guest", email="gus@example.test", valid_until=until, actor="user:x"
    )
    a.process_events()
    grants = AccessGrant.objects.filter(pk__in=guest.grant_ids)
    assert {g.area_id for g in grants} == {b.unit1.pk, b.tower.pk}
    assert {(g.access_level, g.valid_until, g.granted_by) for g in grants} == {("GUEST", until, "user:x")}
    assert a.locks_of(guest.user, b.prop) == {str(b.doors["unit1"].pk), str(b.doors["lobby"].pk)}
    assert selectors.passphrase_active(guest)
    assert not selectors.passphrase_active(guest, now=until)

    ended = services.guest_end(unit_user=guest, actor=SYSTEM)
    a.process_events()
    assert a.locks_of(guest.user, b.prop) == set() and selectors.passphrase_of(ended) is None
    assert all(g.revoked_at for g in AccessGrant.objects.filter(pk__in=guest.grant_ids))


@pytest.mark.parametrize(
    "until, message",
    [(None, "Required"), (timedelta(days=-1), "future"), (timedelta(days=31), "at most 30 days")],
)
def test_guest_windows_must_end_in_the_future_within_the_property_maximum(building, until, message):
    with pytest.raises(ApplicationError) as refused:
        services.guest_invite(
            area=building.unit1,
            user_name="Gus",
            email="gus@example.test",
            valid_until=None if until is None else timezone.now() + until,
            actor=SYSTEM,
        )
    assert message in refused.value.fields["validUntil"][0]
    assert not UnitUser.objects.filter(email="gus@example.test").exists()


def test_rotating_the_token_ends_the_old_one_at_once(building):
    assert credential_authenticate(building.token1)[0].id == building.unit1.pk
    _, new = services.unit_token_rotate(area=building.unit1, actor=SYSTEM)
    assert credential_authenticate(building.token1) is None
    assert credential_authenticate(new)[0].kind == "unit"
    assert new.startswith("khr_")

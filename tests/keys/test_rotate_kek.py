"""manage.py rotate_kek: rewrap every server-held private key under the current KEK."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.keys import crypto, services
from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose
from apps.keys.models import Key
from tests.keys.conftest import KEK_1, KEK_2

pytestmark = pytest.mark.django_db


def server_key() -> Key:
    return services.key_generate(
        owner_type=KeyOwnerType.USER_DEVICE,
        owner_id=uuid.uuid4(),
        property_id=None,
        purpose=KeyPurpose.DEVICE_ACCESS_KEY,
        key_mode=KeyKeyMode.SIGN_VERIFY,
        actor=SYSTEM,
    )


@pytest.fixture
def keys():
    """Three server-held keys under KEK 1, plus one party-held key (nothing to rewrap)."""
    made = [server_key() for _ in range(3)]
    services.key_register_public(
        owner_type=KeyOwnerType.LOCK,
        owner_id=uuid.uuid4(),
        property_id=None,
        purpose=KeyPurpose.LOCK_KEY,
        key_mode=KeyKeyMode.SIGN_VERIFY,
        public_key=crypto.generate("Ed25519").public,
        actor=SYSTEM,
    )
    return {key.id: bytes(services.key_private(key=key)) for key in made}


def rotate(*args) -> str:
    out = io.StringIO()
    call_command("rotate_kek", *args, stdout=out, stderr=out)
    return out.getvalue()


def add_kek_2(settings, current=2):
    settings.KEYHOUSE_KEK_RING = {1: KEK_1, 2: KEK_2}
    settings.KEYHOUSE_KEK_CURRENT = current


def test_rotate_then_remove_the_old_kek(settings, keys):
    add_kek_2(settings)
    out = rotate()
    assert "rewrapped: 3" in out and "failed: 0" in out and "older keks can be removed" in out
    assert set(Key.objects.filter(kek_id__isnull=False).values_list("kek_id", flat=True)) == {2}
    settings.KEYHOUSE_KEK_RING = {2: KEK_2}  # the old KEK is gone
    for key in Key.objects.filter(kek_id__isnull=False):
        assert services.key_private(key=key) == keys[key.id]
    event = Event.objects.get(event_name="key.kek_rotated")
    assert event.payload == {"kekId": 2, "rewrapped": 3, "failed": 0}


def test_rotating_again_changes_nothing(settings, keys):
    add_kek_2(settings)
    rotate()
    wrapped = dict(Key.objects.values_list("id", "wrapped_private_key"))
    out = rotate()
    assert "rewrapped: 0" in out and "already current: 3" in out
    assert {k: bytes(v) if v is not None else None for k, v in wrapped.items()} == {
        k: bytes(v) if v is not None else None for k, v in Key.objects.values_list("id", "wrapped_private_key")
    }
    assert Event.objects.filter(event_name="key.kek_rotated").count() == 1


def test_a_rotation_that_stopped_half_way_resumes(settings, keys):
    add_kek_2(settings)
    first = Key.objects.filter(kek_id=1).order_by("id").first()
    assert services.key_rewrap(key=first) is True  # as if the command died after one key
    assert services.key_rewrap(key=first) is False
    out = rotate()
    assert "rewrapped: 2" in out and "already current: 1" in out
    assert not Key.objects.filter(kek_id=1).exists()


def test_pinning_current_to_the_old_kek_rewraps_nothing(settings, keys):
    add_kek_2(settings, current=1)  # new KEK deployed, not yet current
    assert "rewrapped: 0" in rotate()
    assert server_key().kek_id == 1


def test_dry_run_counts_and_changes_nothing(settings, keys):
    add_kek_2(settings)
    out = rotate("--dry-run")
    assert "to rewrap: kek 1: 3" in out
    assert Key.objects.filter(kek_id=1).count() == 3


def test_a_key_whose_kek_is_gone_is_reported_and_the_rest_move(settings, keys):
    lost = Key.objects.filter(kek_id=1).order_by("id").first()
    Key.objects.filter(pk=lost.pk).update(kek_id=9)  # wrapped under a KEK nobody has any more
    add_kek_2(settings)
    with pytest.raises(CommandError, match="1 secret"):
        rotate()
    assert Key.objects.filter(kek_id=2).count() == 2
    assert Key.objects.get(pk=lost.pk).kek_id == 9
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_kek", stdout=out, stderr=out)
    assert f"key {lost.pk}: kekId 9 is not in KEYHOUSE_KEK_RING" in out.getvalue()
    assert "still under old keks: kek 9: 1" in out.getvalue()

import pytest

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.core.exceptions import ConflictError
from apps.devices import services
from apps.devices.models import UserDevice
from apps.events.models import Event
from apps.keys.models import Key
from tests.devices.factories import device_provision
from tests.devices.phone import Phone
from tests.factories.access import process_events
from tests.factories.directory import user_create


def test_provision_registers_three_public_keys_and_emits_event(db):
    alice = user_create()
    device, phone = device_provision(alice)
    keys = Key.objects.filter(owner_type="userDevice", owner_id=device.pk)
    assert {(k.purpose, k.key_mode, k.kid) for k in keys} == {
        ("deviceAccessKey", "SIGN_VERIFY", phone.access.kid),
        ("deviceSyncKey", "SIGN_VERIFY", phone.sync.kid),
        ("deviceSyncKey", "ENCRYPT_DECRYPT", phone.seal.kid),
    }
    assert all(not k.server_held for k in keys)
    event = Event.objects.get(event_name="device.provisioned")
    assert (event.user_id, event.user_device_id, event.event_source) == (alice.pk, device.pk, "device")


def test_a_registered_public_key_cannot_be_provisioned_again(db):
    alice, mallory = user_create(), user_create()
    _, phone = device_provision(alice)
    stolen = Phone.generate()
    stolen.access = phone.access  # the public half of Alice's access key
    with pytest.raises(ConflictError) as refused:
        device_provision(mallory, phone=stolen)
    assert "deviceAccessPublicKey" in refused.value.fields
    assert UserDevice.objects.filter(user=mallory).count() == 0
    assert Key.objects.filter(owner_type="userDevice").count() == 3  # nothing half-written


def test_deprovision_deactivates_keys_soft_deletes_and_is_idempotent(db):
    alice = user_create()
    device, _ = device_provision(alice)
    device = services.user_device_deprovision(device=device, actor=SYSTEM)
    assert device.type_state == "deleted" and device.deprovisioned_at is not None
    assert set(Key.objects.filter(owner_id=device.pk).values_list("type_state", flat=True)) == {"inactive"}
    services.user_device_deprovision(device=device, actor=SYSTEM)
    assert Event.objects.filter(event_name="device.deprovisioned", user_device_id=device.pk).count() == 1


def test_deleting_a_user_deprovisions_their_devices(db):
    alice = user_create()
    device, _ = device_provision(alice)
    access_services.user_delete(user=alice, actor=SYSTEM)
    process_events()
    device.refresh_from_db()
    assert device.deprovisioned_at is not None

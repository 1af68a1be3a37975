from apps.core.actors import SYSTEM
from apps.devices import selectors, services
from apps.keys import crypto
from tests.devices.factories import device_provision
from tests.factories.directory import user_create


def test_device_access_keys_lists_active_provisioned_devices_in_one_query(db, django_assert_num_queries):
    alice, bob, carol = user_create(), user_create(), user_create()
    phone_a, alice_phone = device_provision(alice)
    tablet_a, _ = device_provision(alice, display_name="Alice's second phone")
    bob_phone, _ = device_provision(bob)
    services.user_device_deprovision(device=bob_phone, actor=SYSTEM)

    with django_assert_num_queries(1):
        keys = selectors.device_access_keys([alice.pk, bob.pk, carol.pk])

    assert set(keys) == {str(alice.pk)}
    assert [k["userDeviceId"] for k in keys[str(alice.pk)]] == [str(phone_a.pk), str(tablet_a.pk)]
    first = keys[str(alice.pk)][0]
    assert first["kid"] == alice_phone.access.kid
    assert crypto.b64url_decode(first["publicKey"]) == alice_phone.access.public
    assert first["keyId"] == str(phone_a.access_key_id)


def test_device_ids_for_users(db, django_assert_num_queries):
    alice, bob = user_create(), user_create()
    device, _ = device_provision(alice)
    with django_assert_num_queries(1):
        ids = selectors.device_ids_for_users([alice.pk, bob.pk])
    assert ids == {str(alice.pk): [str(device.pk)]}

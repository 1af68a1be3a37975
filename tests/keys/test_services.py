"""Key services: generate (server-held), register (party-held), private, rotate, deactivate."""

import base64
import json
import logging
import uuid

import pytest
from django.core.exceptions import ValidationError

from apps.core.actors import SYSTEM
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.models import Event
from apps.keys import canonical, crypto, kek, services
from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose
from apps.keys.models import Key
from apps.keys.selectors import key_active, key_get_by_kid, key_list_for_owner
from tests.factories.directory import property_create
from tests.keys.conftest import vectors

pytestmark = pytest.mark.django_db

SIGN, ENCRYPT = KeyKeyMode.SIGN_VERIFY, KeyKeyMode.ENCRYPT_DECRYPT
WEAK_KEYS = vectors("weak_keys.json")["refusedKeys"]
MODE = {crypto.ED25519: SIGN, crypto.X25519: ENCRYPT}


@pytest.fixture
def prop():
    return property_create()


def property_key(prop, mode=SIGN) -> Key:
    return services.key_generate(
        owner_type=KeyOwnerType.PROPERTY,
        owner_id=prop.id,
        property_id=prop.id,
        purpose=KeyPurpose.PROPERTY_KEY,
        key_mode=mode,
        actor=SYSTEM,
    )


def lock_key(public: bytes, lock_id=None, prop=None, mode=SIGN) -> Key:
    return services.key_register_public(
        owner_type=KeyOwnerType.LOCK,
        owner_id=lock_id or uuid.uuid4(),
        property_id=prop.id if prop else None,
        purpose=KeyPurpose.LOCK_KEY,
        key_mode=mode,
        public_key=public,
        actor=SYSTEM,
    )


def spellings(secret: bytes) -> list[str]:
    """Every way a private key could show up in text."""
    return [
        secret.hex(),
        secret.hex().upper(),
        base64.b64encode(secret).decode(),
        crypto.b64url_encode(secret),
        repr(bytes(secret))[2:-1],
    ]


def test_generate_keeps_a_wrapped_private_key(prop):
    key = property_key(prop)
    key.refresh_from_db()
    assert (key.algorithm, key.key_mode, key.type_state) == ("Ed25519", SIGN, EntityTypeState.ACTIVE)
    assert key.server_held and key.kek_id == 1
    assert key.kid == crypto.key_id("Ed25519", key.public_key_bytes)
    private = services.key_private(key=key)
    assert crypto.public_key("Ed25519", private) == key.public_key_bytes
    assert bytes(private) not in bytes(key.wrapped_private_key)
    event = Event.objects.get(event_name="key.generated")
    assert (event.key_id, event.property_id) == (key.id, prop.id)
    assert event.payload == {
        "kid": key.kid,
        "purpose": "propertyKey",
        "keyMode": "SIGN_VERIFY",
        "ownerType": "property",
        "ownerId": str(prop.id),
        "serverHeld": True,
        "kekId": 1,
    }


def test_generated_keys_sign_and_open(prop):
    signing, sealing = property_key(prop), property_key(prop, ENCRYPT)
    assert sealing.algorithm == "X25519"
    message = canonical.sign_message({"a": 1}, canonical.CONTEXT_LOCK_KEY_MAP, [services.key_private(key=signing)])
    assert canonical.verify_message(message, canonical.CONTEXT_LOCK_KEY_MAP, [signing.public_key_bytes])
    sealed = crypto.seal(sealing.public_key_bytes, b"logs", info=canonical.CONTEXT_SEAL_ACCESS_LOGS)
    opened = crypto.unseal(services.key_private(key=sealing), sealed, info=canonical.CONTEXT_SEAL_ACCESS_LOGS)
    assert opened == b"logs"


def test_register_public_keeps_no_private_key(prop):
    pair = crypto.generate("Ed25519")
    lock_id = uuid.uuid4()
    key = lock_key(pair.public, lock_id, prop)
    assert not key.server_held and key.kek_id is None and key.kid == pair.kid
    with pytest.raises(services.KeyCustodyError):
        services.key_private(key=key)
    event = Event.objects.get(event_name="key.registered")
    assert (event.key_id, event.lock_id, event.property_id) == (key.id, lock_id, prop.id)
    assert key_get_by_kid(kid=pair.kid) == key


def test_a_public_key_is_registered_once():
    pair = crypto.generate("Ed25519")
    lock_key(pair.public)
    with pytest.raises(ConflictError):
        lock_key(pair.public)  # another lock claiming the same key


@pytest.mark.parametrize("public", [b"short", bytes(33)])
def test_register_refuses_malformed_public_keys(public):
    with pytest.raises(ApplicationError, match="publicKey"):
        lock_key(public)


@pytest.mark.parametrize("case", WEAK_KEYS, ids=lambda c: c["name"])
def test_register_refuses_weak_public_keys(case):
    with pytest.raises(ApplicationError, match="publicKey: a weak point"):
        lock_key(bytes.fromhex(case["publicKeyHex"]), mode=MODE[case["algorithm"]])
    assert not Key.objects.exists()


@pytest.mark.parametrize("case", WEAK_KEYS, ids=lambda c: c["name"])
def test_rotating_to_a_weak_public_key_is_refused(case):
    old = lock_key(crypto.generate(case["algorithm"]).public, mode=MODE[case["algorithm"]])
    with pytest.raises(ApplicationError, match="publicKey: a weak point") as refused:
        services.key_rotate(key=old, actor=SYSTEM, public_key=bytes.fromhex(case["publicKeyHex"]))
    assert list(refused.value.fields) == ["publicKey"]
    old.refresh_from_db()
    assert old.type_state == EntityTypeState.ACTIVE and Key.objects.count() == 1


def test_a_key_row_with_a_weak_public_key_does_not_validate(prop):
    key = lock_key(crypto.generate(crypto.ED25519).public)
    key.public_key, key.kid = bytes(32), crypto.key_id(crypto.ED25519, bytes(32))
    with pytest.raises(ValidationError, match="weak point") as refused:
        key.full_clean()
    assert set(refused.value.message_dict) == {"public_key"}


def test_one_active_key_per_owner_purpose_and_mode(prop):
    property_key(prop)
    property_key(prop, ENCRYPT)  # the other mode is a different key
    with pytest.raises(ConflictError):
        property_key(prop)
    assert Key.objects.count() == 2


def test_purpose_must_fit_the_owner(prop):
    with pytest.raises(ValidationError, match="propertyKey"):
        services.key_generate(
            owner_type=KeyOwnerType.LOCK,
            owner_id=uuid.uuid4(),
            property_id=None,
            purpose=KeyPurpose.PROPERTY_KEY,
            key_mode=SIGN,
            actor=SYSTEM,
        )
    with pytest.raises(ApplicationError, match="keyMode"):
        property_key(prop, "BOTH")
    assert not Key.objects.exists()


def test_rotate_a_server_held_key(prop):
    old = property_key(prop)
    old_private = services.key_private(key=old)
    new = services.key_rotate(key=old, actor="staff:1")
    old.refresh_from_db()
    assert old.type_state == EntityTypeState.INACTIVE and old.rotated_at is not None
    assert new.replaces == old and new.kid != old.kid and new.server_held
    assert services.key_private(key=new) != old_private
    assert services.key_private(key=old) == old_private  # kept, to verify what it signed before
    assert key_active(owner_type="property", owner_id=prop.id, purpose="propertyKey", key_mode=SIGN) == new
    assert list(key_list_for_owner(owner_type="property", owner_id=prop.id)) == [new, old]
    event = Event.objects.get(event_name="key.rotated")
    assert event.key_id == new.id and event.payload["previousKid"] == old.kid
    with pytest.raises(ConflictError):
        services.key_rotate(key=old, actor=SYSTEM)
    with pytest.raises(ApplicationError):
        services.key_rotate(key=new, actor=SYSTEM, public_key=crypto.generate("Ed25519").public)


def test_rotate_a_party_held_key_needs_the_new_public_key():
    old = lock_key(crypto.generate("Ed25519").public)
    with pytest.raises(services.KeyCustodyError):
        services.key_rotate(key=old, actor=SYSTEM)
    with pytest.raises(ConflictError):
        services.key_rotate(key=old, actor=SYSTEM, public_key=old.public_key_bytes)
    pair = crypto.generate("Ed25519")
    new = services.key_rotate(key=old, actor=SYSTEM, public_key=pair.public)
    assert new.kid == pair.kid and not new.server_held and new.replaces_id == old.id


def test_deactivate(prop):
    key = property_key(prop)
    services.key_deactivate(key=key, actor=SYSTEM)
    key.refresh_from_db()
    assert key.type_state == EntityTypeState.INACTIVE
    services.key_deactivate(key=key, actor=SYSTEM)  # again: nothing happens
    assert Event.objects.filter(event_name="key.deactivated").count() == 1
    assert property_key(prop).type_state == EntityTypeState.ACTIVE  # room for a new one


def test_property_key_ensure_is_idempotent(prop):
    first = services.property_key_ensure(property_id=prop.id, actor=SYSTEM)
    assert services.property_key_ensure(property_id=prop.id, actor=SYSTEM) == first
    assert first.purpose == "propertyKey" and first.key_mode == SIGN
    assert services.property_key_ensure(property_id=prop.id, actor=SYSTEM, key_mode=ENCRYPT).algorithm == "X25519"
    assert Event.objects.filter(event_name="key.generated").count() == 2


def test_a_wrapped_key_copied_onto_another_row_does_not_unwrap(prop):
    one, two = property_key(prop), property_key(prop, ENCRYPT)
    Key.objects.filter(pk=two.pk).update(wrapped_private_key=one.wrapped_private_key, kek_id=one.kek_id)
    two.refresh_from_db()
    with pytest.raises(kek.KekError):
        services.key_private(key=two)


def test_private_keys_never_reach_logs_repr_str_or_events(prop, caplog):
    caplog.set_level(logging.DEBUG)
    key = property_key(prop)
    private = services.key_private(key=key)
    logging.getLogger("keyhouse.keys").info("unwrapped %s %r for %s", private, private, key)
    rotated = services.key_rotate(key=key, actor=SYSTEM)
    rotated_private = services.key_private(key=rotated)
    texts = [
        caplog.text,
        repr(key),
        str(key),
        repr(rotated),
        str(rotated),
        repr(private),
        str(private),
        f"{private}",
        json.dumps(list(Event.objects.values_list("payload", flat=True))),
    ]
    assert "generated" in caplog.text and "rotated" in caplog.text
    for secret in (private, rotated_private):
        for spelling in spellings(secret):
            for text in texts:
                assert spelling not in text

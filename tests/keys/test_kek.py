"""kek.py: parsing the ring, wrapping and unwrapping private keys, and what must not unwrap."""

import base64
import os
import stat

import pytest

from apps.keys import crypto, kek
from apps.keys.kek import KekError, UnknownKek
from tests.keys.conftest import KEK_1, KEK_2, ring

BINDING = {"key_id": "0190a1b2-c3d4-7e5f-8a9b-000000000001", "purpose": "propertyKey", "algorithm": "Ed25519"}
PRIVATE = bytes(range(1, 33))


def test_wrap_and_unwrap():
    one = ring({1: KEK_1}, 1)
    kek_id, wrapped = kek.wrap(PRIVATE, ring=one, **BINDING)
    assert kek_id == 1 and len(wrapped) == 32 + kek.WRAP_OVERHEAD
    assert PRIVATE not in wrapped
    unwrapped = kek.unwrap(wrapped, kek_id=1, ring=one, **BINDING)
    assert unwrapped == PRIVATE and isinstance(unwrapped, crypto.SecretBytes)


def test_wrap_uses_the_current_kek_not_the_highest():
    both = ring({1: KEK_1, 2: KEK_2}, 1)
    assert kek.wrap(PRIVATE, ring=both, **BINDING)[0] == 1


def test_unwrap_under_the_wrong_kek_id_fails():
    both = ring({1: KEK_1, 2: KEK_2}, 1)
    _, wrapped = kek.wrap(PRIVATE, ring=both, **BINDING)
    with pytest.raises(KekError):
        kek.unwrap(wrapped, kek_id=2, ring=both, **BINDING)


def test_unwrap_with_the_kek_removed_names_the_missing_id():
    _, wrapped = kek.wrap(PRIVATE, ring=ring({1: KEK_1}, 1), **BINDING)
    with pytest.raises(UnknownKek, match="kekId 1"):
        kek.unwrap(wrapped, kek_id=1, ring=ring({2: KEK_2}, 2), **BINDING)


@pytest.mark.parametrize("field", ["key_id", "purpose", "algorithm"])
def test_a_wrapped_key_is_bound_to_its_row(field):
    one = ring({1: KEK_1}, 1)
    _, wrapped = kek.wrap(PRIVATE, ring=one, **BINDING)
    changed = {"key_id": "0190a1b2-c3d4-7e5f-8a9b-000000000002", "purpose": "lockKey", "algorithm": "X25519"}
    other = {**BINDING, field: changed[field]}
    with pytest.raises(KekError):
        kek.unwrap(wrapped, kek_id=1, ring=one, **other)


@pytest.mark.parametrize("where", [0, 1, 13, -1])
def test_tampered_wrapped_key_fails(where):
    one = ring({1: KEK_1}, 1)
    _, wrapped = kek.wrap(PRIVATE, ring=one, **BINDING)
    tampered = bytearray(wrapped)
    tampered[where] ^= 1
    with pytest.raises(KekError):
        kek.unwrap(bytes(tampered), kek_id=1, ring=one, **BINDING)
    with pytest.raises(KekError):
        kek.unwrap(wrapped[:20], kek_id=1, ring=one, **BINDING)


def test_ring_from_settings(settings):
    settings.KEYHOUSE_KEK_RING = {1: KEK_1, 2: KEK_2}
    settings.KEYHOUSE_KEK_CURRENT = 2
    assert kek.kek_ring().current_id == 2
    assert KEK_1 not in repr(kek.kek_ring()) and "current=2" in repr(kek.kek_ring())


@pytest.mark.parametrize(
    ("keys", "current", "message"),
    [
        ({}, 1, "empty"),
        ({1: "not base64!"}, 1, "base64"),
        ({1: base64.b64encode(bytes(16)).decode()}, 1, "32 bytes"),
        ({1: KEK_1}, 2, "current id 2"),
    ],
)
def test_ring_parse_errors(keys, current, message):
    with pytest.raises(ValueError, match=message):
        kek.kek_ring_parse(keys, current)


def test_dev_kek_is_generated_once_and_private(tmp_path):
    first, second = kek.dev_kek_text(tmp_path / "var"), kek.dev_kek_text(tmp_path / "var")
    assert first == second
    assert len(kek.parse_kek(first)) == 32
    mode = os.stat(tmp_path / "var" / kek.DEV_KEK_FILE).st_mode
    assert stat.S_IMODE(mode) == 0o600

"""Which property keys sign: locks get the active key and those rotated out within the overlap,
phones the active key only (apps.keys.selectors, "which property keys sign")."""

import uuid

from apps.core.actors import SYSTEM
from apps.keys.selectors import property_active_signing_keys, property_signing_keys
from apps.keys.services import key_rotate, property_key_ensure
from tests.factories.directory import property_create


def test_phones_get_the_head_of_the_signers_locks_get(db, django_assert_num_queries):
    rotated, plain, unkeyed = property_create().pk, property_create().pk, uuid.uuid4()
    first = property_key_ensure(property_id=rotated, actor=SYSTEM)
    second = key_rotate(key=first, actor=SYSTEM)
    only = property_key_ensure(property_id=plain, actor=SYSTEM)
    with django_assert_num_queries(1):
        signers = property_signing_keys([rotated, plain, unkeyed])
    assert {p: [k.kid for k in keys] for p, keys in signers.items()} == {
        str(rotated): [second.kid, first.kid],
        str(plain): [only.kid],
    }
    with django_assert_num_queries(1):
        active = property_active_signing_keys([rotated, plain, unkeyed])
    assert list(active) == [str(rotated), str(plain)]  # in the order of the active keys' ids
    assert {p: k.kid for p, k in active.items()} == {str(rotated): second.kid, str(plain): only.kid}

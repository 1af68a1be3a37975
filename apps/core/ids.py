"""Primary keys: UUIDv7 (RFC 9562), time-ordered so keyset paging by pk sees new rows last."""

import uuid

import uuid_utils.compat


def uuid7() -> uuid.UUID:
    """A new UUIDv7 as a standard `uuid.UUID` (36 characters, as the spec's ids)."""
    return uuid_utils.compat.uuid7()

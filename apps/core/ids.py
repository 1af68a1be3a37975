"""Primary keys: UUIDv7 (RFC 9562), time-ordered so keyset paging by pk sees new rows last."""

import uuid

import uuid_utils.compat
from django.apps import apps
from django.db import models


def uuid7() -> uuid.UUID:
    """A new UUIDv7 as a standard `uuid.UUID` (36 characters, as the spec's ids)."""
    return uuid_utils.compat.uuid7()


def id_in_use(value: uuid.UUID) -> bool:
    """True when any row of any model keyed by a UUID already has `value` as its primary key.

    Ids are unique across types: a caller-chosen id (a lock's burned-in `lockId`) must not
    equal a property's, a person's or an event's id, or a log line, an event filter or an
    actor label naming it would name two things. One UNION query over every such table.
    """
    tables = [
        model._default_manager.filter(pk=value).values_list("pk")
        for model in apps.get_models()
        if isinstance(model._meta.pk, models.UUIDField) and not model._meta.proxy
    ]
    return bool(tables) and tables[0].union(*tables[1:], all=True).exists()

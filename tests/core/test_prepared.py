"""core.prepared.PreparedSelect: compiled once, run with each call's own values, the rows as the
ORM builds them (select_related objects included), and no row for a value that cannot match."""

import datetime as dt
import gc
import threading
import uuid
import weakref

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts import selectors as account_selectors
from apps.accounts.models import UserToken
from apps.accounts.services.sign_in import user_token_create
from apps.core.prepared import PreparedSelect
from apps.properties import selectors as property_selectors
from apps.properties.models import Property
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 9"


def _token(email: str) -> UserToken:
    d.user_create(email=email, password=PASSWORD)
    token, _ = user_token_create(email=email, password=PASSWORD)
    return token


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_each_call_runs_its_own_values_and_loads_the_related_row_in_the_same_query():
    ann, ben = _token("ann@example.test"), _token("ben@example.test")
    found = []
    with CaptureQueriesContext(connection) as queries:
        for token in (ann, ben, ann):
            found.append(account_selectors.user_token_find(token.prefix))
            assert found[-1].user.email  # loaded with the token: no query of its own
    assert len(queries.captured_queries) == 3
    assert [t.pk for t in found] == [ann.pk, ben.pk, ann.pk]
    for token in found:
        expected = UserToken.objects.select_related("user").get(pk=token.pk)
        assert _fields(token) == _fields(expected)
        assert _fields(token.user) == _fields(expected.user)
    assert account_selectors.user_token_find("nosuchprefix") is None


def test_the_clock_is_a_value_too_an_expired_or_revoked_token_is_not_found():
    token = _token("cy@example.test")
    UserToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert account_selectors.user_token_find(token.prefix) is None
    UserToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + dt.timedelta(hours=1))
    assert account_selectors.user_token_find(token.prefix).pk == token.pk
    UserToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert account_selectors.user_token_find(token.prefix) is None


def test_a_uuid_given_as_text_or_malformed():
    prop = d.property_create(display_name="Harbor View")
    assert property_selectors.property_get(property_id=str(prop.pk)).display_name == "Harbor View"
    assert property_selectors.property_get(property_id=prop.pk).pk == prop.pk
    assert property_selectors.property_get(property_id="not-a-uuid") is None
    assert property_selectors.property_get(property_id=uuid.uuid4()) is None


def test_a_value_the_orm_rewrites_is_refused_when_prepared():
    """A LIKE pattern wraps the value: its stand-in cannot be found among the parameters."""
    like = PreparedSelect(lambda name: Property.objects.filter(display_name__icontains=name), str)
    with pytest.raises(ValueError, match="must appear once"):
        like.first("Harbor")


@pytest.mark.django_db(transaction=True)
def test_a_thread_that_ends_leaves_no_compiled_query_behind():
    """runserver answers each request on a new thread, with a connection of its own: what was
    compiled for that connection goes with the thread, or every request would keep one."""
    prop = d.property_create(display_name="Harbour View")
    connections_seen = []

    def request():
        assert property_selectors.property_get(property_id=prop.pk) == prop
        connections_seen.append(weakref.ref(connections["default"]))
        connections.close_all()

    for _ in range(3):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    gc.collect()
    assert len(connections_seen) == 3
    assert [ref() for ref in connections_seen] == [None, None, None]


def test_a_prepared_update_sets_its_fields_only_where_every_condition_holds():
    from apps.core.prepared import PreparedUpdate

    token = _token("dee@example.test")
    touch = PreparedUpdate(
        UserToken, where=("pk", "revoked_at__isnull", "expires_at__gt", "last_used_at"), fields=("last_used_at",)
    )
    now = timezone.now()
    later = now + dt.timedelta(days=400)  # after the token expires: the condition fails
    assert touch.run((token.pk, later, None), (now,)) == 0  # (None compares as IS NULL, through the ORM)
    assert touch.run((token.pk, now, None), (now,)) == 1
    token.refresh_from_db()
    assert token.last_used_at == now
    assert touch.run((token.pk, now, None), (now,)) == 0  # last_used_at is no longer NULL
    assert touch.run((token.pk, now, now), (now + dt.timedelta(seconds=5),)) == 1  # = a value, by raw SQL
    UserToken.objects.filter(pk=token.pk).update(revoked_at=now)
    assert touch.run((token.pk, now, now + dt.timedelta(seconds=5)), (now,)) == 0
    assert touch.run((uuid.uuid4(), now, None), (now,)) == 0

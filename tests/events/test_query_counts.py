"""listEvents runs a fixed number of SQL queries per page, whatever the data size and the page
size (the habit of tests/api/test_directory_query_counts.py)."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.principal import Grant
from apps.events.models import Event
from tests.events.helpers import event_add
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

LIST = "/api/v1/events"
SMALL, LARGE = 5, 120
# The key and its grants (2) + the page (1). Nothing is prefetched: an event has no relations.
BUDGET = 2 + 1


def _count(client, **params) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        data = d.ok(client.get(LIST, params))
    return len(ctx.captured_queries), len(data["events"])


def _grow(n: int, prop) -> None:
    for i in range(n):
        event_add("lock.installed", property_id=prop, lock_id=uuid.uuid4(), payload={"n": i})


@pytest.mark.parametrize("scoped", [False, True], ids=["unscoped", "property-scoped"])
@pytest.mark.parametrize("params", [{}, {"eventSource": "lock", "processed": "false", "failing": "false"}])
def test_list_events_is_flat(client_for, scoped, params):
    prop = d.property_create().pk
    client, _ = client_for(Grant("owner", property_id=prop) if scoped else "owner")
    filters = {"propertyId": str(prop), **params}
    Event.objects.filter(property_id=prop).delete()  # the property's own creation events
    _grow(SMALL, prop)
    client.get(LIST)  # warm the key (lastUsedAt UPDATE)
    small, n_small = _count(client, **filters)
    _grow(LARGE - SMALL, prop)
    _grow(30, uuid.uuid4())  # another property's events: filtered out, never counted
    large_10, n_10 = _count(client, pageSize=10, **filters)
    large_100, n_100 = _count(client, pageSize=100, **filters)
    assert (n_small, n_10, n_100) == (SMALL, 10, 100)
    assert small == large_10 == large_100 <= BUDGET, (small, large_10, large_100)

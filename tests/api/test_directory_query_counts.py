"""The list operations of 1–25 run a fixed number of SQL queries per page, whatever the
data size and the page size (NetBox-style baseline; issue 4: "constant whatever the page
size and the data size").

Each list is measured with 5 rows, then with 120 rows at pageSize 10 and 100: the three
counts must be equal and within the budget. Every row carries what its serializer reads
(external refs, access managers, grants, sub-areas, other memberships), so a missing
prefetch shows up as a count that grows. The key is used once before measuring: its first
use records lastUsedAt (one UPDATE a minute).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts import services as account_services
from apps.core.actors import SYSTEM
from apps.core.models import ExternalRef
from apps.core.principal import Grant
from apps.firmware.assignment_cache import assignment_cache_clear
from tests.factories import directory as d
from tests.factories.accounts import api_key_with

pytestmark = pytest.mark.django_db

SMALL, LARGE = 5, 120

# Every count starts with authentication: the key, its grants (2).
BUDGET = {
    # page + access managers + external refs + the page's firmware assignments (private)
    "listProperties": 2 + 3 + 1,
    # page (with area group) + refs + sub-areas + locks + firmware assignments; no property
    # check: a page with rows shows the property is live (AreaListCreateApi.get)
    "listAreas": 2 + 4 + 1,
    # property exists + page + refs
    "listUserGroups": 2 + 1 + 2,
    # group check (+ refs) + page + grants + refs + the page's deviceIds
    "listUsersForGroup": 2 + 2 + 3 + 1,
    # user check (+ grants, refs) + page + refs
    "listGroupsForUser": 2 + 3 + 2,
}


def _client(*grants) -> APIClient:
    _, secret = api_key_with(*grants)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _ref(entity):
    ExternalRef.objects.create(
        entity=entity, source="crm", external_id=f"{entity.pk}", sync_direction="fromExternalToInternal"
    )


def _count(client, url, **params) -> tuple[int, int]:
    """(queries, items) for one page of a list, with the firmware assignments read from the
    database (each process keeps them per property while they are unchanged: a page of
    properties not yet kept reads them, one query; firmware.assignment_cache)."""
    assignment_cache_clear()
    with CaptureQueriesContext(connection) as ctx:
        data = d.ok(client.get(url, params))
    (items,) = [v for k, v in data.items() if k != "pageToken"]
    return len(ctx.captured_queries), len(items)


def _assert_flat(client, url, grow, budget, *, already: int = 0):
    """`grow(n)` adds n listed rows; `already` rows are listed before any growth."""
    grow(SMALL - already)
    client.get(url)  # warm the key (lastUsedAt UPDATE)
    small, n_small = _count(client, url)
    assert n_small == SMALL
    grow(LARGE - SMALL)
    large_10, n_10 = _count(client, url, pageSize=10)
    large_100, n_100 = _count(client, url, pageSize=100)
    assert (n_10, n_100) == (10, 100)
    assert small == large_10 == large_100, f"queries grow with the data: {small}, {large_10}, {large_100}"
    assert small <= budget, f"{small} queries per page, budget {budget}"


def test_list_properties():
    client = _client("owner")
    manager = d.user_create()

    def grow(n):
        for _ in range(n):
            _ref(d.property_create(access_managers=[manager, d.user_create()]))

    _assert_flat(client, "/api/v1/properties", grow, BUDGET["listProperties"])


def test_list_properties_with_a_property_scoped_key():
    mine = d.property_create(access_managers=[d.user_create()])
    client = _client(Grant("support", property_id=mine.pk))
    client.get("/api/v1/properties")
    few, n_few = _count(client, "/api/v1/properties")
    for _ in range(30):
        _ref(d.property_create())
    many, n_many = _count(client, "/api/v1/properties", pageSize=100)
    assert n_few == n_many == 1
    assert few == many <= BUDGET["listProperties"]


def test_list_areas():
    prop = d.property_create()
    client = _client(Grant("owner", property_id=prop.pk))
    tops = []

    def grow(n):
        for i in range(n):
            parent = tops[-1] if tops and i % 2 else None  # half of them are sub-areas
            area = d.area_create(prop, parent=parent)
            _ref(area)
            if parent is None:
                tops.append(area)

    _assert_flat(client, f"/api/v1/properties/{prop.pk}/areas", grow, BUDGET["listAreas"])


def test_list_user_groups():
    prop = d.property_create()  # comes with its Residents and Staff groups
    client = _client(Grant("owner", property_id=prop.pk))

    def grow(n):
        for i in range(n):
            _ref(d.area_create(prop).area_user_group if i % 2 else d.group_create(prop))

    _assert_flat(client, f"/api/v1/properties/{prop.pk}/groups", grow, BUDGET["listUserGroups"], already=2)


def test_list_users_for_group():
    prop = d.property_create()
    group = d.group_create(prop)
    client = _client(Grant("owner", property_id=prop.pk))

    def grow(n):
        for _ in range(n):
            user = d.user_create()
            account_services.user_update(user=user, grants=[Grant("support", property_id=prop.pk)], actor=SYSTEM)
            _ref(user)
            d.member_add(group, user)
            d.member_add(d.property_group(prop), user)  # other memberships must not duplicate rows

    _assert_flat(client, f"/api/v1/properties/{prop.pk}/groups/{group.pk}/users", grow, BUDGET["listUsersForGroup"])


@pytest.mark.parametrize("scoped", [False, True], ids=["unscoped", "property-scoped"])
def test_list_groups_for_user(scoped):
    user = d.user_create()
    here, there = d.property_create(), d.property_create()
    client = _client(Grant("owner", property_id=here.pk) if scoped else "owner")

    def grow(n):
        for i in range(n):
            _ref(d.group_create(here if scoped or i % 2 == 0 else there, members=[user]))

    _assert_flat(client, f"/api/v1/users/{user.pk}/groups", grow, BUDGET["listGroupsForUser"])


def test_list_groups_for_user_at_property():
    user = d.user_create()
    prop = d.property_create()
    client = _client(Grant("owner", property_id=prop.pk))

    def grow(n):
        for _ in range(n):
            _ref(d.group_create(prop, members=[user]))
            d.group_create(d.property_create(), members=[user])  # elsewhere: not listed here

    # + the property check (+ managers, refs)
    _assert_flat(client, f"/api/v1/users/{user.pk}/properties/{prop.pk}/groups", grow, BUDGET["listGroupsForUser"] + 3)

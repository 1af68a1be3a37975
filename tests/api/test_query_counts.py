"""List endpoints keep a flat number of SQL queries as data grows (NetBox baseline habit)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories.accounts import api_key_with

pytestmark = pytest.mark.django_db


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_api_keys_query_count_is_flat(owner_client):
    for n in range(3):
        api_key_with("support", name=f"few{n}")
    _queries(owner_client, "/api/v1/api-keys")  # first use records lastUsedAt (one UPDATE a minute)
    few = _queries(owner_client, "/api/v1/api-keys")
    for n in range(40):
        api_key_with("support", "install-lock", name=f"many{n}")
    many = _queries(owner_client, "/api/v1/api-keys")
    assert many == few
    assert many <= 4  # auth: key + its grants; the page + its grants

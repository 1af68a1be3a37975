"""list api-keys reads a page's grants in one query of bare values (issue 17): the bodies must
be what the grant rows say, in grant order, in the list and for one key alike."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import CredentialVersion, PermissionGrant
from apps.core.principal import Grant
from tests.factories.accounts import api_key_client, api_key_with
from tests.factories.directory import property_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _version_row():
    """A transactional test elsewhere in this process flushes the tables, the version row
    too (then every request looks its key up); the migration's row, again."""
    CredentialVersion.objects.get_or_create(pk=1)


def _expected(api_key) -> list[dict]:
    return [
        {
            "permission": g.permission,
            "propertyId": str(g.property_id) if g.property_id else None,
            "userId": str(g.scope_user_id) if g.scope_user_id else None,
        }
        for g in PermissionGrant.objects.filter(api_key=api_key).order_by("id")
    ]


def test_each_key_lists_its_own_grants_in_grant_order_in_the_list_and_alone():
    client, owner = api_key_client("owner")
    prop = property_create()
    several, _ = api_key_with(Grant("support"), Grant("install-lock", property_id=prop.pk), Grant("owner"))
    none, _ = api_key_with(name="no grants")
    listed = {k["apiKeyId"]: k["apiPermissions"] for k in client.get("/api/v1/api-keys").json()["data"]["apiKeys"]}
    for api_key in (owner, several, none):
        assert listed[str(api_key.pk)] == _expected(api_key)
        alone = client.get(f"/api/v1/api-keys/{api_key.pk}").json()["data"]["apiPermissions"]
        assert alone == _expected(api_key)
    assert len(listed[str(several.pk)]) == 3 and listed[str(none.pk)] == []


def test_a_page_reads_its_grants_without_a_row_object_per_grant():
    client, _ = api_key_client("owner")
    for n in range(5):
        api_key_with("support", "install-lock", name=f"k{n}")
    client.get("/api/v1/api-keys")
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/api-keys")
    grant_reads = [q["sql"] for q in queries.captured_queries if "accounts_permissiongrant" in q["sql"]]
    assert len(grant_reads) == 1
    selected = grant_reads[0].split(" FROM ")[0]
    assert '"accounts_permissiongrant"."id"' not in selected  # bare values, not whole rows


def test_an_unknown_key_is_still_404():
    client, _ = api_key_client("owner")
    assert client.get(f"/api/v1/api-keys/{uuid.uuid4()}").status_code == 404

"""The per-process cache of authenticated API keys (accounts.credential_cache): a repeat
request skips the key lookup, and a revocation or a narrowed grant is refused on the very next
request, in this process and in every gunicorn worker (the cross-process tests are in
test_credential_cache_gunicorn.py)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.credential_cache import credential_cache_clear
from apps.accounts.models import CredentialVersion
from apps.accounts.services.credential_version import credential_version_bump
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from tests.factories.accounts import api_key_with

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys"


@pytest.fixture(autouse=True)
def _empty_cache():
    # A transactional test elsewhere in this process flushes the tables, the version row too
    # (then every request takes the uncached path, correctly); the migration's row, again.
    CredentialVersion.objects.get_or_create(pk=1)
    credential_cache_clear()
    yield
    credential_cache_clear()


def _get(secret: str, url: str = URL):
    return APIClient().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")


def _tables_read(secret: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert _get(secret).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_a_repeat_request_does_not_look_the_key_up_again():
    _, secret = api_key_with("owner")
    _get(secret)  # first use: the lookup, and the lastUsedAt write
    first = _tables_read(secret)
    assert any("accounts_credentialversion" in sql for sql in first)
    # The page itself reads accounts_apikey; the lookup is the query filtering on the prefix.
    assert not any('"prefix" =' in sql for sql in first), first


def test_a_revoked_key_is_refused_on_the_next_request():
    api_key, secret = api_key_with("owner")
    assert _get(secret).status_code == 200
    assert _get(secret).status_code == 200  # served from the cache
    services.api_key_revoke(api_key=api_key, actor=SYSTEM)
    assert _get(secret).status_code == 401


def test_a_narrowed_key_is_refused_on_the_next_request():
    api_key, secret = api_key_with("owner")
    assert _get(secret).status_code == 200
    assert _get(secret).status_code == 200
    services.api_key_update(api_key=api_key, display_name="narrowed", grants=[Grant("support")], actor=SYSTEM)
    assert _get(secret).status_code == 403


def test_a_wrong_secret_with_a_kept_prefix_is_refused():
    api_key, secret = api_key_with("owner")
    assert _get(secret).status_code == 200
    assert _get(f"khk_{api_key.prefix}_{'x' * 43}").status_code == 401
    assert _get(secret).status_code == 200


def test_a_change_rolled_back_keeps_nothing_wrong():
    api_key, secret = api_key_with("owner")
    assert _get(secret).status_code == 200
    with pytest.raises(RuntimeError), transaction.atomic():
        services.api_key_revoke(api_key=api_key, actor=SYSTEM)
        raise RuntimeError("rolled back")
    assert _get(secret).status_code == 200


def test_a_version_lower_than_seen_forgets_every_kept_key():
    """A database restored from a backup: its version is older than what the process saw, so
    a key revoked after the backup was taken (and kept) must not come back."""
    api_key, secret = api_key_with("owner")
    assert _get(secret).status_code == 200
    CredentialVersion.objects.filter(pk=1).update(value=100)
    assert _get(secret).status_code == 200  # kept under 100
    CredentialVersion.objects.filter(pk=1).update(value=5)  # the "restore"
    api_key.grants.all().delete()  # what the restored database says, without a bump
    assert _get(secret).status_code == 403


def test_without_the_version_row_every_request_looks_the_key_up():
    api_key, secret = api_key_with("owner")
    CredentialVersion.objects.all().delete()
    assert _get(secret).status_code == 200
    api_key.grants.all().delete()  # no bump: only the uncached path can see it
    assert _get(secret).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_bump_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="transaction"):
        credential_version_bump()

"""manage.py rotate_kek rewraps integration credentials too, so removing the old KEK is safe."""

import io

import pytest
from django.core.management import call_command

from apps.integrations import services
from apps.integrations.models import IntegrationAccount
from tests.factories.directory import property_create
from tests.factories.integrations import APIKEY, lockt_account
from tests.keys.conftest import KEK_1, KEK_2

pytestmark = pytest.mark.django_db


def test_rotation_rewraps_credentials_and_the_old_kek_can_go(settings):
    settings.KEYHOUSE_KEK_RING, settings.KEYHOUSE_KEK_CURRENT = {1: KEK_1}, 1
    accounts = [lockt_account(property_create(), base_url="https://cloudapi.lockt.com/api/v1") for _ in range(2)]
    settings.KEYHOUSE_KEK_RING, settings.KEYHOUSE_KEK_CURRENT = {1: KEK_1, 2: KEK_2}, 2
    dry = io.StringIO()
    call_command("rotate_kek", "--dry-run", stdout=dry)
    assert "to rewrap: kek 1: 2" in dry.getvalue()
    out = io.StringIO()
    call_command("rotate_kek", stdout=out, stderr=out)
    assert "rewrapped: 2" in out.getvalue() and "older keks can be removed" in out.getvalue()
    settings.KEYHOUSE_KEK_RING = {2: KEK_2}  # the old KEK is gone
    for account in accounts:
        account.refresh_from_db()
        assert account.kek_id == 2
        assert services.integration_account_credentials(account=account)["apikey"] == APIKEY


def test_credentials_under_a_lost_kek_are_named_and_the_others_still_move(settings):
    settings.KEYHOUSE_KEK_RING, settings.KEYHOUSE_KEK_CURRENT = {1: KEK_1}, 1
    kept = lockt_account(property_create(), base_url="https://a.example/api/v1")
    lost = lockt_account(property_create(), base_url="https://b.example/api/v1")
    IntegrationAccount.objects.filter(pk=lost.pk).update(kek_id=9)
    settings.KEYHOUSE_KEK_RING, settings.KEYHOUSE_KEK_CURRENT = {1: KEK_1, 2: KEK_2}, 2
    out = io.StringIO()
    with pytest.raises(Exception, match="1 secret"):
        call_command("rotate_kek", stdout=out, stderr=out)
    assert f"integration account {lost.pk}: kekId 9 is not in KEYHOUSE_KEK_RING" in out.getvalue()
    kept.refresh_from_db()
    assert kept.kek_id == 2

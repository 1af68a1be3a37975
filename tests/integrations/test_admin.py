"""Staff admin: link an account with credentials it never shows back, see status and last run,
Poll now, the runs list, delete."""

import re

import pytest

from apps.integrations import services
from apps.integrations.models import IntegrationAccount, SyncRun
from tests.factories.directory import property_create
from tests.factories.integrations import APIKEY, APIUSER, lockt_account
from tests.integrations.loopback import Answer

pytestmark = pytest.mark.django_db

ACCOUNTS = "/admin/integrations/integrationaccount/"


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_staff_add_an_account_its_credentials_stored_encrypted_never_shown(staff_client):
    prop = property_create(display_name="Harbour House")
    response = staff_client.post(
        f"{ACCOUNTS}add/",
        {
            "kind": "lockt",
            "property": str(prop.pk),
            "display_name": "Harbour Lockt",
            "base_url": "",
            "poll_interval_seconds": "300",
            "enabled": "on",
            "credential_apiuser": APIUSER,
            "credential_apikey": APIKEY,
        },
    )
    assert response.status_code == 302, _text(response)
    account = IntegrationAccount.objects.get()
    assert account.base_url == "https://cloudapi.lockt.com/api/v1" and account.property == prop
    assert services.integration_account_credentials(account=account) == {"apiuser": APIUSER, "apikey": APIKEY}
    page = staff_client.get(f"{ACCOUNTS}{account.pk}/change/").content.decode()
    assert APIKEY not in page and APIUSER not in page and "Harbour Lockt" in page


def test_a_missing_credential_is_a_form_error_and_nothing_is_stored(staff_client):
    prop = property_create()
    response = staff_client.post(
        f"{ACCOUNTS}add/",
        {
            "kind": "lockt",
            "property": str(prop.pk),
            "display_name": "x",
            "poll_interval_seconds": "300",
            "credential_apiuser": APIUSER,
        },
    )
    assert response.status_code == 200 and "This field is required." in _text(response)
    assert not IntegrationAccount.objects.exists()


def test_change_with_empty_credentials_keeps_them_and_can_disable(staff_client):
    account = lockt_account(property_create(), base_url="https://cloudapi.lockt.com/api/v1")
    response = staff_client.post(
        f"{ACCOUNTS}{account.pk}/change/",
        {"display_name": "Renamed", "base_url": account.base_url, "poll_interval_seconds": "900"},
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.display_name, account.poll_interval_seconds, account.status) == ("Renamed", 900, "disabled")
    assert services.integration_account_credentials(account=account)["apikey"] == APIKEY


def test_list_shows_status_last_run_and_error_and_poll_now_polls(
    staff_client, remote, django_capture_on_commit_callbacks
):
    remote.answer("/api/v1/ping", Answer(401))
    account = lockt_account(property_create(display_name="Harbour House"), base_url=f"{remote.url}/api/v1")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(ACCOUNTS, {"action": "poll_now", "_selected_action": [str(account.pk)]})
    assert response.status_code == 302
    listing = _text(staff_client.get(ACCOUNTS))
    assert "Harbour House" in listing and "Needs new credentials" in listing
    assert "Failed: 0 fetched" in listing and "HTTP 401" in listing
    runs = _text(staff_client.get(f"/admin/integrations/syncrun/?account__id__exact={account.pk}"))
    assert "GET ping: HTTP 401" in runs and "Harbour House" in runs
    assert SyncRun.objects.get(account=account).trigger.startswith("staff:")


def test_delete_goes_through_the_service(staff_client):
    account = lockt_account(property_create(), base_url="https://cloudapi.lockt.com/api/v1")
    response = staff_client.post(f"{ACCOUNTS}{account.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not IntegrationAccount.objects.exists()
    from apps.events.models import Event

    assert Event.objects.filter(event_name="integration_account.deleted").count() == 1
